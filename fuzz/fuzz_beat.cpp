// SPDX-License-Identifier: MIT
// Fuzzes what hb-beat makes of its arguments before anything is recorded: the target id
// (hb::agents::check_target_id), --message (cap_message) and --metric (parse_metric_arg,
// beat_input). The input is split at NUL bytes, which no command-line argument can hold: the
// first piece is the target and the message, the rest are --metric values. Besides sanitizer
// findings, aborts when a result breaks what lib/agents/beats.hpp and wrap.hpp promise: the
// message capped, valid UTF-8 without control or bidirectional formatting characters; metrics
// with names from their alphabet, finite values, known units, no name twice, at most 32; and
// every refusal a UsageError whose message is as safe to print as the message itself.
#include "agents/beats.hpp"
#include "agents/wrap.hpp"
#include "core/errors.hpp"
#include "fuzz_text.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using hb::checks::KeepNewlines;

constexpr std::size_t k_max_message = 1024; // cap_message's default, what hb-beat stores
constexpr std::size_t k_max_error = 2048;   // an error line a person can still read
constexpr std::size_t k_max_metric_name = 64;
constexpr std::size_t k_max_metrics = 32;
constexpr std::array<std::string_view, 10> k_units{"%",  "s",  "ms", "us", "B",
                                                   "KB", "MB", "GB", "TB", "c"};

std::size_t g_size = 0;

[[noreturn]] void fail(const std::string& what)
{
  std::fprintf(stderr, "fuzz_beat: %s (input of %zu bytes)\n", what.c_str(), g_size);
  std::abort();
}

void check_clean(std::string_view text, const std::string& what)
{
  if (!hb::fuzz::is_valid_utf8(text)) {
    fail(what + " is not valid UTF-8");
  }
  if (hb::fuzz::has_control(text, KeepNewlines::no)) {
    fail(what + " has a control or bidi formatting character");
  }
}

void check_refusal(const hb::UsageError& e, const std::string& what)
{
  const std::string message = e.what();
  if (message.empty()) {
    fail(what + " refused without a message");
  }
  if (message.size() > k_max_error) {
    fail(what + " refused with a message of " + std::to_string(message.size()) + " bytes");
  }
  check_clean(message, what + "'s refusal");
}

bool is_name_char(char c, bool first)
{
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return first ? letter : letter || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-';
}

void check_metric(const hb::Metric& metric)
{
  const std::string& name = metric.name;
  if (name.empty() || name.size() > k_max_metric_name || !is_name_char(name.front(), true) ||
      !std::all_of(name.begin() + 1, name.end(), [](char c) { return is_name_char(c, false); })) {
    fail("metric name \"" + name + "\" outside its alphabet");
  }
  if (!std::isfinite(metric.value)) {
    fail("metric \"" + name + "\" is not finite");
  }
  if (!metric.unit.empty() &&
      std::find(k_units.begin(), k_units.end(), metric.unit) == k_units.end()) {
    fail("metric \"" + name + "\" has unit \"" + metric.unit + "\"");
  }
}

void check_metric_arg(const std::string& text)
{
  std::string error;
  const auto metric = hb::agents::parse_metric_arg(text, error);
  if (metric) {
    check_metric(*metric);
    return;
  }
  if (error.empty() || error.size() > k_max_error) {
    fail("parse_metric_arg refused with an error of " + std::to_string(error.size()) + " bytes");
  }
  check_clean(error, "parse_metric_arg's error");
}

void check_beat_input(const std::string& message, const std::vector<std::string>& metrics)
{
  hb::agents::BeatInput beat;
  try {
    beat = hb::agents::beat_input(hb::BeatStatus::healthy, message, metrics);
  } catch (const hb::UsageError& e) {
    check_refusal(e, "beat_input");
    return;
  }
  if (beat.message.size() > k_max_message) {
    fail("a message of " + std::to_string(beat.message.size()) + " bytes");
  }
  check_clean(beat.message, "the message");
  if (beat.metrics.size() != metrics.size() || beat.metrics.size() > k_max_metrics) {
    fail(std::to_string(beat.metrics.size()) + " metrics from " + std::to_string(metrics.size()) +
         " arguments");
  }
  std::set<std::string> names;
  for (const auto& metric : beat.metrics) {
    check_metric(metric);
    if (!names.insert(metric.name).second) {
      fail("metric \"" + metric.name + "\" twice");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  g_size = size;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (true) {
    const std::size_t nul = input.find('\0', start);
    pieces.emplace_back(input.substr(start, nul == std::string_view::npos ? nul : nul - start));
    if (nul == std::string_view::npos) {
      break;
    }
    start = nul + 1;
  }
  const std::string& first = pieces.front();
  const std::vector<std::string> metrics(pieces.begin() + 1, pieces.end());

  try {
    hb::agents::check_target_id(first);
  } catch (const hb::UsageError& e) {
    check_refusal(e, "check_target_id");
  }
  // A message given in full and capped short: the cut must keep it clean too.
  check_clean(hb::agents::cap_message(first), "cap_message's result");
  const std::string short_cap = hb::agents::cap_message(first, size % 17);
  if (short_cap.size() > size % 17) {
    fail("cap_message exceeded its limit");
  }
  check_clean(short_cap, "a short cap_message result");
  for (const auto& metric : metrics) {
    check_metric_arg(metric);
  }
  check_beat_input(first, metrics);
  return 0;
}
