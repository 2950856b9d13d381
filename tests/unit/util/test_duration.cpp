// SPDX-License-Identifier: MIT
#include "util/duration.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace {

using hb::Duration;
using hb::TimePoint;
using hb::util::format_age;
using hb::util::format_duration;
using hb::util::format_duration_spec;
using hb::util::parse_duration;
using namespace std::chrono_literals;

constexpr Duration k_ms{1};

} // namespace

TEST_CASE("parse_duration")
{
  SECTION("single units")
  {
    CHECK(parse_duration("500ms") == Duration(500));
    CHECK(parse_duration("30s") == Duration(30'000));
    CHECK(parse_duration("5m") == Duration(5 * 60'000));
    CHECK(parse_duration("24h") == Duration(24 * 3'600'000LL));
    CHECK(parse_duration("7d") == Duration(7 * 86'400'000LL));
    CHECK(parse_duration("1w") == Duration(7 * 86'400'000LL));
    CHECK(parse_duration("0s") == Duration(0));
  }

  SECTION("ms is not read as minutes")
  {
    CHECK(parse_duration("5ms") == Duration(5));
    CHECK(parse_duration("5m") == Duration(300'000));
  }

  SECTION("sums of units")
  {
    CHECK(parse_duration("1h30m") == Duration(90 * 60'000));
    CHECK(parse_duration("1d2h3m4s5ms") == Duration(86'400'000 + 2 * 3'600'000 + 3 * 60'000 + 4'000 + 5));
  }

  SECTION("rejects malformed text")
  {
    CHECK(parse_duration("") == std::nullopt);
    CHECK(parse_duration("30") == std::nullopt);
    CHECK(parse_duration("abc") == std::nullopt);
    CHECK(parse_duration("-5s") == std::nullopt);
    CHECK(parse_duration("+5s") == std::nullopt);
    CHECK(parse_duration("5 m") == std::nullopt);
    CHECK(parse_duration(" 5m") == std::nullopt);
    CHECK(parse_duration("5m ") == std::nullopt);
    CHECK(parse_duration("1.5h") == std::nullopt);
    CHECK(parse_duration("5S") == std::nullopt);
    CHECK(parse_duration("s") == std::nullopt);
    CHECK(parse_duration("30s5") == std::nullopt);
    CHECK(parse_duration("30 minutes") == std::nullopt);
  }

  SECTION("rejects values that overflow")
  {
    CHECK(parse_duration("99999999999999999999d") == std::nullopt);
    CHECK(parse_duration("99999999999999999999ms") == std::nullopt);
    CHECK(parse_duration("9223372036854775807ms") == std::nullopt);
    CHECK(parse_duration("999999999999w") == std::nullopt);
  }
}

TEST_CASE("format_duration")
{
  SECTION("the extremes of the type")
  {
    // Negating the most negative value would overflow (found by the duration fuzzer's review).
    CHECK(format_duration(Duration::min()) == "-" + format_duration(Duration::max()));
    CHECK(format_duration(Duration::max()).rfind("106751991167d", 0) == 0);
  }

  SECTION("below a second in milliseconds")
  {
    CHECK(format_duration(Duration(0)) == "0ms");
    CHECK(format_duration(Duration(500)) == "500ms");
    CHECK(format_duration(Duration(999)) == "999ms");
  }

  SECTION("seconds")
  {
    CHECK(format_duration(42s) == "42s");
    CHECK(format_duration(59'999 * k_ms) == "59.9s");
    CHECK(format_duration(1'250 * k_ms) == "1.2s");
    CHECK(format_duration(3'000 * k_ms) == "3s");
  }

  SECTION("minutes and seconds")
  {
    CHECK(format_duration(5min + 3s) == "5m 3s");
    CHECK(format_duration(1min) == "1m");
  }

  SECTION("hours and minutes")
  {
    CHECK(format_duration(2h + 5min) == "2h 5m");
    CHECK(format_duration(1h) == "1h");
    CHECK(format_duration(1h + 30s) == "1h");
  }

  SECTION("days and hours")
  {
    CHECK(format_duration(3 * 24h + 4h) == "3d 4h");
    CHECK(format_duration(24h) == "1d");
  }

  SECTION("negative durations")
  {
    CHECK(format_duration(-5s) == "-5s");
  }
}

TEST_CASE("format_duration_spec")
{
  SECTION("exact config-style text")
  {
    CHECK(format_duration_spec(90min) == "1h30m");
    CHECK(format_duration_spec(Duration(500)) == "500ms");
    CHECK(format_duration_spec(30min) == "30m");
    CHECK(format_duration_spec(7 * 24h) == "7d");
    CHECK(format_duration_spec(Duration(0)) == "0s");
  }

  SECTION("round-trips through parse_duration")
  {
    for (const Duration d : {Duration(1), Duration(500), Duration(30'000), Duration(90 * 60'000),
                             Duration(86'400'000 + 2 * 3'600'000 + 3 * 60'000 + 4'000 + 5),
                             Duration(14 * 86'400'000LL), Duration(61'001)}) {
      INFO(format_duration_spec(d));
      CHECK(parse_duration(format_duration_spec(d)) == d);
    }
  }
}

TEST_CASE("format_age")
{
  const TimePoint now{Duration(1'771'423'500'000)};

  SECTION("just now within a second")
  {
    CHECK(format_age(now, now) == "just now");
    CHECK(format_age(now - Duration(999), now) == "just now");
    CHECK(format_age(now + Duration(400), now) == "just now");
    CHECK(format_age(now + Duration(1500), now) == "in 2s");
  }

  SECTION("past")
  {
    CHECK(format_age(now - 42s, now) == "42s ago");
    CHECK(format_age(now - 2h - 5min, now) == "2h 5m ago");
  }

  SECTION("future")
  {
    CHECK(format_age(now + 5min, now) == "in 5m");
  }
}
