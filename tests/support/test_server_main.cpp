// SPDX-License-Identifier: MIT
// hb-test-server [--port N] [--port-file PATH] [--threads N] [--keep-alive SECONDS] [--tls]
//                [--record-log PATH]
// Runs the test fixture server (see support/test_server.hpp) on 127.0.0.1 until SIGTERM or
// SIGINT, over https with --tls. Prints the port on stdout; with --port-file also writes it
// there (to a temporary name, then renamed, so a script polling for the file never reads it
// half-written). With --record-log, every request to /record/... is appended to PATH as it
// arrives, one JSON object per line ({"method","path","headers","body"}): the demo's webhook
// receiver.
#include "support/test_server.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int /*signal*/)
{
  g_stop = 1;
}

int usage(const char* problem)
{
  std::cerr << "hb-test-server: error: " << problem << "\n"
            << "usage: hb-test-server [--port N] [--port-file PATH] [--threads N] "
               "[--keep-alive SECONDS] [--tls] [--record-log PATH]\n";
  return 64;
}

bool parse_number(const char* text, long min, long max, long& out)
{
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

} // namespace

int main(int argc, char** argv)
{
  hb::test::TestHttpServer::Options options;
  options.keep_alive_seconds = 2; // benchmarks want connection reuse; tests want fast stops
  std::string port_file;
  std::string record_log;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: hb-test-server [--port N] [--port-file PATH] [--threads N] "
                   "[--keep-alive SECONDS] [--tls] [--record-log PATH]\n";
      return 0;
    }
    if (arg == "--tls") {
      options.tls = true;
      continue;
    }
    if (i + 1 >= argc) {
      return usage(("unknown option or missing value: \"" + arg + "\"").c_str());
    }
    const char* value = argv[++i];
    long number = 0;
    if (arg == "--port") {
      if (!parse_number(value, 0, 65535, number)) {
        return usage("--port: expected a port from 0 to 65535");
      }
      options.port = static_cast<int>(number);
    } else if (arg == "--threads") {
      if (!parse_number(value, 2, 4096, number)) {
        return usage("--threads: expected a number from 2 to 4096");
      }
      options.threads = static_cast<std::size_t>(number);
    } else if (arg == "--keep-alive") {
      if (!parse_number(value, 0, 3600, number)) {
        return usage("--keep-alive: expected seconds from 0 to 3600");
      }
      options.keep_alive_seconds = static_cast<int>(number);
    } else if (arg == "--port-file") {
      port_file = value;
    } else if (arg == "--record-log") {
      record_log = value;
    } else {
      return usage(("unknown option \"" + arg + "\"").c_str());
    }
  }

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    hb::test::TestHttpServer server(options);
    if (!port_file.empty()) {
      const std::string temporary = port_file + ".tmp";
      {
        std::ofstream out(temporary, std::ios::trunc);
        out << server.port() << "\n";
        if (!out) {
          std::cerr << "hb-test-server: error: cannot write \"" << temporary << "\"\n";
          return 74;
        }
      }
      if (std::rename(temporary.c_str(), port_file.c_str()) != 0) {
        std::cerr << "hb-test-server: error: cannot rename \"" << temporary << "\" to \""
                  << port_file << "\": " << std::strerror(errno) << "\n";
        return 74;
      }
    }
    if (options.tls) {
      std::cerr << "hb-test-server: self-signed certificate (use as CA file): " << server.ca_file()
                << "\n";
    }
    std::cout << server.port() << std::endl;
    std::size_t logged = 0;
    while (g_stop == 0) {
      if (!record_log.empty()) {
        const auto recorded = server.recorded();
        if (recorded.size() > logged) {
          std::ofstream log(record_log, std::ios::app);
          for (; logged < recorded.size(); ++logged) {
            const auto& r = recorded[logged];
            nlohmann::json headers = nlohmann::json::object();
            for (const auto& [name, value] : r.headers) {
              headers[name] = value;
            }
            log << nlohmann::json{{"method", r.method}, {"path", r.path}, {"headers", headers},
                                  {"body", r.body}}
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
          }
        }
      }
      // pause() could miss a signal arriving just before it; a short sleep cannot hang.
      struct timespec slice {
        0, 50'000'000
      };
      nanosleep(&slice, nullptr);
    }
  } catch (const std::exception& e) {
    std::cerr << "hb-test-server: error: " << e.what() << "\n";
    return 70;
  }
  return 0;
}
