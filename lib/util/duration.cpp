// SPDX-License-Identifier: MIT
#include "util/duration.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>

namespace hb::util {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Longest suffix first so "ms" is not read as "m".
constexpr std::array k_units{
  Unit{"ms", 1},
  Unit{"s", 1000},
  Unit{"m", 60 * 1000},
  Unit{"h", 60 * 60 * 1000},
  Unit{"d", 24 * 60 * 60 * 1000},
  Unit{"w", 7 * 24 * 60 * 60 * 1000LL},
  Unit{"y", 365 * 24 * 60 * 60 * 1000LL},  // 365 days: retention periods ("2y")
};

} // namespace

std::optional<Duration> parse_duration(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  constexpr std::int64_t k_max = std::numeric_limits<std::int64_t>::max() / 4;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    std::int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (number > k_max / 10) {
        return std::nullopt;
      }
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    const Unit* unit = nullptr;
    for (const auto& u : k_units) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return std::nullopt;
    }
    i += unit->suffix.size();
    if (number > (k_max - total) / unit->ms) {
      return std::nullopt;
    }
    total += number * unit->ms;
  }
  return Duration(total);
}

std::string format_duration(Duration d)
{
  std::int64_t ms = d.count();
  if (ms < 0) {
    // -ms overflows for the most negative value; one millisecond less is the same text.
    return "-" + format_duration(Duration(ms == std::numeric_limits<std::int64_t>::min()
                                                  ? std::numeric_limits<std::int64_t>::max()
                                                  : -ms));
  }
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  const std::int64_t s = ms / 1000;
  if (s < 60) {
    // Tenths below a minute, so latencies read "1.2s"; whole seconds print without ".0".
    const std::int64_t tenths = (ms % 1000) / 100;
    return tenths == 0 ? fmt::format("{}s", s) : fmt::format("{}.{}s", s, tenths);
  }
  const std::int64_t m = s / 60;
  if (m < 60) {
    return s % 60 == 0 ? fmt::format("{}m", m) : fmt::format("{}m {}s", m, s % 60);
  }
  const std::int64_t h = m / 60;
  if (h < 24) {
    return m % 60 == 0 ? fmt::format("{}h", h) : fmt::format("{}h {}m", h, m % 60);
  }
  const std::int64_t days = h / 24;
  return h % 24 == 0 ? fmt::format("{}d", days) : fmt::format("{}d {}h", days, h % 24);
}

std::string format_duration_spec(Duration d)
{
  std::int64_t ms = d.count();
  if (ms <= 0) {
    return "0s";
  }
  std::string out;
  for (auto it = k_units.rbegin(); it != k_units.rend(); ++it) {
    if (it->suffix == "w" || it->suffix == "y") {
      continue;
    }
    if (ms >= it->ms) {
      out += fmt::format("{}{}", ms / it->ms, it->suffix);
      ms %= it->ms;
    }
  }
  return out;
}

std::string format_age(TimePoint then, TimePoint now)
{
  const Duration diff = now - then;
  // Within a second either way (a run that finished a few milliseconds after a clock that
  // started later read "now") is "just now", never "in 0ms".
  if (diff > Duration(-1000) && diff < Duration(1000)) {
    return "just now";
  }
  // Whole seconds, rounded: a run 1m 59.998s ago reads "2m ago".
  auto rounded = [](Duration d) { return Duration((d.count() + 500) / 1000 * 1000); };
  if (diff.count() < 0) {
    return "in " + format_duration(rounded(-diff));
  }
  return format_duration(rounded(diff)) + " ago";
}

} // namespace hb::util
