// SPDX-License-Identifier: MIT
#include "core/model/active_hours.hpp"

#include <fmt/format.h>

namespace hb {

std::string ActiveHours::text() const
{
  return fmt::format("{:02}:{:02}-{:02}:{:02}", start_minute / 60, start_minute % 60,
                     end_minute / 60, end_minute % 60);
}

std::optional<ActiveHours> ActiveHours::parse(std::string_view text)
{
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  const auto start = parse_clock_time(text.substr(0, dash));
  const auto end = parse_clock_time(text.substr(dash + 1));
  if (!start || !end || *start >= 24 * 60) {
    return std::nullopt;
  }
  ActiveHours hours;
  hours.start_minute = *start;
  hours.end_minute = *end;
  return hours;
}

bool ActiveHours::contains(int minute_of_day) const
{
  if (start_minute == end_minute) {
    return true;
  }
  if (start_minute < end_minute) {
    return minute_of_day >= start_minute && minute_of_day < end_minute;
  }
  return minute_of_day >= start_minute || minute_of_day < end_minute;
}

std::optional<int> parse_clock_time(std::string_view text)
{
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || !digit(text[0]) || !digit(text[1]) || text[2] != ':' || !digit(text[3])
      || !digit(text[4])) {
    return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours == 24 && minutes == 0) {
    return 24 * 60;
  }
  if (hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return hours * 60 + minutes;
}

} // namespace hb
