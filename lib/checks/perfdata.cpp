// SPDX-License-Identifier: MIT
#include "checks/perfdata.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>

namespace hb::checks {
namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD"; // U+FFFD
constexpr std::size_t k_max_label = 200;
constexpr std::size_t k_max_threshold = 64;
constexpr std::size_t k_shown_item = 80;

// The units of measurement the plugin guidelines allow; matched ignoring case ("kB" is common)
// and stored as the plugin wrote them.
constexpr std::array<std::string_view, 10> k_units{"s",  "ms", "us", "%",  "B",
                                                   "KB", "MB", "GB", "TB", "c"};

bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text)
{
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool is_known_unit(std::string_view unit)
{
  if (unit.empty()) {
    return true;
  }
  // "c" (counter) and "s" (seconds) differ only in meaning, never in case, so any case is fine.
  return std::any_of(k_units.begin(), k_units.end(),
                     [&](std::string_view known) { return equals_ignoring_case(unit, known); });
}

// Threshold ranges ([@][start:][end], ~ for -infinity) are kept as text; only their alphabet is
// checked so that nothing odd reaches the database or a Nagios line we print later.
bool looks_like_range(std::string_view text)
{
  return text.size() <= k_max_threshold && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == ':' ||
                  c == '~' || c == '@' || c == 'e' || c == 'E';
         });
}

// Parses a C-locale number at the start of `text`; returns it and the rest, or std::nullopt.
// from_chars never consults the locale, unlike strtod.
std::optional<std::pair<double, std::string_view>> parse_number_prefix(std::string_view text)
{
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) {
    return std::nullopt;
  }
  return std::make_pair(value, text.substr(static_cast<std::size_t>(end - text.data())));
}

class ErrorSink {
public:
  explicit ErrorSink(std::vector<std::string>& errors)
      : m_errors(errors)
  {
  }
  ErrorSink(const ErrorSink&) = delete;
  ErrorSink& operator=(const ErrorSink&) = delete;

  // Adds the count of errors past the limit; call once, at the end.
  void finish()
  {
    if (m_dropped > 0) {
      m_errors.push_back(fmt::format("... and {} more perfdata errors", m_dropped));
    }
  }

  void add(std::string_view item, std::string_view reason)
  {
    if (m_errors.size() >= k_max_perfdata_errors) {
      ++m_dropped;
      return;
    }
    m_errors.push_back(
        fmt::format("perfdata item \"{}\": {}",
                    truncate_utf8(sanitize_text(item.substr(0, 4 * k_shown_item), KeepNewlines::no),
                                  k_shown_item),
                    reason));
  }

private:
  std::vector<std::string>& m_errors;
  std::size_t m_dropped = 0;
};

std::string shown(std::string_view field)
{
  return truncate_utf8(sanitize_text(field.substr(0, 4 * k_shown_item), KeepNewlines::no),
                       k_shown_item);
}

// Parses `value[UOM];warn;crit;min;max` for `label`, appending a metric or an error.
void parse_item(std::string label, std::string_view fields, std::string_view item,
                PluginOutput& out, ErrorSink& errors)
{
  if (label.empty()) {
    errors.add(item, "empty label");
    return;
  }
  if (label.size() > k_max_label) {
    errors.add(item, fmt::format("label longer than {} bytes", k_max_label));
    return;
  }

  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t semicolon = fields.find(';');
    parts.push_back(fields.substr(0, semicolon));
    if (semicolon == std::string_view::npos) {
      break;
    }
    fields.remove_prefix(semicolon + 1);
  }
  if (parts.size() > 5 &&
      std::any_of(parts.begin() + 5, parts.end(), [](std::string_view p) { return !p.empty(); })) {
    errors.add(item, "more than 5 fields (expected value[UOM];warn;crit;min;max)");
    return;
  }

  const std::string_view value_text = parts[0];
  if (value_text.empty()) {
    errors.add(item, "missing value");
    return;
  }
  if (value_text == "U") {
    return; // the plugin says it could not measure this one: not an error
  }
  const auto value = parse_number_prefix(value_text);
  if (!value) {
    errors.add(item, fmt::format("value \"{}\" is not a number", shown(value_text)));
    return;
  }
  if (!std::isfinite(value->first)) {
    errors.add(item, fmt::format("value \"{}\" is not a finite number", shown(value_text)));
    return;
  }
  const std::string_view unit = value->second;
  if (!is_known_unit(unit)) {
    errors.add(item, fmt::format("unknown unit \"{}\" (expected none, s, ms, us, %, B, KB, MB, "
                                 "GB, TB or c)",
                                 shown(unit)));
    return;
  }

  const std::string name = sanitize_text(label, KeepNewlines::no);
  const bool duplicate = std::any_of(out.metrics.begin(), out.metrics.end(),
                                     [&](const Metric& m) { return m.name == name; });
  if (duplicate) {
    errors.add(item, "duplicate label");
    return;
  }
  if (out.metrics.size() >= k_max_metrics) {
    errors.add(item, fmt::format("more than {} metrics", k_max_metrics));
    return;
  }

  Metric metric;
  metric.name = name;
  metric.value = value->first;
  metric.unit = std::string(unit);
  const auto threshold = [&](std::size_t index, std::string_view what) -> std::string {
    if (index >= parts.size() || parts[index].empty()) {
      return {};
    }
    if (!looks_like_range(parts[index])) {
      errors.add(item,
                 fmt::format("{} threshold \"{}\" is not a range (kept the metric without it)",
                             what, shown(parts[index])));
      return {};
    }
    return std::string(parts[index]);
  };
  metric.warn = threshold(1, "warning");
  metric.crit = threshold(2, "critical");
  const auto limit = [&](std::size_t index, std::string_view what) -> std::optional<double> {
    if (index >= parts.size() || parts[index].empty()) {
      return std::nullopt;
    }
    const auto number = parse_number_prefix(parts[index]);
    // min and max share the value's unit; plugins usually leave it off, some repeat it.
    if (!number || !std::isfinite(number->first) ||
        !(number->second.empty() || equals_ignoring_case(number->second, unit))) {
      errors.add(item, fmt::format("{} \"{}\" is not a number (kept the metric without it)", what,
                                   shown(parts[index])));
      return std::nullopt;
    }
    return number->first;
  };
  metric.min = limit(3, "min");
  metric.max = limit(4, "max");
  out.metrics.push_back(std::move(metric));
}

void parse_perfdata(std::string_view perf, PluginOutput& out, ErrorSink& errors)
{
  std::size_t i = 0;
  const std::size_t n = perf.size();
  while (true) {
    while (i < n && is_space(perf[i])) {
      ++i;
    }
    if (i >= n) {
      return;
    }
    const std::size_t item_start = i;
    const auto skip_item = [&] {
      while (i < n && !is_space(perf[i])) {
        ++i;
      }
    };
    std::string label;
    if (perf[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (perf[i] == '\'') {
          if (i + 1 < n && perf[i + 1] == '\'') {
            label += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        label += perf[i++];
      }
      if (!closed) {
        errors.add(perf.substr(item_start), "unterminated quote in the label");
        return;
      }
      if (i >= n || perf[i] != '=') {
        skip_item();
        errors.add(perf.substr(item_start, i - item_start), "expected '=' after the quoted label");
        continue;
      }
    } else {
      while (i < n && perf[i] != '=' && !is_space(perf[i])) {
        label += perf[i++];
      }
      if (i >= n || perf[i] != '=') {
        errors.add(perf.substr(item_start, i - item_start), "expected 'label'=value");
        continue;
      }
    }
    ++i; // '='
    const std::size_t value_start = i;
    skip_item();
    parse_item(std::move(label), perf.substr(value_start, i - value_start),
               perf.substr(item_start, i - item_start), out, errors);
  }
}

} // namespace

bool is_hidden_control(std::uint32_t code)
{
  return (code >= 0x80 && code <= 0x9F) || code == 0x061C || code == 0x200E || code == 0x200F ||
         (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069);
}

std::string sanitize_text(std::string_view text, KeepNewlines keep_newlines)
{
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7F) {
        out += static_cast<char>(c);
      } else if (keep_newlines == KeepNewlines::yes && (c == '\n' || c == '\t')) {
        out += static_cast<char>(c);
      } else if (keep_newlines == KeepNewlines::yes && c == '\r' && i + 1 < n &&
                 text[i + 1] == '\n') {
        // CRLF line ends become plain newlines
      } else {
        out += ' ';
      }
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    std::uint32_t smallest = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code = c & 0x1Fu;
      smallest = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code = c & 0x0Fu;
      smallest = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code = c & 0x07u;
      smallest = 0x10000;
    }
    bool valid = length > 0 && i + length <= n;
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3Fu);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid too.
    valid = valid && code >= smallest && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (!valid) {
      out += k_replacement;
      ++i;
      continue;
    }
    if (is_hidden_control(code)) {
      out += ' ';
      i += length;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes)
{
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  const std::string_view ellipsis = max_bytes >= 3 ? "..." : "";
  std::size_t cut = max_bytes - ellipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  std::string out(text.substr(0, cut));
  out += ellipsis;
  return out;
}

PluginOutput parse_plugin_output(std::string_view text)
{
  PluginOutput out;
  ErrorSink errors(out.perfdata_errors);

  const std::size_t first_newline = text.find('\n');
  const std::string_view first_line = text.substr(0, first_newline);
  const std::string_view rest =
      first_newline == std::string_view::npos ? std::string_view() : text.substr(first_newline + 1);

  const std::size_t first_bar = first_line.find('|');
  const std::string_view summary = trim(first_line.substr(0, first_bar));
  // Sanitizing grows the text (or shrinks it only where hidden controls become spaces), so a
  // slice a little past the limit is enough.
  // Trimmed again after sanitizing: control characters at the ends became spaces.
  out.summary = truncate_utf8(
      trim(sanitize_text(summary.substr(0, k_max_summary + 4), KeepNewlines::no)), k_max_summary);
  if (first_bar != std::string_view::npos) {
    parse_perfdata(first_line.substr(first_bar + 1), out, errors);
  }

  const std::size_t rest_bar = rest.find('|');
  std::string_view long_output = rest.substr(0, rest_bar);
  while (!long_output.empty() && is_space(long_output.back())) {
    long_output.remove_suffix(1);
  }
  out.long_output =
      truncate_utf8(sanitize_text(long_output.substr(0, k_max_long_output + 4), KeepNewlines::yes),
                    k_max_long_output);
  if (rest_bar != std::string_view::npos) {
    parse_perfdata(rest.substr(rest_bar + 1), out, errors);
  }
  errors.finish();
  return out;
}

} // namespace hb::checks
