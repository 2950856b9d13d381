// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"

#include <cstdint>
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
// Text is made safe to store, to dump as JSON and to show on a terminal (see sanitize_text).
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

// Returns true for the code points that are valid UTF-8 but must not reach a terminal: the C1
// controls (U+0080-U+009F; U+009B is an 8-bit CSI to some terminals) and the bidirectional
// formatting characters, which reorder what is shown after them ("Trojan Source"): the overrides
// and embeddings U+202A-U+202E, the isolates U+2066-U+2069, and the marks U+200E, U+200F and
// U+061C, which can reorder neutral characters (digits, punctuation) on their own.
bool is_hidden_control(std::uint32_t code);

// Returns `text` with invalid UTF-8 sequences replaced by U+FFFD and every control character
// replaced by a space: C0 (ESC included), DEL, C1, and the bidirectional formatting characters
// U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069, which would reorder what a terminal
// shows. With `keep_newlines` yes, '\n' and '\t' are kept and CRLF becomes '\n'. The one
// sanitiser for text from outside (plugin and command output, beats) before it is stored or
// shown.
enum class KeepNewlines { no, yes };
std::string sanitize_text(std::string_view text, KeepNewlines keep_newlines);

// Returns `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary, with "..."
// appended when it was cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

} // namespace hb::checks
