// SPDX-License-Identifier: MIT
#include "support/raw_server.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hb::test {
namespace {

constexpr int k_poll_ms = 50;
constexpr auto k_read_limit = std::chrono::seconds(5);

using Clock = std::chrono::steady_clock;

} // namespace

struct RawTcpServer::Impl {
  Behaviour behaviour;
  std::chrono::milliseconds trickle_interval;
  int listen_fd = -1;
  int stop_read = -1; // readable once stop() was called: every wait polls it
  int stop_write = -1;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> accepted{0};
  std::thread acceptor;
  std::mutex mutex;
  std::vector<std::thread> workers;
  bool stopped = false;

  // Waits up to `ms` for `fd` to be ready for `events`; false when stopping or on timeout.
  bool wait_for(int fd, short events, int ms) const
  {
    pollfd fds[2] = {{fd, events, 0}, {stop_read, POLLIN, 0}};
    const int n = ::poll(fds, 2, ms);
    if (n <= 0 || (fds[1].revents & POLLIN) != 0) {
      return false;
    }
    return fds[0].revents != 0;
  }

  // Sleeps `ms`; returns false when stop() came first.
  bool pause(std::chrono::milliseconds ms) const
  {
    pollfd fd{stop_read, POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(ms.count())) == 0;
  }

  // Reads until the end of the request headers, EOF, an error, stop() or k_read_limit.
  void read_request(int fd) const
  {
    std::string request;
    const auto end = Clock::now() + k_read_limit;
    char buffer[4096];
    while (!stopping && Clock::now() < end && request.find("\r\n\r\n") == std::string::npos) {
      if (!wait_for(fd, POLLIN, k_poll_ms)) {
        continue;
      }
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        return;
      }
      if (n > 0) {
        request.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }

  // Sends all of `data`; false when the peer went away or stop() was called.
  bool send_all(int fd, std::string_view data) const
  {
    while (!data.empty()) {
      if (stopping) {
        return false;
      }
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        wait_for(fd, POLLOUT, k_poll_ms);
      } else {
        return false;
      }
    }
    return true;
  }

  // Ends the connection with a FIN after the client has had its chance to read everything:
  // closing with unread input would make the kernel send a RST instead.
  void close_gracefully(int fd) const
  {
    ::shutdown(fd, SHUT_WR);
    const auto end = Clock::now() + std::chrono::seconds(2);
    char buffer[4096];
    while (!stopping && Clock::now() < end) {
      if (!wait_for(fd, POLLIN, k_poll_ms)) {
        continue;
      }
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        break;
      }
    }
    ::close(fd);
  }

  void reset(int fd) const
  {
    linger option{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
    ::close(fd);
  }

  void serve(int fd) const
  {
    switch (behaviour) {
    case Behaviour::reset:
      read_request(fd);
      reset(fd);
      return;
    case Behaviour::empty_reply:
      read_request(fd);
      close_gracefully(fd);
      return;
    case Behaviour::bad_status_code:
      read_request(fd);
      send_all(fd, "HTTP/1.1 abc\r\n\r\n");
      close_gracefully(fd);
      return;
    case Behaviour::not_http:
      read_request(fd);
      send_all(fd, "FOO\r\n");
      close_gracefully(fd);
      return;
    case Behaviour::binary: {
      read_request(fd);
      std::string bytes;
      for (int i = 0; i < 256; ++i) {
        bytes += static_cast<char>(i);
      }
      send_all(fd, bytes);
      close_gracefully(fd);
      return;
    }
    case Behaviour::odd_status:
      read_request(fd);
      send_all(fd, "HTTP/1.1 999 Odd\r\nContent-Length: 3\r\nConnection: close\r\n\r\nodd");
      close_gracefully(fd);
      return;
    case Behaviour::close_in_headers:
      read_request(fd);
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Ty");
      close_gracefully(fd);
      return;
    case Behaviour::short_body:
      read_request(fd);
      send_all(fd,
               "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789");
      close_gracefully(fd);
      return;
    case Behaviour::bad_chunked:
      read_request(fd);
      send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   "ZZ\r\nhello\r\n0\r\n\r\n");
      close_gracefully(fd);
      return;
    case Behaviour::endless_headers: {
      read_request(fd);
      if (!send_all(fd, "HTTP/1.1 200 OK\r\n")) {
        break;
      }
      std::string batch;
      for (int i = 0; i < 256; ++i) {
        batch += fmt::format("X-Filler-{}: {}\r\n", i, std::string(20, 'a'));
      }
      // About 8 MB/s: far past any sane header limit within a second, without burning a core.
      while (send_all(fd, batch) && pause(std::chrono::milliseconds(1))) {
      }
      break;
    }
    case Behaviour::trickle: {
      read_request(fd);
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'x');
      for (char c : response) {
        if (!send_all(fd, std::string_view(&c, 1)) || !pause(trickle_interval)) {
          break;
        }
      }
      break;
    }
    case Behaviour::silent:
      while (pause(std::chrono::milliseconds(k_poll_ms))) {
      }
      break;
    case Behaviour::huge_header: {
      read_request(fd);
      static const std::string k_response = "HTTP/1.1 200 OK\r\nX-Huge: " +
                                            std::string(10 * 1024 * 1024, 'a') +
                                            "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      if (send_all(fd, k_response)) {
        close_gracefully(fd);
        return;
      }
      break;
    }
    }
    ::close(fd);
  }

  void accept_loop()
  {
    while (!stopping) {
      if (!wait_for(listen_fd, POLLIN, k_poll_ms)) {
        continue;
      }
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        continue;
      }
      ++accepted;
      std::lock_guard<std::mutex> lock(mutex);
      workers.emplace_back([this, fd] { serve(fd); });
    }
  }
};

RawTcpServer::RawTcpServer(Behaviour behaviour, std::chrono::milliseconds trickle_interval)
    : m_impl(std::make_unique<Impl>())
{
  m_impl->behaviour = behaviour;
  m_impl->trickle_interval = trickle_interval;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("RawTcpServer: pipe: ") + std::strerror(errno));
  }
  m_impl->stop_read = pipe_fds[0];
  m_impl->stop_write = pipe_fds[1];

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("RawTcpServer: socket: ") + std::strerror(errno));
  }
  m_impl->listen_fd = fd;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    stop();
    throw std::runtime_error("RawTcpServer: bind: " + error);
  }
  m_impl->port = ntohs(address.sin_port);
  m_impl->acceptor = std::thread([impl = m_impl.get()] { impl->accept_loop(); });
}

RawTcpServer::~RawTcpServer()
{
  stop();
}

int RawTcpServer::port() const
{
  return m_impl->port;
}

std::string RawTcpServer::url(std::string_view path) const
{
  const std::string_view slash = !path.empty() && path.front() == '/' ? "" : "/";
  return fmt::format("http://127.0.0.1:{}{}{}", m_impl->port, slash, path);
}

std::size_t RawTcpServer::connections() const
{
  return m_impl->accepted.load();
}

void RawTcpServer::stop()
{
  Impl& impl = *m_impl;
  if (impl.stopped) {
    return;
  }
  impl.stopped = true;
  impl.stopping = true;
  if (impl.stop_write >= 0) {
    const char byte = 0;
    [[maybe_unused]] const ssize_t ignored = ::write(impl.stop_write, &byte, 1);
  }
  if (impl.acceptor.joinable()) {
    impl.acceptor.join();
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    workers.swap(impl.workers);
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (int* fd : {&impl.listen_fd, &impl.stop_read, &impl.stop_write}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

std::string_view RawTcpServer::name(Behaviour behaviour)
{
  switch (behaviour) {
  case Behaviour::reset:
    return "reset";
  case Behaviour::empty_reply:
    return "empty_reply";
  case Behaviour::bad_status_code:
    return "bad_status_code";
  case Behaviour::not_http:
    return "not_http";
  case Behaviour::binary:
    return "binary";
  case Behaviour::odd_status:
    return "odd_status";
  case Behaviour::close_in_headers:
    return "close_in_headers";
  case Behaviour::short_body:
    return "short_body";
  case Behaviour::bad_chunked:
    return "bad_chunked";
  case Behaviour::endless_headers:
    return "endless_headers";
  case Behaviour::trickle:
    return "trickle";
  case Behaviour::silent:
    return "silent";
  case Behaviour::huge_header:
    return "huge_header";
  }
  return "unknown";
}

} // namespace hb::test
