// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hb {

// A daily window in a target's timezone, "09:00" to "21:00". When end <= start the window wraps
// past midnight ("22:00"-"06:00"). start == end means the whole day.
struct ActiveHours {
  int start_minute = 0;  // minutes after local midnight, 0..1439
  int end_minute = 0;    // 0..1440 (1440 is "24:00")
  std::string text() const;  // "09:00-21:00"
  // Parses what text() produces; std::nullopt when malformed.
  static std::optional<ActiveHours> parse(std::string_view text);
  // Returns true when `minute_of_day` (0..1439, local time) falls inside the window.
  bool contains(int minute_of_day) const;
};

// Parses 24-hour "HH:MM" ("00:00".."23:59", and "24:00" as 1440) into minutes after midnight;
// std::nullopt when malformed.
std::optional<int> parse_clock_time(std::string_view text);

} // namespace hb
