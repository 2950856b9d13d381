// SPDX-License-Identifier: MIT
#include "util/time.hpp"


#include <catch2/catch.hpp>
#include <date/date.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace {

using hb::Duration;
using hb::TimePoint;
using hb::util::format_rfc3339;
using hb::util::from_unix_ms;
using hb::util::parse_rfc3339;
using hb::util::to_unix_ms;
using namespace std::chrono_literals;

TimePoint utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0)
{
  const auto day = date::sys_days(date::year(y) / date::month(mo) / date::day(d));
  return std::chrono::time_point_cast<Duration>(day) + std::chrono::hours(h)
         + std::chrono::minutes(mi) + std::chrono::seconds(s) + Duration(ms);
}

} // namespace

TEST_CASE("parse_rfc3339")
{
  const TimePoint expected = utc(2026, 2, 18, 14, 5, 0);

  SECTION("UTC with Z or z")
  {
    CHECK(parse_rfc3339("2026-02-18T14:05:00Z") == expected);
    CHECK(parse_rfc3339("2026-02-18T14:05:00z") == expected);
    CHECK(parse_rfc3339("2026-02-18t14:05:00Z") == expected);
    CHECK(parse_rfc3339("2026-02-18 14:05:00Z") == expected);
  }

  SECTION("numeric offsets")
  {
    CHECK(parse_rfc3339("2026-02-18T19:35:00+05:30") == expected);
    CHECK(parse_rfc3339("2026-02-18T09:05:00-05:00") == expected);
    CHECK(parse_rfc3339("2026-02-18T14:05:00+00:00") == expected);
    CHECK(parse_rfc3339("2026-02-19T00:05:00+10:00") == expected);
  }

  SECTION("fractions of a second")
  {
    CHECK(parse_rfc3339("2026-02-18T09:05:00.250-05:00") == expected + 250ms);
    CHECK(parse_rfc3339("2026-02-18T14:05:00.5Z") == expected + 500ms);
    CHECK(parse_rfc3339("2026-02-18T14:05:00.123456Z") == expected + 123ms);
  }

  SECTION("invalid dates and times")
  {
    CHECK(parse_rfc3339("2026-02-30T00:00:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-13-01T00:00:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-00-10T00:00:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-00T00:00:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T24:00:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:60:00Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05:00+24:00") == std::nullopt);
  }

  SECTION("garbage and incomplete text")
  {
    CHECK(parse_rfc3339("") == std::nullopt);
    CHECK(parse_rfc3339("garbage") == std::nullopt);
    CHECK(parse_rfc3339("yesterday") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05:00") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05:00.Z") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05:00+0500") == std::nullopt);
    CHECK(parse_rfc3339("2026-02-18T14:05:00Zjunk") == std::nullopt);
    CHECK(parse_rfc3339(" 2026-02-18T14:05:00Z") == std::nullopt);
  }
}

TEST_CASE("format_rfc3339")
{
  SECTION("UTC with second precision")
  {
    CHECK(format_rfc3339(utc(2026, 2, 18, 14, 5, 0)) == "2026-02-18T14:05:00Z");
    CHECK(format_rfc3339(utc(2026, 2, 18, 14, 5, 0, 999)) == "2026-02-18T14:05:00Z");
    CHECK(format_rfc3339(from_unix_ms(0)) == "1970-01-01T00:00:00Z");
  }

  SECTION("years past 9999 or before 0000 are its last or first second")
  {
    const TimePoint last = utc(9999, 12, 31, 23, 59, 59);
    CHECK(format_rfc3339(last) == "9999-12-31T23:59:59Z");
    CHECK(format_rfc3339(last + std::chrono::hours(24 * 365 * 100)) == "9999-12-31T23:59:59Z");
    CHECK(format_rfc3339(utc(0, 1, 1, 0, 0, 0) - std::chrono::hours(1)) == "0000-01-01T00:00:00Z");
  }

  SECTION("round-trips through parse_rfc3339")
  {
    const TimePoint t = utc(2026, 12, 31, 23, 59, 59);
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  }
}

TEST_CASE("to_unix_ms")
{
  SECTION("milliseconds since the epoch")
  {
    CHECK(to_unix_ms(from_unix_ms(0)) == 0);
    CHECK(to_unix_ms(utc(1970, 1, 1, 0, 0, 1, 500)) == 1500);
    CHECK(to_unix_ms(utc(2026, 2, 18, 14, 5, 0)) == 1'771'423'500'000);
  }

  SECTION("from_unix_ms is its inverse")
  {
    CHECK(from_unix_ms(1'771'423'500'123) == utc(2026, 2, 18, 14, 5, 0, 123));
    CHECK(to_unix_ms(from_unix_ms(-42)) == -42);
  }
}

TEST_CASE("OffsetClock")
{
  SECTION("starts at the chosen instant and advances with real time")
  {
    const TimePoint start = utc(2026, 2, 18, 14, 5, 0);
    const hb::util::OffsetClock clock(start);
    const TimePoint first = clock.now();
    CHECK(first >= start);
    CHECK(first < start + 1s);
    std::this_thread::sleep_for(60ms);
    const TimePoint later = clock.now();
    CHECK(later >= start + 60ms);
    CHECK(later < start + 5s);
  }
}

TEST_CASE("ManualClock")
{
  SECTION("moves only when told to")
  {
    const TimePoint start = utc(2026, 2, 18, 14, 5, 0);
    hb::util::ManualClock clock(start);
    CHECK(clock.now() == start);
    clock.advance(5min);
    CHECK(clock.now() == start + 5min);
    clock.set(start);
    CHECK(clock.now() == start);
  }
}
