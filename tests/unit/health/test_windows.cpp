// SPDX-License-Identifier: MIT
#include "health/windows.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using hb::ActiveHours;
using hb::TimePoint;
using namespace std::chrono_literals;

TimePoint at(const char* text)
{
  return *hb::util::parse_rfc3339(text);
}

ActiveHours hours(int start_h, int end_h)
{
  return ActiveHours{start_h * 60, end_h * 60};
}

const TimePoint k_unbounded = at("2000-01-01T00:00:00Z");

} // namespace

TEST_CASE("within_active_hours")
{
  using hb::health::within_active_hours;

  SECTION("UTC window, end exclusive")
  {
    const auto h = hours(9, 17);
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T09:00:00Z")));
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T16:59:59Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T17:00:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T08:59:59Z")));
  }

  SECTION("America/New_York across the DST change of 2026-03-08")
  {
    const auto h = hours(9, 17);
    const std::string zone = "America/New_York";
    // The day before, 13:30Z is 08:30 EST: outside.
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-07T13:30:00Z")));
    // On the DST day, 13:30Z is 09:30 EDT: inside (it would be 08:30 if EST were still used).
    CHECK(within_active_hours(h, zone, at("2026-03-08T13:30:00Z")));
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-08T12:59:00Z")));
    CHECK(within_active_hours(h, zone, at("2026-03-08T13:00:00Z")));
    // 17:00 EDT is 21:00Z.
    CHECK(within_active_hours(h, zone, at("2026-03-08T20:59:00Z")));
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-08T21:00:00Z")));
  }

  SECTION("Europe/London across the DST change of 2026-03-29")
  {
    const auto h = hours(9, 17);
    const std::string zone = "Europe/London";
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-28T08:30:00Z")));  // 08:30 GMT
    CHECK(within_active_hours(h, zone, at("2026-03-29T08:30:00Z")));        // 09:30 BST
    CHECK(within_active_hours(h, zone, at("2026-03-29T15:59:00Z")));        // 16:59 BST
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-29T16:00:00Z")));  // 17:00 BST
  }

  SECTION("a window that wraps past midnight")
  {
    const auto h = hours(22, 6);
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T22:00:00Z")));
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T23:30:00Z")));
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T00:00:00Z")));
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T05:59:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T06:00:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T12:00:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T21:59:00Z")));
  }

  SECTION("a wrapping window in a timezone")
  {
    const auto h = hours(22, 6);
    // 03:30Z is 22:30 EST the day before.
    CHECK(within_active_hours(h, "America/New_York", at("2026-02-18T03:30:00Z")));
    // 12:00Z is 07:00 EST.
    CHECK_FALSE(within_active_hours(h, "America/New_York", at("2026-02-18T12:00:00Z")));
  }

  SECTION("start == end is the whole day")
  {
    const auto h = hours(8, 8);
    for (const char* t : {"2026-02-18T00:00:00Z", "2026-02-18T07:59:00Z", "2026-02-18T08:00:00Z",
                          "2026-02-18T23:59:59Z"}) {
      INFO(t);
      CHECK(within_active_hours(h, "Europe/London", at(t)));
    }
  }

  SECTION("an end of 24:00")
  {
    const auto h = ActiveHours{18 * 60, 1440};
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T23:59:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T00:00:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T17:59:00Z")));
  }

  SECTION("New York, 22:00-06:00 across midnight (EST is UTC-5)")
  {
    const auto night = hours(22, 6);
    const char* ny = "America/New_York";
    CHECK_FALSE(within_active_hours(night, ny, at("2026-02-18T02:59:00Z")));  // 21:59
    CHECK(within_active_hours(night, ny, at("2026-02-18T03:00:00Z")));        // 22:00
    CHECK(within_active_hours(night, ny, at("2026-02-18T05:00:00Z")));        // 00:00
    CHECK(within_active_hours(night, ny, at("2026-02-18T10:59:00Z")));        // 05:59
    CHECK_FALSE(within_active_hours(night, ny, at("2026-02-18T11:00:00Z")));  // 06:00
    // The same instant falls the other way in UTC: 23:00Z is 18:00 EST.
    CHECK_FALSE(within_active_hours(night, ny, at("2026-02-18T23:00:00Z")));
    CHECK(within_active_hours(night, "UTC", at("2026-02-18T23:00:00Z")));
  }

  SECTION("an empty or unknown timezone reads as UTC")
  {
    CHECK(within_active_hours(hours(9, 21), "", at("2026-02-18T09:00:00Z")));
    CHECK(within_active_hours(hours(9, 21), "Not/AZone", at("2026-02-18T09:00:00Z")));
  }
}

TEST_CASE("active_window_start")
{
  using hb::health::active_window_start;

  SECTION("without active hours, or with a whole-day window, returns `unbounded`")
  {
    CHECK(active_window_start(std::nullopt, "UTC", at("2026-02-18T12:00:00Z"), k_unbounded)
          == k_unbounded);
    CHECK(active_window_start(hours(0, 0), "UTC", at("2026-02-18T12:00:00Z"), k_unbounded)
          == k_unbounded);
  }

  SECTION("UTC: today's start inside the window, none outside it")
  {
    CHECK(active_window_start(hours(9, 21), "UTC", at("2026-02-18T12:00:00Z"), k_unbounded)
          == at("2026-02-18T09:00:00Z"));
    CHECK(active_window_start(hours(9, 21), "UTC", at("2026-02-18T09:00:00Z"), k_unbounded)
          == at("2026-02-18T09:00:00Z"));
    CHECK_FALSE(
      active_window_start(hours(9, 21), "UTC", at("2026-02-18T21:00:00Z"), k_unbounded));
  }

  SECTION("New York across midnight: the after-midnight part began yesterday evening")
  {
    const char* ny = "America/New_York";
    // 23:00 EST on the 17th: began 22:00 that evening.
    CHECK(active_window_start(hours(22, 6), ny, at("2026-02-18T04:00:00Z"), k_unbounded)
          == at("2026-02-18T03:00:00Z"));
    // 05:00 EST on the 18th: still the window that began 22:00 on the 17th.
    CHECK(active_window_start(hours(22, 6), ny, at("2026-02-18T10:00:00Z"), k_unbounded)
          == at("2026-02-18T03:00:00Z"));
    // 06:00 EST: outside.
    CHECK_FALSE(active_window_start(hours(22, 6), ny, at("2026-02-18T11:00:00Z"), k_unbounded));
  }

  SECTION("a start inside a DST gap maps to the transition instant")
  {
    // 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT (07:00Z); 02:30 does not exist.
    const ActiveHours from_0230{2 * 60 + 30, 12 * 60};
    CHECK(active_window_start(from_0230, "America/New_York", at("2026-03-08T09:00:00Z"),
                              k_unbounded)
          == at("2026-03-08T07:00:00Z"));
  }
}

TEST_CASE("in_grace")
{
  using hb::health::in_grace;
  const TimePoint first_seen = at("2026-02-18T09:00:00Z");

  SECTION("inside the grace up to, not including, its end")
  {
    CHECK(in_grace(first_seen, 24h, first_seen));
    CHECK(in_grace(first_seen, 24h, first_seen + 24h - 1ms));
    CHECK_FALSE(in_grace(first_seen, 24h, first_seen + 24h));
  }

  SECTION("no grace configured: never in grace")
  {
    CHECK_FALSE(in_grace(first_seen, 0ms, first_seen));
  }

  SECTION("first seen in the future (clock skew): not trusted to keep alerts quiet")
  {
    CHECK_FALSE(in_grace(first_seen, 24h, first_seen - 2h));
    CHECK(in_grace(first_seen, 24h, first_seen - 30s));  // another host's clock
  }
}
