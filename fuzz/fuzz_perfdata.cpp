// SPDX-License-Identifier: MIT
// Fuzzes the plugin output parser and the text helpers behind it (hb::checks::parse_plugin_output,
// sanitize_text, truncate_utf8). Besides sanitizer findings, aborts when a result breaks what
// lib/checks/perfdata.hpp promises: limits kept, text valid UTF-8 without control characters
// (bidirectional formatting characters included), metric names unique, numbers finite,
// thresholds and units from their alphabets.
#include "checks/perfdata.hpp"
#include "fuzz_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace {

using hb::checks::KeepNewlines;

std::string_view g_input;

[[noreturn]] void fail(const std::string& what)
{
  std::fprintf(stderr, "fuzz_perfdata: %s (input of %zu bytes)\n", what.c_str(), g_input.size());
  std::abort();
}

using hb::fuzz::has_control;
using hb::fuzz::is_valid_utf8;

void check_clean(std::string_view text, KeepNewlines keep_newlines, const std::string& what)
{
  if (!is_valid_utf8(text)) {
    fail(what + " is not valid UTF-8");
  }
  if (has_control(text, keep_newlines)) {
    fail(what + " has a control character");
  }
}

void check_sanitize(std::string_view text, KeepNewlines keep_newlines)
{
  const std::string out = hb::checks::sanitize_text(text, keep_newlines);
  check_clean(out, keep_newlines, "sanitize_text's result");
  // Clean text passes unchanged (with newlines kept, a CR before LF is dropped by design).
  const bool clean = is_valid_utf8(text) && !has_control(text, keep_newlines);
  if (clean && out != text) {
    fail("sanitize_text changed text that was already clean");
  }
}

void check_truncate(std::string_view text, std::size_t max_bytes)
{
  const std::string out = hb::checks::truncate_utf8(text, max_bytes);
  if (out.size() > max_bytes) {
    fail("truncate_utf8 gave " + std::to_string(out.size()) + " bytes for a limit of " +
         std::to_string(max_bytes));
  }
  if (text.size() <= max_bytes) {
    if (out != text) {
      fail("truncate_utf8 changed text within the limit");
    }
    return;
  }
  const std::string_view ellipsis = max_bytes >= 3 ? "..." : "";
  const std::string_view kept = std::string_view(out).substr(0, out.size() - std::min(out.size(), ellipsis.size()));
  if (std::string_view(out).substr(kept.size()) != ellipsis) {
    fail("truncate_utf8 did not end a cut text with \"" + std::string(ellipsis) + "\"");
  }
  if (text.substr(0, kept.size()) != kept) {
    fail("truncate_utf8 kept something that is not a prefix of the text");
  }
  if (is_valid_utf8(text) && !is_valid_utf8(out)) {
    fail("truncate_utf8 cut valid UTF-8 inside a character");
  }
}

bool is_range_text(std::string_view text)
{
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == ':' || c == '~' ||
           c == '@' || c == 'e' || c == 'E';
  });
}

void check_plugin_output(std::string_view text)
{
  const hb::checks::PluginOutput out = hb::checks::parse_plugin_output(text);
  if (out.summary.size() > hb::checks::k_max_summary) {
    fail("summary of " + std::to_string(out.summary.size()) + " bytes");
  }
  check_clean(out.summary, KeepNewlines::no, "the summary");
  if (!out.summary.empty() && (out.summary.front() == ' ' || out.summary.back() == ' ')) {
    fail("the summary is not trimmed");
  }
  if (out.long_output.size() > hb::checks::k_max_long_output) {
    fail("long output of " + std::to_string(out.long_output.size()) + " bytes");
  }
  check_clean(out.long_output, KeepNewlines::yes, "the long output");
  if (out.metrics.size() > hb::checks::k_max_metrics) {
    fail(std::to_string(out.metrics.size()) + " metrics");
  }
  if (out.perfdata_errors.size() > hb::checks::k_max_perfdata_errors + 1) {
    fail(std::to_string(out.perfdata_errors.size()) + " perfdata errors");
  }
  for (const auto& error : out.perfdata_errors) {
    check_clean(error, KeepNewlines::no, "a perfdata error");
  }
  std::set<std::string> names;
  for (const auto& metric : out.metrics) {
    if (metric.name.empty()) {
      fail("a metric without a name");
    }
    check_clean(metric.name, KeepNewlines::no, "a metric name");
    if (!names.insert(metric.name).second) {
      fail("metric name \"" + metric.name + "\" repeats");
    }
    if (!std::isfinite(metric.value) || (metric.min && !std::isfinite(*metric.min)) ||
        (metric.max && !std::isfinite(*metric.max))) {
      fail("metric \"" + metric.name + "\" has a number that is not finite");
    }
    if (!is_range_text(metric.warn) || !is_range_text(metric.crit)) {
      fail("metric \"" + metric.name + "\" has a threshold outside the range alphabet");
    }
    check_clean(metric.unit, KeepNewlines::no, "a metric unit");
    if (metric.unit.size() > 2) {
      fail("metric \"" + metric.name + "\" has unit \"" + metric.unit + "\"");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  g_input = text;
  check_plugin_output(text);
  check_sanitize(text, KeepNewlines::no);
  check_sanitize(text, KeepNewlines::yes);
  // The limits where cutting is interesting: none, below the ellipsis, and inside the text.
  std::size_t hash = size;
  for (std::size_t i = 0; i < size; ++i) {
    hash = hash * 31 + data[i];
  }
  for (std::size_t max_bytes : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3},
                                std::size_t{4}, hash % (size + 1), size}) {
    check_truncate(text, max_bytes);
  }
  return 0;
}
