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
  bool progress_shown = false;  // a text progress line without a newline is on stderr
  std::mutex mutex;
};

// Sequences for a terminal: back to the start of the line, then erase it.
constexpr std::string_view k_clear_line = "\r\033[K";

void write_stderr(std::string_view text)
{
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// Clears the progress line so the next line starts at the left margin; `s.mutex` must be held.
void clear_progress(LogSettings& s)
{
  if (s.progress_shown) {
    write_stderr(k_clear_line);
    s.progress_shown = false;
  }
}

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

namespace {

// Writes one log line; `s.mutex` must be held.
void write_line(LogSettings& s, LogLevel level, std::string_view message)
{
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
    clear_progress(s);
    line = fmt::format("{}: {}: {}", s.tool, level_word(level), message);
  }
  line += '\n';
  write_stderr(line);
}

} // namespace

void log(LogLevel level, std::string_view message)
{
  auto& s = settings();
  std::lock_guard lock(s.mutex);
  write_line(s, level, message);
}

void log_progress(std::string_view message)
{
  auto& s = settings();
  std::lock_guard lock(s.mutex);
  if (s.format == LogFormat::json) {
    write_line(s, LogLevel::info, message);
    return;
  }
  write_stderr(fmt::format("\r{}: {}", s.tool, message));
  s.progress_shown = true;
}

void end_progress()
{
  auto& s = settings();
  std::lock_guard lock(s.mutex);
  clear_progress(s);
}

const std::string& tool_name() { return settings().tool; }

} // namespace hb::util
