// SPDX-License-Identifier: MIT
#include "util/time.hpp"

#include <date/date.h>

#include <algorithm>

namespace hb::util {

TimePoint SystemClock::now() const
{
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

OffsetClock::OffsetClock(TimePoint start)
  : m_start(start), m_steady_start(std::chrono::steady_clock::now())
{
}

TimePoint OffsetClock::now() const
{
  return m_start
         + std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - m_steady_start);
}

std::optional<TimePoint> parse_rfc3339(std::string_view text)
{
  // YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), parsed by hand: strict and locale-free.
  std::size_t i = 0;
  auto digits = [&](std::size_t count, int& value) {
    if (i + count > text.size()) {
      return false;
    }
    value = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const char c = text[i + k];
      if (c < '0' || c > '9') {
        return false;
      }
      value = value * 10 + (c - '0');
    }
    i += count;
    return true;
  };
  auto literal = [&](std::string_view options) {
    if (i < text.size() && options.find(text[i]) != std::string_view::npos) {
      ++i;
      return true;
    }
    return false;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(4, year) || !literal("-") || !digits(2, month) || !literal("-") || !digits(2, day)
      || !literal("Tt ") || !digits(2, hour) || !literal(":") || !digits(2, minute)
      || !literal(":") || !digits(2, second)) {
    return std::nullopt;
  }
  Duration fraction{0};
  if (literal(".")) {
    int scale = 100;
    std::size_t count = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      fraction += Duration((text[i] - '0') * scale);
      scale /= 10;
      ++i;
      ++count;
    }
    if (count == 0) {
      return std::nullopt;
    }
  }
  int offset_minutes = 0;
  if (literal("Zz")) {
    offset_minutes = 0;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!digits(2, oh) || !literal(":") || !digits(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (i != text.size()) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year(year), date::month(static_cast<unsigned>(month)),
                                 date::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const auto midnight = std::chrono::time_point_cast<Duration>(date::sys_days(ymd));
  return midnight + std::chrono::hours(hour) + std::chrono::minutes(minute - offset_minutes)
         + std::chrono::seconds(second) + fraction;
}

std::string format_rfc3339(TimePoint t)
{
  // RFC 3339 has four-digit years: a time past them (a late HB_NOW plus a long duration) would
  // print as "10099-12-06T...", which no RFC 3339 reader accepts.
  static const TimePoint first = std::chrono::time_point_cast<Duration>(
      date::sys_days(date::year(0) / date::January / 1));
  static const TimePoint last =
      std::chrono::time_point_cast<Duration>(date::sys_days(date::year(9999) / date::December / 31))
      + std::chrono::seconds(86'399);
  return date::format("%FT%TZ",
                      std::chrono::time_point_cast<std::chrono::seconds>(std::clamp(t, first, last)));
}

std::int64_t to_unix_ms(TimePoint t) { return t.time_since_epoch().count(); }

TimePoint from_unix_ms(std::int64_t ms) { return TimePoint(Duration(ms)); }

} // namespace hb::util
