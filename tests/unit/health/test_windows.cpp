// SPDX-License-Identifier: MIT
#include "health/windows.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

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

TEST_CASE("quiet_until")
{
  using hb::health::quiet_until;
  auto quiet = [](int start_h, int end_h, std::string zone = "UTC") {
    return hb::QuietHours{hours(start_h, end_h), std::move(zone)};
  };

  SECTION("a window that wraps past midnight ends the next morning")
  {
    const auto q = quiet(22, 7);
    CHECK(quiet_until(q, at("2026-02-18T22:00:00Z")) == at("2026-02-19T07:00:00Z"));
    CHECK(quiet_until(q, at("2026-02-18T23:30:00Z")) == at("2026-02-19T07:00:00Z"));
    CHECK(quiet_until(q, at("2026-02-19T03:00:00Z")) == at("2026-02-19T07:00:00Z"));
    CHECK_FALSE(quiet_until(q, at("2026-02-19T07:00:00Z")));
    CHECK_FALSE(quiet_until(q, at("2026-02-19T12:00:00Z")));
    CHECK_FALSE(quiet_until(q, at("2026-02-19T21:59:59Z")));
  }

  SECTION("a window within the day, and one up to \"24:00\"")
  {
    CHECK(quiet_until(quiet(12, 14), at("2026-02-18T13:00:00Z")) == at("2026-02-18T14:00:00Z"));
    CHECK_FALSE(quiet_until(quiet(12, 14), at("2026-02-18T11:59:00Z")));
    CHECK(quiet_until(quiet(18, 24), at("2026-02-18T20:00:00Z")) == at("2026-02-19T00:00:00Z"));
  }

  SECTION("Europe/Berlin across the DST changes of 2026")
  {
    const auto q = quiet(22, 7, "Europe/Berlin");
    // 23:00 CET on the night clocks spring forward: quiet until 07:00 CEST = 05:00Z.
    CHECK(quiet_until(q, at("2026-03-28T22:00:00Z")) == at("2026-03-29T05:00:00Z"));
    // 23:00 CEST on the night clocks fall back: quiet until 07:00 CET = 06:00Z.
    CHECK(quiet_until(q, at("2026-10-24T21:00:00Z")) == at("2026-10-25T06:00:00Z"));
    // 21:30Z is 22:30 CET in winter (quiet) but 23:30 CEST in summer (quiet too); 20:30Z is
    // 21:30 CET (not quiet) and 22:30 CEST (quiet).
    CHECK_FALSE(quiet_until(q, at("2026-02-18T20:30:00Z")));
    CHECK(quiet_until(q, at("2026-06-18T20:30:00Z")) == at("2026-06-19T05:00:00Z"));
  }

  SECTION("an end inside the skipped hour is the transition; one in the repeated hour comes once")
  {
    const hb::QuietHours q{hb::ActiveHours{22 * 60, 2 * 60 + 30}, "Europe/Berlin"};
    // 02:30 does not exist on 2026-03-29: the window ends when clocks jump, 01:00Z.
    CHECK(quiet_until(q, at("2026-03-28T23:00:00Z")) == at("2026-03-29T01:00:00Z"));
    // 02:30 happens twice on 2026-10-25: the first pass ends the window (00:30Z)...
    CHECK(quiet_until(q, at("2026-10-25T00:10:00Z")) == at("2026-10-25T00:30:00Z"));
    // ...and in the second pass (02:10 CET again) the one still ahead does (01:30Z).
    CHECK(quiet_until(q, at("2026-10-25T01:10:00Z")) == at("2026-10-25T01:30:00Z"));
  }

  SECTION("a whole-day window is never quiet (the config refuses it)")
  {
    CHECK_FALSE(quiet_until(quiet(7, 7), at("2026-02-18T07:30:00Z")));
    CHECK_FALSE(quiet_until(quiet(0, 24), at("2026-02-18T07:30:00Z")));
  }
}

namespace {

hb::MaintenanceWindow recurring(std::string name, std::string cron, hb::Duration duration,
                                std::string zone)
{
  hb::MaintenanceWindow w;
  w.name = std::move(name);
  w.cron = std::move(cron);
  w.duration = duration;
  w.timezone = std::move(zone);
  return w;
}

hb::MaintenanceWindow one_off(std::string name, const char* start, const char* end)
{
  hb::MaintenanceWindow w;
  w.name = std::move(name);
  w.start = at(start);
  w.end = at(end);
  return w;
}

const std::vector<std::string> k_no_tags;

} // namespace

TEST_CASE("in_maintenance")
{
  using hb::health::in_maintenance;

  SECTION("a recurring window: 0 2 * * 0 for 2h in Europe/Berlin")
  {
    auto w = recurring("sunday-patching", "0 2 * * 0", 2h, "Europe/Berlin");
    w.tags = {"db"};
    const std::vector<hb::MaintenanceWindow> windows{w};
    const std::vector<std::string> db{"db"};
    // Sunday 2026-03-01, 02:30 CET = 01:30Z: inside, from 02:00 CET (01:00Z) to 04:00 (03:00Z).
    const auto hit = in_maintenance(windows, "db-1", db, at("2026-03-01T01:30:00Z"));
    REQUIRE(hit);
    CHECK(hit->name == "sunday-patching");
    CHECK(hit->started == at("2026-03-01T01:00:00Z"));
    CHECK(hit->ends == at("2026-03-01T03:00:00Z"));
    // 04:30 local: over.
    CHECK_FALSE(in_maintenance(windows, "db-1", db, at("2026-03-01T03:30:00Z")));
    // Start inclusive, end exclusive.
    CHECK(in_maintenance(windows, "db-1", db, at("2026-03-01T01:00:00Z")));
    CHECK_FALSE(in_maintenance(windows, "db-1", db, at("2026-03-01T03:00:00Z")));
    CHECK_FALSE(in_maintenance(windows, "db-1", db, at("2026-03-01T00:59:59Z")));
    // Not on a Saturday.
    CHECK_FALSE(in_maintenance(windows, "db-1", db, at("2026-02-28T01:30:00Z")));
    // In summer, 02:30 CEST is 00:30Z.
    CHECK(in_maintenance(windows, "db-1", db, at("2026-06-07T00:30:00Z")));
    CHECK_FALSE(in_maintenance(windows, "db-1", db, at("2026-06-07T02:30:00Z")));
    // On 2026-03-29 02:00 does not exist: the window opens when clocks jump to 03:00 CEST
    // (01:00Z) and lasts two hours of elapsed time.
    const auto dst = in_maintenance(windows, "db-1", db, at("2026-03-29T02:30:00Z"));
    REQUIRE(dst);
    CHECK(dst->started == at("2026-03-29T01:00:00Z"));
    CHECK(dst->ends == at("2026-03-29T03:00:00Z"));
  }

  SECTION("a one-off window: start inclusive, end exclusive")
  {
    const std::vector<hb::MaintenanceWindow> windows{
      one_off("migration", "2026-03-01T22:00:00Z", "2026-03-02T01:00:00Z")};
    CHECK_FALSE(in_maintenance(windows, "payments", k_no_tags, at("2026-03-01T21:59:59Z")));
    const auto hit = in_maintenance(windows, "payments", k_no_tags, at("2026-03-01T22:00:00Z"));
    REQUIRE(hit);
    CHECK(hit->started == at("2026-03-01T22:00:00Z"));
    CHECK(hit->ends == at("2026-03-02T01:00:00Z"));
    CHECK(in_maintenance(windows, "payments", k_no_tags, at("2026-03-02T00:59:59Z")));
    CHECK_FALSE(in_maintenance(windows, "payments", k_no_tags, at("2026-03-02T01:00:00Z")));
  }

  SECTION("targets by id or glob, tags by any match, neither: every target")
  {
    auto by_target = one_off("a", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
    by_target.targets = {"payments", "acme-*"};
    auto by_tag = one_off("b", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
    by_tag.tags = {"db", "eu"};
    const auto everyone = one_off("c", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
    const auto now = at("2026-03-01T12:00:00Z");

    const std::vector<hb::MaintenanceWindow> targets{by_target};
    CHECK(in_maintenance(targets, "payments", k_no_tags, now));
    CHECK(in_maintenance(targets, "acme-1", k_no_tags, now));
    CHECK_FALSE(in_maintenance(targets, "acme", k_no_tags, now));
    CHECK_FALSE(in_maintenance(targets, "payments-eu", k_no_tags, now));

    const std::vector<hb::MaintenanceWindow> tags{by_tag};
    CHECK(in_maintenance(tags, "x", {"web", "eu"}, now));
    CHECK_FALSE(in_maintenance(tags, "x", {"web"}, now));
    CHECK_FALSE(in_maintenance(tags, "x", k_no_tags, now));

    const std::vector<hb::MaintenanceWindow> all{everyone};
    CHECK(in_maintenance(all, "anything", k_no_tags, now));

    // A window naming both applies to a target matched by either.
    auto both = by_target;
    both.tags = {"db"};
    CHECK(in_maintenance({both}, "web", {"db"}, now));
    CHECK(in_maintenance({both}, "acme-2", k_no_tags, now));
    CHECK_FALSE(in_maintenance({both}, "web", {"eu"}, now));
  }

  SECTION("when several cover now, the one ending last")
  {
    const std::vector<hb::MaintenanceWindow> windows{
      one_off("short", "2026-03-01T00:00:00Z", "2026-03-01T02:00:00Z"),
      recurring("daily", "0 0 * * *", 3h, "UTC"),
      one_off("other", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z")};
    const auto hit = in_maintenance(windows, "x", k_no_tags, at("2026-03-01T00:30:00Z"));
    REQUIRE(hit);
    CHECK(hit->name == "daily");
    CHECK(hit->ends == at("2026-03-01T03:00:00Z"));
  }

  SECTION("a window whose cron does not parse is ignored")
  {
    const std::vector<hb::MaintenanceWindow> windows{recurring("bad", "0 99 * * *", 2h, "UTC")};
    CHECK_FALSE(in_maintenance(windows, "x", k_no_tags, at("2026-03-01T00:30:00Z")));
  }
}

TEST_CASE("last_maintenance_end")
{
  using hb::health::last_maintenance_end;

  SECTION("a one-off window once it has ended")
  {
    const std::vector<hb::MaintenanceWindow> windows{
      one_off("migration", "2026-03-01T22:00:00Z", "2026-03-02T01:00:00Z")};
    CHECK_FALSE(last_maintenance_end(windows, "x", k_no_tags, at("2026-03-02T00:30:00Z")));
    const auto hit = last_maintenance_end(windows, "x", k_no_tags, at("2026-03-02T01:00:00Z"));
    REQUIRE(hit);
    CHECK(hit->name == "migration");
    CHECK(hit->started == at("2026-03-01T22:00:00Z"));
    CHECK(hit->ends == at("2026-03-02T01:00:00Z"));
  }

  SECTION("the latest occurrence of a recurring window that has ended")
  {
    const std::vector<hb::MaintenanceWindow> windows{
      recurring("sunday-patching", "0 2 * * 0", 2h, "Europe/Berlin")};
    const auto after = last_maintenance_end(windows, "x", k_no_tags, at("2026-03-01T03:30:00Z"));
    REQUIRE(after);
    CHECK(after->started == at("2026-03-01T01:00:00Z"));
    CHECK(after->ends == at("2026-03-01T03:00:00Z"));
    // While this Sunday's runs, the one that ended is last Sunday's.
    const auto during = last_maintenance_end(windows, "x", k_no_tags, at("2026-03-01T02:00:00Z"));
    REQUIRE(during);
    CHECK(during->ends == at("2026-02-22T03:00:00Z"));
  }

  SECTION("the window that ended last, among those for the target")
  {
    auto other = one_off("other-target", "2026-03-01T00:00:00Z", "2026-03-01T05:00:00Z");
    other.targets = {"elsewhere"};
    const std::vector<hb::MaintenanceWindow> windows{
      one_off("early", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"),
      one_off("late", "2026-03-01T00:00:00Z", "2026-03-01T02:00:00Z"), other};
    const auto hit = last_maintenance_end(windows, "x", k_no_tags, at("2026-03-01T06:00:00Z"));
    REQUIRE(hit);
    CHECK(hit->name == "late");
  }
}
