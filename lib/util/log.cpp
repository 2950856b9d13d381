// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include "util/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace hb::util {
namespace {

struct LogSettings {
  std::string tool = "heartbeat";
  LogFormat format = LogFormat::text;
  LogLevel min_level = LogLevel::notice;
  std::mutex mutex;
};

LogSettings& settings()
{
  static LogSettings s;
  return s;
}

std::string_view level_word(LogLevel level)
{
  switch (level) {
  case LogLevel::debug:
    return "debug";
  case LogLevel::info:
    return "info";
  case LogLevel::notice:
    return "notice";
  case LogLevel::warning:
    return "warning";
  case LogLevel::error:
    return "error";
  }
  return "info";
}

std::string_view severity_name(LogLevel level)
{
  switch (level) {
  case LogLevel::debug:
    return "DEBUG";
  case LogLevel::info:
    return "INFO";
  case LogLevel::notice:
    return "NOTICE";
  case LogLevel::warning:
    return "WARNING";
  case LogLevel::error:
    return "ERROR";
  }
  return "DEFAULT";
}

} // namespace

void configure_logging(std::string tool, LogFormat format, LogLevel min_level)
{
  auto& s = settings();
  std::lock_guard lock(s.mutex);
  s.tool = std::move(tool);
  s.format = format;
  s.min_level = min_level;
}

LogFormat detect_log_format()
{
  for (const char* name : {"CLOUD_RUN_JOB", "K_SERVICE", "KUBERNETES_SERVICE_HOST"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      return LogFormat::json;
    }
  }
  return LogFormat::text;
}

void log(LogLevel level, std::string_view message)
{
  auto& s = settings();
  std::lock_guard lock(s.mutex);
  if (static_cast<int>(level) < static_cast<int>(s.min_level)) {
    return;
  }
  std::string line;
  if (s.format == LogFormat::json) {
    nlohmann::json entry{{"severity", severity_name(level)},
                         {"message", message},
                         {"time", format_rfc3339(SystemClock().now())},
                         {"logging.googleapis.com/labels", {{"tool", s.tool}}}};
    line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("{}: {}: {}", s.tool, level_word(level), message);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

const std::string& tool_name() { return settings().tool; }

} // namespace hb::util
