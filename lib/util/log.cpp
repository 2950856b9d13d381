// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include "util/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>

namespace hb::util {
namespace {

struct LogSettings {
  std::string tool = "heartbeat";
  LogFormat format = LogFormat::text;
  LogLevel min_level = LogLevel::notice;
  bool progress_shown = false;  // a text progress line without a newline is on stderr
  bool journal = false;         // stderr is systemd's journal stream: lines carry "<N>"
  std::string run_id;           // this process's run, in every JSON line
  nlohmann::json labels;        // the JSON lines' logging.googleapis.com/labels
  std::mutex mutex;
};

// Whether stderr is connected to the journal: systemd sets JOURNAL_STREAM to the device and
// inode of the stream it gave the service, and a service's child with its stderr redirected
// elsewhere inherits the variable, so both must match (sd_journal_stream_fd(3)).
bool stderr_is_journal()
{
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return false;
  }
  std::uintmax_t device = 0;
  std::uintmax_t inode = 0;
  if (std::sscanf(stream, "%" SCNuMAX ":%" SCNuMAX, &device, &inode) != 2) {
    return false;
  }
  struct stat st {};
  return ::fstat(STDERR_FILENO, &st) == 0 && static_cast<std::uintmax_t>(st.st_dev) == device
         && static_cast<std::uintmax_t>(st.st_ino) == inode;
}

// A random id for this process's run, so that the JSON lines of one run can be picked out of
// many hosts' and runs' logs.
std::string new_run_id()
{
  std::random_device entropy;
  std::uint64_t id = (static_cast<std::uint64_t>(entropy()) << 32) ^ entropy();
  return fmt::format("{:016x}", id);
}

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

// syslog's priority of `level` (sd-daemon(3)): what journald reads from a "<N>" prefix.
int syslog_priority(LogLevel level)
{
  switch (level) {
  case LogLevel::debug:
    return 7;
  case LogLevel::info:
    return 6;
  case LogLevel::notice:
    return 5;
  case LogLevel::warning:
    return 4;
  case LogLevel::error:
    return 3;
  }
  return 6;
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
  s.journal = stderr_is_journal();
  if (s.run_id.empty()) {
    s.run_id = new_run_id();
  }
  s.labels = {{"tool", s.tool}, {"run_id", s.run_id}};
  // A Cloud Run job's execution and task, when it runs in one: which retry wrote the line.
  for (const auto& [variable, label] : {std::pair{"CLOUD_RUN_JOB", "job"},
                                        std::pair{"CLOUD_RUN_EXECUTION", "execution"},
                                        std::pair{"CLOUD_RUN_TASK_INDEX", "task_index"},
                                        std::pair{"CLOUD_RUN_TASK_ATTEMPT", "task_attempt"}}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
      s.labels[label] = value;
    }
  }
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
                         {"run_id", s.run_id},
                         {"logging.googleapis.com/labels",
                          s.labels.is_null() ? nlohmann::json{{"tool", s.tool}} : s.labels}};
    line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    clear_progress(s);
    line = fmt::format("{}: {}: {}", s.tool, level_word(level), message);
  }
  if (s.journal) {
    // journald reads the priority of each line from its "<N>" prefix (and strips it), so that
    // `journalctl -p warning` shows the warnings and errors.
    const std::string prefix = fmt::format("<{}>", syslog_priority(level));
    std::string prefixed = prefix;
    for (const char c : line) {
      prefixed += c;
      if (c == '\n') {
        prefixed += prefix;
      }
    }
    line = std::move(prefixed);
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
  if (s.journal) {  // not a terminal: no line redrawn in place
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
