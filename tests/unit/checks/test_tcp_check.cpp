// SPDX-License-Identifier: MIT
#include "checks/tcp_check.hpp"

#include "support/test_helpers.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using hb::CheckStatus;
using hb::Duration;
using hb::checks::CheckContext;
using hb::checks::CheckDef;
using hb::checks::CheckResult;
using hb::test::config_error;
using hb::test::parse_check;
using hb::test::run_check;
using nlohmann::json;

json tcp_spec(const std::string& host, int port)
{
  return json{{"name", "port"}, {"type", "tcp"}, {"host", host}, {"port", port}};
}

// A listening socket that never accepts, with its one-slot accept queue filled: further connects
// to it get no answer (Linux drops the SYN), which is how a firewalled port behaves.
class BlackHole {
public:
  BlackHole()
  {
    m_listener = make_socket();
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof(address);
    REQUIRE(::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(m_listener, 0) == 0);
    REQUIRE(::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
    // Fill the accept queue; connects beyond it stay pending.
    for (int i = 0; i < 2; ++i) {
      const int fd = make_socket();
      sockaddr_in target = loopback(m_port);
      ::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(target));
      m_fillers.push_back(fd);
    }
  }
  ~BlackHole()
  {
    m_stop.store(true);
    if (m_acceptor.joinable()) {
      m_acceptor.join();
    }
    for (int fd : m_fillers) {
      ::close(fd);
    }
    ::close(m_listener);
  }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;

  int port() const { return m_port; }

  // Starts accepting every connection after `delay`: a pending connect then completes when its
  // SYN is next retransmitted (about a second after it was first sent), i.e. slowly.
  void accept_after(std::chrono::milliseconds delay)
  {
    m_acceptor = std::thread([this, delay] {
      std::this_thread::sleep_for(delay);
      while (!m_stop.load()) {
        pollfd pfd{m_listener, POLLIN, 0};
        if (::poll(&pfd, 1, 20) > 0) {
          const int fd = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
          if (fd >= 0) {
            m_fillers.push_back(fd);
          }
        }
      }
    });
  }

private:
  static int make_socket()
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    return fd;
  }
  static sockaddr_in loopback(int port)
  {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    return address;
  }

  int m_listener = -1;
  int m_port = 0;
  std::vector<int> m_fillers; // connected sockets; appended to by the acceptor thread only
  std::atomic<bool> m_stop{false};
  std::thread m_acceptor;
};

} // namespace

TEST_CASE("tcp check run")
{
  SECTION("an open port is ok")
  {
    hb::test::TestHttpServer server;
    const std::string endpoint = "127.0.0.1:" + std::to_string(server.port());
    const CheckResult r = run_check(tcp_spec("127.0.0.1", server.port()));
    CHECK(r.status == CheckStatus::ok);
    CHECK(r.message.rfind("connected to " + endpoint + " in ", 0) == 0);
    CHECK(r.phase.empty());
    REQUIRE(r.metrics.size() == 1);
    CHECK(r.metrics[0].name == "time");
    CHECK(r.metrics[0].unit == "s");
  }

  SECTION("a host name is resolved")
  {
    hb::test::TestHttpServer server;
    const CheckResult r = run_check(tcp_spec("localhost", server.port()));
    CHECK(r.status == CheckStatus::ok);
    CHECK(r.message.rfind("connected to localhost:" + std::to_string(server.port()), 0) == 0);
  }

  SECTION("a closed port is a failure of the configured severity")
  {
    const int port = hb::test::closed_port();
    const CheckResult r = run_check(tcp_spec("127.0.0.1", port));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "connect");
    CHECK(r.message ==
          "connect failed: Connection refused (127.0.0.1:" + std::to_string(port) + ")");

    json spec = tcp_spec("127.0.0.1", port);
    spec["severity"] = "warning";
    CHECK(run_check(spec).status == CheckStatus::warning);
  }

  SECTION("an unknown host is a dns failure")
  {
    const CheckResult r = run_check(tcp_spec("no-such-host.invalid", 80));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "dns");
    CHECK(r.message.rfind("dns lookup failed: could not resolve host \"no-such-host.invalid\" (",
                          0) == 0);
  }

  SECTION("no answer within the timeout is a timeout")
  {
    BlackHole hole;
    const auto start = std::chrono::steady_clock::now();
    const CheckResult r = run_check(tcp_spec("127.0.0.1", hole.port()), Duration(300));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "timeout");
    CHECK(r.message ==
          "timed out after 300ms connecting to 127.0.0.1:" + std::to_string(hole.port()));
    CHECK(r.latency >= Duration(300));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }

  SECTION("the cancel flag cuts a pending connect short")
  {
    BlackHole hole;
    const CheckDef def = parse_check(tcp_spec("127.0.0.1", hole.port()));
    const auto [r, elapsed] = hb::test::run_cancelled_after(def, Duration(100));
    CHECK(r.status == CheckStatus::error);
    CHECK(r.phase == "cancelled");
    CHECK(r.message == "cut off: pulse deadline or shutdown");
    CHECK(elapsed < std::chrono::milliseconds(1'000));
  }

  SECTION("a cancel flag that is already set does not connect")
  {
    hb::test::TestHttpServer server;
    const CheckDef def = parse_check(tcp_spec("127.0.0.1", server.port()));
    std::atomic<bool> cancel{true};
    const CheckResult r = def.probe->run(CheckContext{cancel, Duration(5'000), hb::test::system_clock()});
    CHECK(r.status == CheckStatus::error);
    CHECK(r.phase == "cancelled");
  }

  SECTION("slower than max_latency is a warning")
  {
    BlackHole hole;
    hole.accept_after(std::chrono::milliseconds(200));
    json spec = tcp_spec("127.0.0.1", hole.port());
    spec["max_latency"] = "150ms";
    const CheckResult r = run_check(spec, Duration(10'000));
    CHECK(r.status == CheckStatus::warning);
    CHECK(r.phase == "latency");
    CHECK(r.message.rfind("slow: ", 0) == 0);
    CHECK(r.message.find(" > 150ms") != std::string::npos);
    CHECK(r.latency > Duration(150));

    spec["max_latency"] = "10s";
    CHECK(run_check(spec).status == CheckStatus::ok);
  }
}

TEST_CASE("tcp check describe")
{
  SECTION("host and port")
  {
    CHECK(parse_check(tcp_spec("db.internal", 5432)).probe->describe() == "tcp db.internal:5432");
  }
  SECTION("IPv6 addresses in brackets")
  {
    CHECK(parse_check(tcp_spec("::1", 22)).probe->describe() == "tcp [::1]:22");
    CHECK(parse_check(tcp_spec("[::1]", 22)).probe->describe() == "tcp [::1]:22");
  }
}

TEST_CASE("tcp check config errors")
{
  const std::string at = "test.json: targets[0].checks[0]";

  SECTION("host and port are required")
  {
    CHECK(config_error(json{{"name", "p"}, {"type", "tcp"}, {"port", 80}}) ==
          at + ": missing \"host\"");
    CHECK(config_error(json{{"name", "p"}, {"type", "tcp"}, {"host", "h"}}) ==
          at + ": missing \"port\"");
  }

  SECTION("port range")
  {
    CHECK(config_error(tcp_spec("h", 0)) ==
          at + ".port: expected an integer from 1 to 65535, got 0");
    CHECK(config_error(tcp_spec("h", 70000)) ==
          at + ".port: expected an integer from 1 to 65535, got 70000");
  }

  SECTION("host without scheme or port")
  {
    CHECK(config_error(tcp_spec("db.internal:5432", 5432)) ==
          at + ".host: expected a host name or IP address like \"db.internal\" (no scheme, "
               "no port), got \"db.internal:5432\"");
    CHECK(config_error(tcp_spec("tcp://db", 5432)) ==
          at + ".host: expected a host name or IP address like \"db.internal\" (no scheme, "
               "no port), got \"tcp://db\"");
  }

  SECTION("unknown key")
  {
    json spec = tcp_spec("h", 80);
    spec["prt"] = 80;
    CHECK(config_error(spec) == at + ".prt: unknown key \"prt\" (did you mean \"port\"?)");
  }
}
