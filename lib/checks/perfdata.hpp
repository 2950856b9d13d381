// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hb::checks {

// The output of a Nagios / Monitoring Plugins plugin, split by the plugin API
// (conventions.md §1.2-1.3):
//   SUMMARY | perfdata ...
//   long output line 2
//   long output line 3 | more perfdata
//   continuing to the end
// Text is made safe to store and to dump as JSON: invalid UTF-8 bytes are replaced by U+FFFD and
// control characters by spaces (the long output keeps its newlines and tabs).
struct PluginOutput {
  std::string summary;     // first line before '|', trimmed, at most k_max_summary bytes
  std::string long_output; // the other lines before a '|', at most k_max_long_output bytes
  std::vector<Metric> metrics;
  // One line per perfdata item that was skipped, e.g.
  // `perfdata item "load1=abc": value "abc" is not a number`.
  std::vector<std::string> perfdata_errors;
};

inline constexpr std::size_t k_max_summary = 1000;
inline constexpr std::size_t k_max_long_output = 8192;
// Items beyond this are dropped (with one error saying so); a plugin printing more is broken.
inline constexpr std::size_t k_max_metrics = 500;
// Errors kept; the rest are counted in a final "... and N more" line.
inline constexpr std::size_t k_max_perfdata_errors = 20;

// Splits plugin output into summary, long output and metrics. Never throws for any input:
// malformed perfdata items are skipped and described in perfdata_errors; an item whose value is
// "U" (the plugin could not measure it) is skipped silently; NaN and infinities are rejected.
// A label may repeat only once: later items with the same label are skipped as errors, so a
// metric name is unique within one result.
PluginOutput parse_plugin_output(std::string_view text);

// Returns `text` with invalid UTF-8 sequences replaced by U+FFFD and, when `keep_newlines` is
// no, every control character replaced by a space (with yes, '\n' and '\t' are kept).
enum class KeepNewlines { no, yes };
std::string sanitize_text(std::string_view text, KeepNewlines keep_newlines);

// Returns `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary, with "..."
// appended when it was cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

} // namespace hb::checks
