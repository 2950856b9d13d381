// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace hb::test {

// A TCP server on 127.0.0.1 (ephemeral port) that answers every connection with one fixed
// misbehaviour, to test how HTTP clients cope with broken servers: cpp-httplib (TestHttpServer)
// only ever speaks correct HTTP. Each connection is served by its own thread from construction
// until stop(); nothing it does blocks stop() for more than about 50 ms.
class RawTcpServer {
public:
  enum class Behaviour {
    reset,            // reads the request, then resets the connection (RST, no reply)
    empty_reply,      // reads the request, then closes cleanly without sending a byte
    bad_status_code,  // "HTTP/1.1 abc\r\n\r\n", then closes
    not_http,         // "FOO\r\n", then closes
    binary,           // 256 bytes 0x00..0xff, then closes
    odd_status,       // "HTTP/1.1 999 Odd" with a small body: well-formed, unusual code
    close_in_headers, // a status line and half a header, then closes
    short_body,       // "Content-Length: 1000" and 10 bytes of body, then closes
    bad_chunked,      // "Transfer-Encoding: chunked" with a chunk size that is not hex
    endless_headers,  // a status line, then header lines forever, never the blank line
    trickle,          // a valid response, one byte every trickle interval, forever
    silent,           // accepts, then neither reads nor writes until stopped
    huge_header,      // a 200 whose one header line is 10 MiB long, then a body "ok"
  };

  // Starts listening; throws std::runtime_error when no socket can be bound.
  explicit RawTcpServer(Behaviour behaviour,
                        std::chrono::milliseconds trickle_interval = std::chrono::seconds(1));
  // Stops the server (see stop()).
  ~RawTcpServer();
  RawTcpServer(const RawTcpServer&) = delete;
  RawTcpServer& operator=(const RawTcpServer&) = delete;

  int port() const;
  // "http://127.0.0.1:PORT/path"; `path` may omit the leading '/'.
  std::string url(std::string_view path = "/") const;
  // Connections accepted so far.
  std::size_t connections() const;

  // Closes the listening socket and every connection, and joins all threads. Idempotent.
  void stop();

  // The name of a behaviour, for test messages: "reset", "bad_status_code", ...
  static std::string_view name(Behaviour behaviour);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace hb::test
