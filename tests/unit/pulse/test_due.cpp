// SPDX-License-Identifier: MIT
#include "pulse/due.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace {

using hb::Duration;
using hb::TimePoint;
using hb::config::ActiveHours;
using hb::config::Target;
using hb::pulse::check_due;
using hb::pulse::Force;
using hb::pulse::within_active_hours;
using namespace std::chrono_literals;

TimePoint at(const char* rfc3339)
{
  const auto t = hb::util::parse_rfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

Target make_target(Duration interval = 30min)
{
  Target t;
  t.id = "acme";
  t.name = "Acme";
  t.interval = interval;
  return t;
}

ActiveHours hours(int start_h, int start_m, int end_h, int end_m)
{
  return ActiveHours{start_h * 60 + start_m, end_h * 60 + end_m};
}

} // namespace

TEST_CASE("interval_slack")
{
  SECTION("a tenth of the interval, at most 30 s")
  {
    CHECK(hb::pulse::interval_slack(1min) == 6s);
    CHECK(hb::pulse::interval_slack(5min) == 30s);
    CHECK(hb::pulse::interval_slack(30min) == 30s);
    CHECK(hb::pulse::interval_slack(Duration(0)) == Duration(0));
  }
}

TEST_CASE("check_due")
{
  const TimePoint now = at("2026-02-18T14:00:00Z");

  SECTION("paused is never due, even forced")
  {
    Target t = make_target();
    t.paused = true;
    for (const Force force : {Force::no, Force::yes}) {
      const auto d = check_due(t, std::nullopt, now, force);
      CHECK_FALSE(d.due);
      CHECK(d.reason == "paused");
      CHECK_FALSE(d.next_run);
    }
  }

  SECTION("forced ignores the interval and active hours")
  {
    Target t = make_target();
    t.active_hours = hours(9, 0, 10, 0);
    const auto d = check_due(t, now - 1min, now, Force::yes);
    CHECK(d.due);
    CHECK(d.reason == "forced");
  }

  SECTION("never ran")
  {
    const auto d = check_due(make_target(), std::nullopt, now, Force::no);
    CHECK(d.due);
    CHECK(d.reason == "never ran");
    CHECK_FALSE(d.next_run);
  }

  SECTION("interval not elapsed")
  {
    const auto d = check_due(make_target(), now - 10min, now, Force::no);
    CHECK_FALSE(d.due);
    CHECK(d.reason == "ran 10m ago, interval 30m");
    CHECK(d.next_run == std::optional<TimePoint>(now + 20min));
  }

  SECTION("interval elapsed")
  {
    const auto d = check_due(make_target(), now - 31min, now, Force::no);
    CHECK(d.due);
    CHECK(d.reason == "interval elapsed");
  }

  SECTION("the slack makes a run due a little early")
  {
    const Target t = make_target(30min);
    CHECK(check_due(t, now - (29min + 50s), now, Force::no).due);
    CHECK(check_due(t, now - (29min + 30s), now, Force::no).due);
    const auto early = check_due(t, now - (29min + 30s) + 1ms, now, Force::no);
    CHECK_FALSE(early.due);
    const auto d = check_due(t, now - 29min, now, Force::no);
    CHECK_FALSE(d.due);
    CHECK(d.reason == "ran 29m ago, interval 30m");
    CHECK(d.next_run == std::optional<TimePoint>(now + 1min));
  }

  SECTION("the slack of a short interval is a tenth")
  {
    const Target t = make_target(1min);
    CHECK(check_due(t, now - 54s, now, Force::no).due);
    CHECK_FALSE(check_due(t, now - 53s, now, Force::no).due);
  }

  SECTION("outside active hours")
  {
    Target t = make_target();
    t.active_hours = hours(9, 0, 17, 0);
    t.timezone = "America/New_York";
    // 14:00Z is 09:00 EST: inside. 13:59Z is 08:59: outside.
    CHECK(check_due(t, std::nullopt, now, Force::no).due);
    const auto d = check_due(t, std::nullopt, now - 1min, Force::no);
    CHECK_FALSE(d.due);
    CHECK(d.reason == "outside active hours 09:00-17:00 America/New_York");
    CHECK_FALSE(d.next_run);
  }

  SECTION("inside active hours the interval still applies")
  {
    Target t = make_target();
    t.active_hours = hours(9, 0, 17, 0);
    t.timezone = "America/New_York";
    const auto later = at("2026-02-18T16:00:00Z");
    const auto d = check_due(t, later - 5min, later, Force::no);
    CHECK_FALSE(d.due);
    CHECK(d.reason == "ran 5m ago, interval 30m");
  }
}

TEST_CASE("within_active_hours")
{
  SECTION("UTC window, end exclusive")
  {
    const auto h = hours(9, 0, 17, 0);
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T09:00:00Z")));
    CHECK(within_active_hours(h, "UTC", at("2026-02-18T16:59:59Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T17:00:00Z")));
    CHECK_FALSE(within_active_hours(h, "UTC", at("2026-02-18T08:59:59Z")));
  }

  SECTION("America/New_York across the DST change of 2026-03-08")
  {
    const auto h = hours(9, 0, 17, 0);
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
    const auto h = hours(9, 0, 17, 0);
    const std::string zone = "Europe/London";
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-28T08:30:00Z")));  // 08:30 GMT
    CHECK(within_active_hours(h, zone, at("2026-03-29T08:30:00Z")));        // 09:30 BST
    CHECK(within_active_hours(h, zone, at("2026-03-29T15:59:00Z")));        // 16:59 BST
    CHECK_FALSE(within_active_hours(h, zone, at("2026-03-29T16:00:00Z")));  // 17:00 BST
  }

  SECTION("a window that wraps past midnight")
  {
    const auto h = hours(22, 0, 6, 0);
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
    const auto h = hours(22, 0, 6, 0);
    // 03:30Z is 22:30 EST the day before.
    CHECK(within_active_hours(h, "America/New_York", at("2026-02-18T03:30:00Z")));
    // 12:00Z is 07:00 EST.
    CHECK_FALSE(within_active_hours(h, "America/New_York", at("2026-02-18T12:00:00Z")));
  }

  SECTION("start == end is the whole day")
  {
    const auto h = hours(8, 0, 8, 0);
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
}
