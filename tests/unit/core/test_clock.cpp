// SPDX-License-Identifier: MIT
#include "core/clock.hpp"

#include "core/errors.hpp"
#include "support/test_helpers.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>

#include <chrono>

namespace {

using hb::Duration;
using hb::TimePoint;
using hb::test::ScopedEnv;
using namespace std::chrono_literals;

TimePoint utc(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
  const auto day = date::sys_days(date::year(y) / date::month(mo) / date::day(d));
  return std::chrono::time_point_cast<Duration>(day) + std::chrono::hours(h)
         + std::chrono::minutes(mi) + std::chrono::seconds(s);
}

} // namespace

TEST_CASE("clock_from_environment")
{
  SECTION("HB_NOW set selects an offset clock at that instant")
  {
    ScopedEnv env("HB_NOW", "2026-02-18T14:05:00Z");
    const auto clock = hb::clock_from_environment();
    REQUIRE(dynamic_cast<const hb::util::OffsetClock*>(clock.get()) != nullptr);
    const TimePoint now = clock->now();
    CHECK(now >= utc(2026, 2, 18, 14, 5, 0));
    CHECK(now < utc(2026, 2, 18, 14, 5, 5));
  }

  SECTION("HB_NOW unset selects the system clock")
  {
    ScopedEnv env("HB_NOW", nullptr);
    const auto clock = hb::clock_from_environment();
    REQUIRE(dynamic_cast<const hb::util::SystemClock*>(clock.get()) != nullptr);
    const TimePoint system = hb::util::SystemClock().now();
    CHECK(clock->now() >= system - 5s);
    CHECK(clock->now() <= system + 5s);
  }

  SECTION("HB_NOW empty selects the system clock")
  {
    ScopedEnv env("HB_NOW", "");
    const auto clock = hb::clock_from_environment();
    CHECK(dynamic_cast<const hb::util::SystemClock*>(clock.get()) != nullptr);
  }

  SECTION("HB_NOW invalid is a usage error quoting the value")
  {
    ScopedEnv env("HB_NOW", "yesterday");
    REQUIRE_THROWS_MATCHES(
      hb::clock_from_environment(), hb::UsageError,
      Catch::Matchers::Message(
        "HB_NOW: expected an RFC 3339 timestamp like \"2026-02-18T14:05:00Z\", got \"yesterday\""));
    try {
      hb::clock_from_environment();
    } catch (const hb::UsageError& e) {
      CHECK(e.exit_code() == hb::ExitCode::usage);
    }
  }
}

TEST_CASE("from_the_future and skew_text")
{
  const TimePoint now = utc(2026, 12, 1, 1, 0, 0);
  CHECK_FALSE(hb::from_the_future(now, now));
  CHECK_FALSE(hb::from_the_future(now + hb::k_clock_skew_tolerance, now));
  CHECK(hb::from_the_future(now + hb::k_clock_skew_tolerance + 1ms, now));
  CHECK_FALSE(hb::from_the_future(std::optional<TimePoint>(), now));
  CHECK(hb::from_the_future(std::optional<TimePoint>(utc(2027, 6, 1, 0, 0, 0)), now));
  CHECK(hb::skew_text(now + 90min, now) == "dated 1h 30m ahead of this clock (clock skew?)");
}
