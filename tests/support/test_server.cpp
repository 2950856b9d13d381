// SPDX-License-Identifier: MIT
#include "support/test_server.hpp"

#include "util/process.hpp"

#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace hb::test {
namespace {

constexpr auto k_stop_check = std::chrono::milliseconds(50);

// httplib listens with a backlog of 5: a burst of connections (32 threads starting at once)
// overflows it, and each dropped SYN costs the client a one-second retransmit. This class exists
// only to reach the listening socket (a protected member) and raise the backlog.
struct BacklogAccess : httplib::Server {
  // Returns false when the backlog could not be changed.
  static bool raise_backlog(httplib::Server& server)
  {
    return ::listen(server.*(&BacklogAccess::svr_sock_), SOMAXCONN) == 0;
  }
};

// A self-signed certificate and its key, made once per process and removed at exit.
class Certificate {
public:
  Certificate()
  {
    char pattern[] = "/tmp/hb-test-tls-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      m_error = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    m_dir = pattern;
    m_cert = (m_dir / "cert.pem").string();
    m_key = (m_dir / "key.pem").string();
    util::ProcessSpec spec;
    spec.argv = {"openssl",
                 "req",
                 "-x509",
                 "-newkey",
                 "ec",
                 "-pkeyopt",
                 "ec_paramgen_curve:prime256v1",
                 "-nodes",
                 "-keyout",
                 m_key,
                 "-out",
                 m_cert,
                 "-days",
                 "2",
                 "-subj",
                 "/CN=127.0.0.1",
                 "-addext",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost"};
    spec.timeout = Duration(30'000);
    const util::ProcessResult result = util::run_process(spec);
    if (result.end != util::ProcessResult::End::exited || result.exit_code != 0) {
      m_error = "openssl req failed: " + (result.error.empty() ? result.output : result.error);
    }
  }
  ~Certificate()
  {
    std::error_code ignored;
    if (!m_dir.empty()) {
      std::filesystem::remove_all(m_dir, ignored);
    }
  }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  // Returns the shared certificate; throws std::runtime_error when it could not be made.
  static const Certificate& get()
  {
    static const Certificate k_certificate;
    if (!k_certificate.m_error.empty()) {
      throw std::runtime_error("test server: cannot make a TLS certificate: " +
                               k_certificate.m_error);
    }
    return k_certificate;
  }

  const std::string& cert() const { return m_cert; }
  const std::string& key() const { return m_key; }

private:
  std::filesystem::path m_dir;
  std::string m_cert;
  std::string m_key;
  std::string m_error;
};

} // namespace

struct TestHttpServer::Impl {
  Options options;
  std::unique_ptr<httplib::Server> owned_server;
  httplib::Server& server;
  std::string ca_file;

  explicit Impl(std::unique_ptr<httplib::Server> made)
      : owned_server(std::move(made))
      , server(*owned_server)
  {
  }
  std::thread thread;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::mutex finished_mutex;
  std::condition_variable finished_cv;
  bool finished = false;

  mutable std::mutex mutex;
  std::map<std::string, std::size_t, std::less<>> hits;
  std::size_t total = 0;
  std::set<std::pair<std::string, int>> clients;
  std::map<std::string, int, std::less<>> overrides;
  std::vector<TestHttpServer::Recorded> recorded;

  // Sleeps up to `duration` in short slices; returns false when the server is stopping.
  bool sleep_unless_stopping(std::chrono::milliseconds duration) const
  {
    const auto until = std::chrono::steady_clock::now() + duration;
    while (!stopping.load()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) {
        return true;
      }
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(k_stop_check, until - now));
    }
    return false;
  }

  void add_routes();
};

void TestHttpServer::Impl::add_routes()
{
  using httplib::Request;
  using httplib::Response;
  using httplib::Server;

  server.set_pre_routing_handler([this](const Request& req, Response& res) {
    std::lock_guard lock(mutex);
    ++hits[req.path];
    ++total;
    clients.emplace(req.remote_addr, req.remote_port);
    if (auto it = overrides.find(req.path); it != overrides.end()) {
      res.status = it->second;
      res.set_content("overridden", "text/plain");
      return Server::HandlerResponse::Handled;
    }
    return Server::HandlerResponse::Unhandled;
  });

  server.Get("/ok", [](const Request&, Response& res) { res.set_content("ok", "text/plain"); });

  // A service that is down until something (a recovery action) creates the file `path`.
  server.Get("/flag", [](const Request& req, Response& res) {
    const std::string path = req.get_param_value("path");
    if (!path.empty() && ::access(path.c_str(), F_OK) == 0) {
      res.set_content("up", "text/plain");
    } else {
      res.status = 503;
      res.set_content("down: no " + path, "text/plain");
    }
  });

  server.Get(R"(/status/(\d{3}))", [](const Request& req, Response& res) {
    res.status = std::stoi(req.matches[1].str());
    res.set_content("status " + req.matches[1].str(), "text/plain");
  });

  server.Get(R"(/slow/(\d{1,7}))", [this](const Request& req, Response& res) {
    if (!sleep_unless_stopping(std::chrono::milliseconds(std::stol(req.matches[1].str())))) {
      res.status = 503;
      res.set_content("stopping", "text/plain");
      return;
    }
    res.set_content("slow", "text/plain");
  });

  server.Get(R"(/body/(.*))", [](const Request& req, Response& res) {
    res.set_content(req.matches[1].str(), "text/plain");
  });

  server.Get(R"(/bytes/(\d{1,9}))", [](const Request& req, Response& res) {
    res.set_content(std::string(std::stoul(req.matches[1].str()), 'x'), "text/plain");
  });

  server.Get(R"(/redirect/(\d{1,3}))", [](const Request& req, Response& res) {
    const int n = std::stoi(req.matches[1].str());
    res.set_redirect(n <= 0 ? "/ok" : "/redirect/" + std::to_string(n - 1), 302);
  });

  server.Get("/endless", [this](const Request&, Response& res) {
    res.set_chunked_content_provider("text/plain", [this](std::size_t, httplib::DataSink& sink) {
      static const std::string k_chunk(16 * 1024, 'x');
      // Ends only when the client goes away (the write fails) or the server stops.
      return !stopping.load() && sink.write(k_chunk.data(), k_chunk.size());
    });
  });

  server.Get("/hang", [this](const Request&, Response& res) {
    while (sleep_unless_stopping(k_stop_check)) {
    }
    res.status = 503;
    res.set_content("stopping", "text/plain");
  });

  server.Get("/count", [this](const Request&, Response& res) {
    std::size_t count = 0;
    {
      std::lock_guard lock(mutex);
      count = total;
    }
    res.set_content(std::to_string(count), "text/plain");
  });

  server.Get(R"(/header/([A-Za-z0-9_-]+))", [](const Request& req, Response& res) {
    const std::string name = req.matches[1].str();
    if (!req.has_header(name)) {
      res.status = 404;
      res.set_content("no header " + name, "text/plain");
      return;
    }
    res.set_content(req.get_header_value(name), "text/plain");
  });

  const auto echo = [](const Request& req, Response& res) {
    res.set_content(req.method + " " + req.body, "text/plain");
  };
  const auto redirect_to = [this](const Request& req, Response& res) {
    if (!req.has_param("url")) {
      res.status = 400;
      res.set_content("missing url", "text/plain");
      return;
    }
    const int code = req.has_param("code") ? std::stoi(req.get_param_value("code")) : 302;
    if (req.has_param("delay") &&
        !sleep_unless_stopping(std::chrono::milliseconds(std::stol(req.get_param_value("delay"))))) {
      res.status = 503;
      return;
    }
    res.status = code;
    res.set_header("Location", req.get_param_value("url"));
    res.set_content("redirect", "text/plain");
  };
  const auto record = [this](const Request& req, Response& res) {
    TestHttpServer::Recorded r;
    r.method = req.method;
    r.path = req.path;
    r.headers.insert(req.headers.begin(), req.headers.end());
    r.body = req.body;
    {
      std::lock_guard lock(mutex);
      recorded.push_back(std::move(r));
    }
    if (req.has_param("status")) {
      res.status = std::stoi(req.get_param_value("status"));
    }
    if (req.has_param("retry_after")) {
      res.set_header("Retry-After", req.get_param_value("retry_after"));
    }
    res.set_content(req.has_param("body") ? req.get_param_value("body") : "recorded",
                    "text/plain");
  };
  for (const auto& [pattern, handler] :
       {std::pair<std::string, Server::Handler>{"/echo", echo},
        {"/redirect-to", redirect_to},
        {R"(/record/.*)", record}}) {
    server.Get(pattern, handler);
    server.Post(pattern, handler);
    server.Put(pattern, handler);
    server.Patch(pattern, handler);
    server.Delete(pattern, handler);
    server.Options(pattern, handler);
  }
}

TestHttpServer::TestHttpServer()
    : TestHttpServer(Options{})
{
}

namespace {

std::unique_ptr<httplib::Server> make_server(const TestHttpServer::Options& options)
{
  if (!options.tls) {
    return std::make_unique<httplib::Server>();
  }
  const Certificate& certificate = Certificate::get();
  auto server =
      std::make_unique<httplib::SSLServer>(certificate.cert().c_str(), certificate.key().c_str());
  if (!server->is_valid()) {
    throw std::runtime_error("test server: httplib rejected the TLS certificate");
  }
  return server;
}

} // namespace

TestHttpServer::TestHttpServer(Options options)
    : m_impl(std::make_shared<Impl>(make_server(options)))
{
  Impl& impl = *m_impl;
  if (options.tls) {
    impl.ca_file = Certificate::get().cert();
  }
  impl.options = options;
  const std::size_t threads = std::max<std::size_t>(options.threads, 2);
  impl.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Without it the response headers and body, written separately, meet delayed ACKs: 40 ms
  // per request on a reused connection.
  impl.server.set_tcp_nodelay(true);
  impl.server.set_keep_alive_timeout(options.keep_alive_seconds);
  impl.server.set_keep_alive_max_count(100'000);
  impl.add_routes();

  if (options.port == 0) {
    impl.port = impl.server.bind_to_any_port("127.0.0.1");
    if (impl.port <= 0) {
      throw std::runtime_error("test server: cannot bind an ephemeral port on 127.0.0.1");
    }
  } else {
    if (!impl.server.bind_to_port("127.0.0.1", options.port)) {
      throw std::runtime_error("test server: cannot bind 127.0.0.1:" +
                               std::to_string(options.port));
    }
    impl.port = options.port;
  }
  if (!BacklogAccess::raise_backlog(impl.server)) {
    throw std::runtime_error(std::string("test server: listen: ") + std::strerror(errno));
  }
  impl.thread = std::thread([shared = m_impl] {
    shared->server.listen_after_bind();
    std::lock_guard lock(shared->finished_mutex);
    shared->finished = true;
    shared->finished_cv.notify_all();
  });

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl.server.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("test server: did not start within 5s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TestHttpServer::~TestHttpServer()
{
  stop();
}

void TestHttpServer::stop()
{
  if (!m_impl || !m_impl->thread.joinable()) {
    return;
  }
  m_impl->stopping.store(true);
  m_impl->server.stop();
  std::unique_lock lock(m_impl->finished_mutex);
  const bool finished = m_impl->finished_cv.wait_for(lock, std::chrono::milliseconds(50),
                                                     [this] { return m_impl->finished; });
  lock.unlock();
  if (finished) {
    m_impl->thread.join();
  } else {
    m_impl->thread.detach();
  }
}

int TestHttpServer::port() const
{
  return m_impl->port;
}

std::string TestHttpServer::ca_file() const
{
  return m_impl->ca_file;
}

std::string TestHttpServer::url(std::string_view path) const
{
  std::string out = (m_impl->options.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") +
                    std::to_string(m_impl->port);
  if (path.empty() || path.front() != '/') {
    out += '/';
  }
  out += path;
  return out;
}

std::size_t TestHttpServer::hits(std::string_view path) const
{
  std::lock_guard lock(m_impl->mutex);
  auto it = m_impl->hits.find(path);
  return it == m_impl->hits.end() ? 0 : it->second;
}

std::vector<TestHttpServer::Recorded> TestHttpServer::recorded() const
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->recorded;
}

namespace {

bool same_name(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

bool TestHttpServer::Recorded::has_header(std::string_view name) const
{
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_name(h.first, name); });
}

std::string TestHttpServer::Recorded::header(std::string_view name) const
{
  for (const auto& [key, value] : headers) {
    if (same_name(key, name)) {
      return value;
    }
  }
  return "";
}

std::size_t TestHttpServer::total_hits() const
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->total;
}

std::size_t TestHttpServer::connections() const
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->clients.size();
}

void TestHttpServer::set_status(const std::string& path, int code)
{
  std::lock_guard lock(m_impl->mutex);
  m_impl->overrides[path] = code;
}

void TestHttpServer::clear_status(const std::string& path)
{
  std::lock_guard lock(m_impl->mutex);
  m_impl->overrides.erase(path);
}

int closed_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("closed_port: socket: ") + std::strerror(errno));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int saved = errno;
    ::close(fd);
    throw std::runtime_error(std::string("closed_port: bind: ") + std::strerror(saved));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

} // namespace hb::test
