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

TEST_CASE("check_due: a last run dated in the future is clock skew, and the target is due")
{
  const TimePoint now = at("2026-12-01T01:00:00Z");
  Target t = make_target();
  const auto d = check_due(t, at("2027-06-01T00:00:00Z"), now, Force::no);
  CHECK(d.due);
  CHECK(d.skewed == at("2027-06-01T00:00:00Z"));
  CHECK(d.reason == "last run dated 181d 23h ahead of this clock (clock skew?)");
  // Within the tolerance it is a recent run, as before.
  const auto close = check_due(t, now + 30s, now, Force::no);
  CHECK_FALSE(close.due);
  CHECK_FALSE(close.skewed);
}
