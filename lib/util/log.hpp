// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace hb::util {

enum class LogLevel { debug, info, notice, warning, error };
enum class LogFormat { text, json };

// Process-wide logging to stderr (results go to stdout). Configured once by the tool at start:
// text lines "hb-pulse: warning: ..." for people and cron mail, or JSON lines with `severity`,
// `message` and `time` (the fields Cloud Logging reads), the run's random `run_id`, and labels
// (the tool, the run id, a Cloud Run job's execution and task) for Cloud Run and Kubernetes.
// When stderr is systemd's journal stream ($JOURNAL_STREAM), every line starts with its syslog
// priority ("<4>hb-pulse: warning: ..."), which journald reads and strips.
void configure_logging(std::string tool, LogFormat format, LogLevel min_level);

// The format for --log-format auto: json under Cloud Run or Kubernetes, else text.
LogFormat detect_log_format();

void log(LogLevel level, std::string_view message);
inline void log_debug(std::string_view m) { log(LogLevel::debug, m); }
inline void log_info(std::string_view m) { log(LogLevel::info, m); }
inline void log_notice(std::string_view m) { log(LogLevel::notice, m); }
inline void log_warning(std::string_view m) { log(LogLevel::warning, m); }
inline void log_error(std::string_view m) { log(LogLevel::error, m); }

// Shows `message` as the tool's progress: in text format one line redrawn in place
// ("\rhb-pulse: 40/120 checks done", for a terminal) whatever the level, which the next log line
// or end_progress() clears; in JSON format an info entry like any other.
void log_progress(std::string_view message);

// Clears the text progress line, if one is shown; does nothing otherwise.
void end_progress();

// The tool name given to configure_logging ("hb-pulse").
const std::string& tool_name();

} // namespace hb::util
