// SPDX-License-Identifier: MIT
#include "checks/tcp_check.hpp"

#include "util/duration.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace hb::checks {
namespace {

using Clock = std::chrono::steady_clock;

// How often a wait looks at the cancel flag and the deadline.
constexpr auto k_slice = std::chrono::milliseconds(20);

std::string errno_text(int error)
{
  return std::error_code(error, std::generic_category()).message();
}

class Socket {
public:
  explicit Socket(int fd)
      : m_fd(fd)
  {
  }
  ~Socket()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return m_fd; }

private:
  int m_fd;
};

// One getaddrinfo() call, shared between the thread running it and the check waiting for it, so
// that a check that gives up (cancelled, timed out) can leave the lookup to finish on its own.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  int rc = 0;
  int error = 0; // errno for EAI_SYSTEM
  addrinfo* result = nullptr;

  ~Lookup()
  {
    if (result != nullptr) {
      freeaddrinfo(result);
    }
  }

  void run(const std::string& host, const std::string& service, int flags)
  {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    addrinfo* found = nullptr;
    const int status = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    const int saved = errno;
    std::lock_guard lock(mutex);
    rc = status;
    error = saved;
    result = found;
    done = true;
    done_cv.notify_all();
  }
};

enum class Outcome { ok, dns, connect, timeout, cancelled };

struct Attempt {
  Outcome outcome = Outcome::ok;
  std::string detail;
};

class TcpCheck final : public Check {
public:
  TcpCheck(std::string host, int port, std::optional<Duration> max_latency, Severity severity)
      : m_host(std::move(host))
      , m_service(std::to_string(port))
      , m_max_latency(max_latency)
      , m_severity(severity)
      , m_endpoint(m_host.find(':') != std::string::npos ? fmt::format("[{}]:{}", m_host, port)
                                                         : fmt::format("{}:{}", m_host, port))
  {
  }

  CheckResult run(const CheckContext& context) const override;
  std::string describe() const override { return "tcp " + m_endpoint; }

private:
  // Resolves the host; returns nullptr with `attempt` filled in on failure.
  std::shared_ptr<Lookup> resolve(const CheckContext& context, Clock::time_point deadline,
                                  Attempt& attempt) const;
  Attempt connect_to(const addrinfo& address, const CheckContext& context,
                     Clock::time_point deadline) const;

  std::string m_host;
  std::string m_service;
  std::optional<Duration> m_max_latency;
  Severity m_severity;
  std::string m_endpoint;
};

std::shared_ptr<Lookup> TcpCheck::resolve(const CheckContext& context, Clock::time_point deadline,
                                          Attempt& attempt) const
{
  // An IP address needs no lookup and no thread.
  auto numeric = std::make_shared<Lookup>();
  numeric->run(m_host, m_service, AI_NUMERICHOST | AI_NUMERICSERV);
  if (numeric->rc == 0) {
    return numeric;
  }

  // getaddrinfo() cannot be interrupted, so it runs in a thread of its own while this one keeps
  // watching the deadline and the cancel flag.
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, host = m_host, service = m_service] {
      lookup->run(host, service, AI_NUMERICSERV);
    }).detach();
  } catch (const std::system_error&) {
    lookup->run(m_host, m_service, AI_NUMERICSERV);
  }
  std::unique_lock lock(lookup->mutex);
  while (!lookup->done) {
    if (context.cancel.load()) {
      attempt = {Outcome::cancelled, ""};
      return nullptr;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      attempt = {Outcome::timeout, fmt::format("resolving \"{}\"", m_host)};
      return nullptr;
    }
    lookup->done_cv.wait_for(lock, std::min<Clock::duration>(k_slice, deadline - now));
  }
  if (lookup->rc != 0) {
    const std::string why = lookup->rc == EAI_SYSTEM ? errno_text(lookup->error)
                                                     : std::string(gai_strerror(lookup->rc));
    attempt = {Outcome::dns, fmt::format("could not resolve host \"{}\" ({})", m_host, why)};
    return nullptr;
  }
  return lookup;
}

Attempt TcpCheck::connect_to(const addrinfo& address, const CheckContext& context,
                             Clock::time_point deadline) const
{
  const Socket sock(
      ::socket(address.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol));
  if (sock.get() < 0) {
    return {Outcome::connect, errno_text(errno)};
  }
  if (::connect(sock.get(), address.ai_addr, address.ai_addrlen) == 0) {
    return {Outcome::ok, ""};
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    return {Outcome::connect, errno_text(errno)};
  }
  while (true) {
    if (context.cancel.load()) {
      return {Outcome::cancelled, ""};
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return {Outcome::timeout, fmt::format("connecting to {}", m_endpoint)};
    }
    const auto slice = std::min<Clock::duration>(k_slice, deadline - now);
    pollfd pfd{sock.get(), POLLOUT, 0};
    const int ready = ::poll(
        &pfd, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count()));
    if (ready < 0 && errno != EINTR) {
      return {Outcome::connect, errno_text(errno)};
    }
    if (ready > 0) {
      int error = 0;
      socklen_t length = sizeof(error);
      if (::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
      if (error == 0) {
        return {Outcome::ok, ""};
      }
      return {Outcome::connect, errno_text(error)};
    }
  }
}

CheckResult TcpCheck::run(const CheckContext& context) const
{
  const auto started = Clock::now();
  const auto deadline = started + context.timeout;
  const auto elapsed = [&] { return std::chrono::duration_cast<Duration>(Clock::now() - started); };

  Attempt attempt;
  std::shared_ptr<Lookup> lookup;
  if (context.cancel.load()) {
    attempt = {Outcome::cancelled, ""};
  } else {
    lookup = resolve(context, deadline, attempt);
  }
  if (lookup != nullptr) {
    // Every address in turn (IPv6 and IPv4, several A records), as a client would.
    for (const addrinfo* address = lookup->result; address != nullptr; address = address->ai_next) {
      attempt = connect_to(*address, context, deadline);
      if (attempt.outcome != Outcome::connect) {
        break;
      }
    }
  }

  CheckResult result;
  result.latency = elapsed();
  const auto time_metric = [&] {
    result.metrics.push_back(
        {"time", static_cast<double>(result.latency.count()) / 1000.0, "s", "", "", 0.0, {}});
  };
  switch (attempt.outcome) {
  case Outcome::ok:
    time_metric();
    if (m_max_latency && result.latency > *m_max_latency) {
      result.status = CheckStatus::warning;
      result.phase = "latency";
      result.message = fmt::format("slow: {} > {}", util::format_duration(result.latency),
                                   util::format_duration(*m_max_latency));
    } else {
      result.status = CheckStatus::ok;
      result.message =
          fmt::format("connected to {} in {}", m_endpoint, util::format_duration(result.latency));
    }
    break;
  case Outcome::dns:
    time_metric();
    result.status = failure_status(m_severity);
    result.phase = "dns";
    result.message = "dns lookup failed: " + attempt.detail;
    break;
  case Outcome::connect:
    time_metric();
    result.status = failure_status(m_severity);
    result.phase = "connect";
    result.message = fmt::format("connect failed: {} ({})", attempt.detail, m_endpoint);
    break;
  case Outcome::timeout:
    time_metric();
    result.status = failure_status(m_severity);
    result.phase = "timeout";
    result.message =
        fmt::format("timed out after {} {}", util::format_duration(context.timeout), attempt.detail);
    break;
  case Outcome::cancelled:
    result.status = CheckStatus::error;
    result.phase = "cancelled";
    result.message = "cut off: pulse deadline or shutdown";
    break;
  }
  return result;
}

std::unique_ptr<Check> create_tcp_check(const ConfigNode& spec, const CommonSettings& common)
{
  const ConfigNode host_node = spec["host"];
  if (host_node.is_null()) {
    spec.fail_message("missing \"host\"");
  }
  std::string host = host_node.as_string();
  // "[::1]" is how an IPv6 address is written in URLs; accept it here too.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  in6_addr ipv6{};
  if (host.empty() || host.find_first_of(" \t\r\n/@[]") != std::string::npos ||
      (host.find(':') != std::string::npos && inet_pton(AF_INET6, host.c_str(), &ipv6) != 1)) {
    host_node.fail("a host name or IP address like \"db.internal\" (no scheme, no port)");
  }
  const ConfigNode port_node = spec["port"];
  if (port_node.is_null()) {
    spec.fail_message("missing \"port\"");
  }
  const int port = static_cast<int>(port_node.as_int(1, 65535));

  std::optional<Duration> max_latency = spec.find_duration("max_latency");
  if (max_latency && *max_latency <= Duration(0)) {
    spec["max_latency"].fail("a positive duration like \"500ms\"");
  }
  return std::make_unique<TcpCheck>(std::move(host), port, max_latency, common.severity);
}

} // namespace

CheckType tcp_check_type()
{
  return {"tcp", {"host", "port", "max_latency"}, create_tcp_check};
}

} // namespace hb::checks
