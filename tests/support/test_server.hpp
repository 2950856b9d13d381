// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hb::test {

// A real HTTP server on 127.0.0.1 for tests, benchmarks and the demo (cpp-httplib, running in a
// background thread from construction until destruction). Endpoints:
//   GET /ok             200 "ok"
//   GET /status/<code>  that status, body "status <code>"
//   GET /flag?path=P    200 "up" while the file P exists, else 503 (a service a test "restarts")
//   GET /slow/<ms>      waits <ms> milliseconds, then 200 "slow"
//   GET /body/<text>    200 with <text> as the body
//   GET /bytes/<n>      200 with <n> bytes of 'x'
//   GET /redirect/<n>   302 to /redirect/<n-1>, and /redirect/0 to /ok
//   GET /endless        200 with a chunked body that never ends
//   GET /hang           never answers (until the server stops)
//   GET /count          200 with the number of requests handled so far, this one included
//   GET /header/<name>  200 with the value of request header <name> (404 when absent)
//   any /echo           200 "<METHOD> <request body>"
//   any /redirect-to?url=<url>[&code=<status>][&delay=<ms>]
//                       <status> (default 302) with `Location: <url>`, after <delay> ms
//   any /record/<anything>[?status=<code>][&retry_after=<value>][&body=<text>]
//                       200 "recorded" (or <code> with `Retry-After: <value>` and <text>); the
//                       request is kept for recorded()
// HEAD is served by the GET handlers. set_status() makes any path answer a fixed status instead.
class TestHttpServer {
public:
  // A request /record/... received, as it arrived.
  struct Recorded {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> headers; // names as sent
    std::string body;

    // Returns the value of header `name` (any case), or "" when it was not sent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
  };

  struct Options {
    int port = 0;             // 0: an ephemeral port
    std::size_t threads = 64; // each open connection holds one thread
    // How long an idle keep-alive connection is kept, in whole seconds. 0 is racy: httplib then
    // drops a new connection whose request takes more than ~10 ms to arrive.
    int keep_alive_seconds = 1;
    // Serve https with a self-signed certificate for 127.0.0.1 and localhost (made once per
    // process with the openssl command); ca_file() is then the file that makes it trusted.
    bool tls = false;
  };

  // Starts listening and returns once the server accepts connections; throws std::runtime_error
  // when the port cannot be bound, the certificate cannot be made, or the server does not start.
  TestHttpServer();
  explicit TestHttpServer(Options options);
  // Stops the server (see stop()).
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const;
  // The self-signed certificate of a TLS server, to use as a CA bundle; "" without TLS.
  std::string ca_file() const;
  // "http://127.0.0.1:PORT/path" ("https://..." with TLS); `path` may omit the leading '/'.
  std::string url(std::string_view path) const;
  // Requests received for exactly `path` (no query string), including overridden ones.
  std::size_t hits(std::string_view path) const;
  std::size_t total_hits() const;
  // The requests to /record/... received so far, oldest first.
  std::vector<Recorded> recorded() const;
  // Distinct client connections seen so far (by remote port), to observe connection reuse.
  std::size_t connections() const;

  // From now on `path` answers `code` (body "overridden"), whatever its handler would do.
  void set_status(const std::string& path, int code);
  void clear_status(const std::string& path);

  // Stops accepting at once and returns within about 50 ms. Handlers notice the stop within
  // 50 ms; connections a client keeps open idle (a thread's cached libcurl handle) keep their
  // server thread up to keep_alive_seconds longer, so the server finishes in the background
  // rather than making every test wait for them. Idempotent; the destructor calls it.
  void stop();

private:
  struct Impl;
  std::shared_ptr<Impl> m_impl; // shared with the server thread, which may outlive this object
};

// Returns a port on 127.0.0.1 that nothing listens on (bound, then closed), for
// "connection refused" tests. Throws std::runtime_error if no socket can be bound.
int closed_port();

} // namespace hb::test
