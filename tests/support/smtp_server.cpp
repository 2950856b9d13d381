// SPDX-License-Identifier: MIT
#include "support/smtp_server.hpp"

#include "support/tool_runner.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace hb::test {
namespace {

// Debian's interpreter, where python3-aiosmtpd is installed (a python3 earlier in PATH, such as
// a pyenv shim, would not have it).
constexpr const char* k_python = "/usr/bin/python3";

void make_certificate(const std::filesystem::path& folder)
{
  util::ProcessSpec spec;
  spec.argv = {"openssl",  "req",
               "-x509",    "-newkey",
               "rsa:2048", "-nodes",
               "-days",    "1",
               "-subj",    "/CN=localhost",
               "-addext",  "subjectAltName=IP:127.0.0.1,DNS:localhost",
               "-keyout",  (folder / "key.pem").string(),
               "-out",     (folder / "cert.pem").string()};
  spec.timeout = std::chrono::seconds(30);
  const util::ProcessResult result = util::run_process(spec);
  if (result.end != util::ProcessResult::End::exited || result.exit_code != 0) {
    throw std::runtime_error("smtp test server: openssl req failed: " + result.output +
                             result.error);
  }
}

} // namespace

SmtpTestServer::SmtpTestServer(std::filesystem::path folder)
    : SmtpTestServer(std::move(folder), Options{})
{
}

SmtpTestServer::SmtpTestServer(std::filesystem::path folder, Options options)
    : m_folder(std::move(folder))
{
  std::filesystem::create_directories(m_folder / "mail");
  const std::filesystem::path port_file = m_folder / "port";
  const std::filesystem::path log = m_folder / "server.log";
  std::vector<std::string> args = {
      k_python,      std::string(HB_SOURCE_DIR) + "/tests/support/smtp_server.py",
      "--dir",       (m_folder / "mail").string(),
      "--port-file", port_file.string()};
  if (options.starttls) {
    make_certificate(m_folder);
    args.insert(args.end(), {"--tls-cert", (m_folder / "cert.pem").string(), "--tls-key",
                             (m_folder / "key.pem").string()});
  }
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    throw std::runtime_error("smtp test server: cannot create " + log.string());
  }
  m_pid = ::fork();
  if (m_pid < 0) {
    ::close(log_fd);
    throw std::runtime_error("smtp test server: fork failed");
  }
  if (m_pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(port_file)) {
      m_port = std::stoi(read_file(port_file));
      return;
    }
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error(
          fmt::format("smtp test server: {} tests/support/smtp_server.py exited before it "
                      "listened (is python3-aiosmtpd installed? scripts/setup installs it): {}",
                      k_python, read_file(log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(m_pid, SIGKILL);
  ::waitpid(m_pid, nullptr, 0);
  m_pid = -1;
  throw std::runtime_error("smtp test server: not listening after 20 s: " + read_file(log));
}

SmtpTestServer::~SmtpTestServer()
{
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    ::waitpid(m_pid, nullptr, 0);
  }
}

std::string SmtpTestServer::url() const
{
  return fmt::format("smtp://127.0.0.1:{}", m_port);
}

std::string SmtpTestServer::ca_file() const
{
  return (m_folder / "cert.pem").string();
}

std::vector<nlohmann::json> SmtpTestServer::messages() const
{
  std::vector<nlohmann::json> out;
  for (int n = 1;; ++n) {
    const std::filesystem::path path = m_folder / "mail" / fmt::format("{}.json", n);
    if (!std::filesystem::exists(path)) {
      return out;
    }
    out.push_back(nlohmann::json::parse(read_file(path)));
  }
}

std::string SmtpTestServer::raw(int n) const
{
  return read_file(m_folder / "mail" / fmt::format("{}.eml", n));
}

} // namespace hb::test
