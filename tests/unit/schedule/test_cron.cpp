// SPDX-License-Identifier: MIT
#include "schedule/cron.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <date/tz.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using hb::TimePoint;
using hb::schedule::CronExpr;
using hb::util::format_rfc3339;
using hb::util::parse_rfc3339;
using namespace std::chrono_literals;

TimePoint at(std::string_view rfc3339)
{
  const auto t = parse_rfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

CronExpr cron(std::string_view text)
{
  std::string error;
  auto expr = CronExpr::parse(text, error);
  INFO(text << ": " << error);
  REQUIRE(expr);
  return *expr;
}

std::string parse_error(std::string_view text)
{
  std::string error;
  const auto expr = CronExpr::parse(text, error);
  INFO(text);
  CHECK_FALSE(expr);
  return error;
}

std::string show(const std::optional<TimePoint>& t)
{
  return t ? format_rfc3339(*t) : "none";
}

// The next fire instant after `after`, as RFC 3339 UTC, or "none".
std::string next(std::string_view text, std::string_view after, const char* zone = "UTC")
{
  return show(cron(text).next_after(at(after), date::locate_zone(zone)));
}

std::string last(std::string_view text, std::string_view when, const char* zone = "UTC")
{
  return show(cron(text).last_at_or_before(at(when), date::locate_zone(zone)));
}

// Every fire instant in (from, to), found with repeated next_after calls.
std::vector<std::string> fires_between(std::string_view text, std::string_view from,
                                       std::string_view to, const char* zone)
{
  const CronExpr expr = cron(text);
  const date::time_zone* tz = date::locate_zone(zone);
  std::vector<std::string> result;
  auto t = expr.next_after(at(from), tz);
  while (t && *t < at(to)) {
    result.push_back(format_rfc3339(*t));
    t = expr.next_after(*t, tz);
  }
  return result;
}

// Every fire instant in (from, to), found backwards with last_at_or_before, in ascending order.
std::vector<std::string> fires_between_backwards(std::string_view text, std::string_view from,
                                                 std::string_view to, const char* zone)
{
  const CronExpr expr = cron(text);
  const date::time_zone* tz = date::locate_zone(zone);
  std::vector<std::string> result;
  auto t = expr.last_at_or_before(at(to) - 1s, tz);
  while (t && *t > at(from)) {
    result.insert(result.begin(), format_rfc3339(*t));
    t = expr.last_at_or_before(*t - 1s, tz);
  }
  return result;
}

using Fires = std::vector<std::string>;

} // namespace

TEST_CASE("CronExpr::parse")
{
  SECTION("text is kept as written, trimmed")
  {
    CHECK(cron("  0\t9  * * 1 \n").text() == "0\t9  * * 1");
    CHECK(cron("@Daily").text() == "@Daily");
  }

  SECTION("fields may be separated by several spaces and tabs")
  {
    CHECK(next("0 \t 9\t\t* *   1", "2026-02-16T15:00:00Z") == "2026-02-23T09:00:00Z");
  }

  SECTION("every_hour follows the hour field's first character")
  {
    CHECK(cron("0 * * * *").every_hour());
    CHECK(cron("0 */2 * * *").every_hour());
    CHECK_FALSE(cron("0 0-23 * * *").every_hour());
    CHECK_FALSE(cron("@daily").every_hour());
    CHECK(cron("@hourly").every_hour());
  }

  SECTION("empty expression")
  {
    CHECK(parse_error("") == "empty cron expression");
    CHECK(parse_error(" \t ") == "empty cron expression");
  }

  SECTION("wrong field count")
  {
    CHECK(parse_error("* * * *") ==
          "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
    CHECK(parse_error("0 0 * * * *") ==
          "expected 5 fields (minute hour day-of-month month day-of-week), got 6");
    CHECK(parse_error("0") ==
          "expected 5 fields (minute hour day-of-month month day-of-week), got 1");
  }

  SECTION("values out of range")
  {
    CHECK(parse_error("60 * * * *") == "minute 60 out of range 0-59");
    CHECK(parse_error("0 24 * * *") == "hour 24 out of range 0-23");
    CHECK(parse_error("0 0 32 * *") == "day-of-month 32 out of range 1-31");
    CHECK(parse_error("0 0 0 * *") == "day-of-month 0 out of range 1-31");
    CHECK(parse_error("0 0 * 13 *") == "month 13 out of range 1-12");
    CHECK(parse_error("0 0 * 0 *") == "month 0 out of range 1-12");
    CHECK(parse_error("0 0 * * 8") == "day-of-week 8 out of range 0-7");
    CHECK(parse_error("0 0 1-40 * *") == "day-of-month 40 out of range 1-31");
    CHECK(parse_error("99999999999 * * * *") == "minute 99999999999 out of range 0-59");
  }

  SECTION("values that are not numbers or names")
  {
    CHECK(parse_error("0 x * * *") == "hour \"x\" is not a number");
    CHECK(parse_error("0 0 * FOO *") == "month \"FOO\" is not a number or a month name");
    CHECK(parse_error("0 0 * * FUNDAY") == "day-of-week \"FUNDAY\" is not a number or a day name");
    CHECK(parse_error("0 0 * * JAN") == "day-of-week \"JAN\" is not a number or a day name");
    CHECK(parse_error("0 0 MON * *") == "day-of-month \"MON\" is not a number");
    CHECK(parse_error("-5 * * * *") == "minute \"\" is not a number");
    CHECK(parse_error("+5 * * * *") == "minute \"+5\" is not a number");
    CHECK(parse_error("/5 * * * *") == "minute \"\" is not a number");
  }

  SECTION("reversed ranges")
  {
    CHECK(parse_error("0 5-3 * * *") == "hour range 5-3 is reversed");
    CHECK(parse_error("0 0 * * FRI-MON") == "day-of-week range FRI-MON is reversed");
    CHECK(parse_error("0 0 * DEC-JAN *") == "month range DEC-JAN is reversed");
  }

  SECTION("bad steps")
  {
    CHECK(parse_error("*/0 * * * *") == "minute step 0 must be at least 1");
    CHECK(parse_error("*/x * * * *") == "minute step \"x\" is not a number");
    CHECK(parse_error("*/ * * * *") == "minute step \"\" is not a number");
    CHECK(parse_error("1/2/3 * * * *") == "minute step \"2/3\" is not a number");
    CHECK(parse_error("0 1-5/0 * * *") == "hour step 0 must be at least 1");
  }

  SECTION("empty list elements")
  {
    CHECK(parse_error("1,,2 * * * *") == "minute has an empty list element");
    CHECK(parse_error("1, * * * *") == "minute has an empty list element");
    CHECK(parse_error("0 0 * * ,1") == "day-of-week has an empty list element");
  }

  SECTION("dates that never occur")
  {
    CHECK(parse_error("0 0 30 2 *") == "day-of-month 30 never occurs in month 2");
    CHECK(parse_error("0 0 31 4,6 *") == "day-of-month 31 never occurs in month 4,6");
    CHECK(parse_error("0 0 30-31 FEB *") == "day-of-month 30-31 never occurs in month FEB");
    // A star-prefixed day-of-week still means "both must match".
    CHECK(parse_error("0 0 31 9 */2") == "day-of-month 31 never occurs in month 9");
    // Feb 29 exists in leap years; with a day-of-week the OR rule makes it fire.
    cron("0 0 29 2 *");
    cron("0 0 30 2 1");
    cron("0 0 31 4,5 *");
  }

  SECTION("macros that are refused")
  {
    CHECK(parse_error("@reboot") ==
          "@reboot is not supported (heartbeat runs tasks from hb-pulse, not at boot)");
    CHECK(parse_error("@REBOOT") ==
          "@reboot is not supported (heartbeat runs tasks from hb-pulse, not at boot)");
    CHECK(parse_error("@often") ==
          "unknown macro \"@often\" (use @hourly, @daily, @midnight, @weekly, @monthly, "
          "@yearly or @annually)");
    CHECK(parse_error("@daily 5") ==
          "unknown macro \"@daily 5\" (use @hourly, @daily, @midnight, @weekly, @monthly, "
          "@yearly or @annually)");
  }
}

TEST_CASE("CronExpr::next_after")
{
  // 2026-02-18 is a Wednesday.
  const std::string_view wed = "2026-02-18T14:05:00Z";

  SECTION("macros")
  {
    CHECK(next("@yearly", wed) == "2027-01-01T00:00:00Z");
    CHECK(next("@annually", wed) == "2027-01-01T00:00:00Z");
    CHECK(next("@monthly", wed) == "2026-03-01T00:00:00Z");
    CHECK(next("@weekly", wed) == "2026-02-22T00:00:00Z");
    CHECK(next("@daily", wed) == "2026-02-19T00:00:00Z");
    CHECK(next("@midnight", wed) == "2026-02-19T00:00:00Z");
    CHECK(next("@hourly", wed) == "2026-02-18T15:00:00Z");
    CHECK(next("@HOURLY", wed) == "2026-02-18T15:00:00Z");
  }

  SECTION("strictly after, at second precision")
  {
    CHECK(next("5 14 * * *", "2026-02-18T14:04:59.999Z") == "2026-02-18T14:05:00Z");
    CHECK(next("5 14 * * *", "2026-02-18T14:05:00Z") == "2026-02-19T14:05:00Z");
    CHECK(next("5 14 * * *", "2026-02-18T14:05:00.001Z") == "2026-02-19T14:05:00Z");
    CHECK(next("* * * * *", "2026-02-18T14:05:30Z") == "2026-02-18T14:06:00Z");
    CHECK(next("* * * * *", "2026-12-31T23:59:00Z") == "2027-01-01T00:00:00Z");
  }

  SECTION("steps")
  {
    CHECK(next("*/10 * * * *", wed) == "2026-02-18T14:10:00Z");
    CHECK(next("*/10 * * * *", "2026-02-18T14:55:00Z") == "2026-02-18T15:00:00Z");
    CHECK(next("1-30/5 * * * *", wed) == "2026-02-18T14:06:00Z");
    CHECK(next("1-30/5 * * * *", "2026-02-18T14:26:00Z") == "2026-02-18T15:01:00Z");
    CHECK(next("5/15 * * * *", wed) == "2026-02-18T14:20:00Z");
    CHECK(next("5/15 * * * *", "2026-02-18T14:50:00Z") == "2026-02-18T15:05:00Z");
    CHECK(next("0 */6 * * *", wed) == "2026-02-18T18:00:00Z");
    CHECK(next("0 0 */10 * *", wed) == "2026-02-21T00:00:00Z");
  }

  SECTION("lists and ranges")
  {
    CHECK(next("0,30 9-17/4 * * *", wed) == "2026-02-18T17:00:00Z");
    CHECK(next("0,30 9-17/4 * * *", "2026-02-18T17:30:00Z") == "2026-02-19T09:00:00Z");
    CHECK(next("15,45 8-10 * * *", "2026-02-18T08:50:00Z") == "2026-02-18T09:15:00Z");
    CHECK(next("0 0 1,15 * *", wed) == "2026-03-01T00:00:00Z");
    CHECK(next("0 0 1-3,20 * *", wed) == "2026-02-20T00:00:00Z");
  }

  SECTION("month and day names, any case")
  {
    CHECK(next("0 9 * JAN *", wed) == "2027-01-01T09:00:00Z");
    CHECK(next("0 9 * jan-mar *", "2026-03-31T10:00:00Z") == "2027-01-01T09:00:00Z");
    CHECK(next("0 9 * * mon", wed) == "2026-02-23T09:00:00Z");
    CHECK(next("0 9 * * Mon", wed) == "2026-02-23T09:00:00Z");
    CHECK(next("0 9 * * MON-FRI", "2026-02-20T10:00:00Z") == "2026-02-23T09:00:00Z");
    CHECK(next("0 9 * * MON-FRI", wed) == "2026-02-19T09:00:00Z");
  }

  SECTION("7 is Sunday, as is SUN at the end of a range")
  {
    CHECK(next("0 9 * * 7", wed) == "2026-02-22T09:00:00Z");
    CHECK(next("0 9 * * 0", wed) == "2026-02-22T09:00:00Z");
    CHECK(next("0 9 * * 5-7", "2026-02-22T10:00:00Z") == "2026-02-27T09:00:00Z");
    CHECK(next("0 9 * * SAT-SUN", "2026-02-20T10:00:00Z") == "2026-02-21T09:00:00Z");
    CHECK(next("0 9 * * SAT-SUN", "2026-02-21T10:00:00Z") == "2026-02-22T09:00:00Z");
    CHECK(next("0 9 * * SAT-SUN", "2026-02-22T10:00:00Z") == "2026-02-28T09:00:00Z");
  }

  SECTION("day-of-month and day-of-week both restricted: either matches")
  {
    // April 2026: Fridays are the 3rd, 10th, 17th and 24th; the 13th is a Monday.
    CHECK(fires_between("0 0 13 * 5", "2026-04-01T00:00:00Z", "2026-05-02T00:00:00Z", "UTC") ==
          Fires{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z",
                "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"});
  }

  SECTION("only one day field restricted: that one decides")
  {
    CHECK(fires_between("0 0 * * 5", "2026-04-01T00:00:00Z", "2026-05-02T00:00:00Z", "UTC") ==
          Fires{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-17T00:00:00Z",
                "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"});
    CHECK(fires_between("0 0 13 * *", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "UTC") ==
          Fires{"2026-04-13T00:00:00Z", "2026-05-13T00:00:00Z", "2026-06-13T00:00:00Z"});
  }

  SECTION("a star-prefixed day field counts as unrestricted: both must match")
  {
    // */2 is the odd days; only odd-numbered Fridays qualify.
    CHECK(fires_between("0 0 */2 * 5", "2026-04-01T00:00:00Z", "2026-05-02T00:00:00Z", "UTC") ==
          Fires{"2026-04-03T00:00:00Z", "2026-04-17T00:00:00Z", "2026-05-01T00:00:00Z"});
    // */2 in day-of-week is Sunday, Tuesday, Thursday, Saturday; only the 13ths on those days
    // (April 13th is a Monday, May 13th a Wednesday, July 13th a Monday, November 13th a Friday).
    CHECK(fires_between("0 0 13 * */2", "2026-04-01T00:00:00Z", "2026-12-01T00:00:00Z", "UTC") ==
          Fires{"2026-06-13T00:00:00Z", "2026-08-13T00:00:00Z", "2026-09-13T00:00:00Z",
                "2026-10-13T00:00:00Z"});
  }

  SECTION("leap days")
  {
    CHECK(next("0 12 29 2 *", "2026-03-01T00:00:00Z") == "2028-02-29T12:00:00Z");
    CHECK(next("0 12 29 2 *", "2026-03-01T00:00:00Z", "America/New_York") ==
          "2028-02-29T17:00:00Z");
    CHECK(next("0 12 29 2 *", "2028-02-29T12:00:00Z") == "2032-02-29T12:00:00Z");
    // Leap day OR a Monday, in February: fires every February, on its Mondays.
    CHECK(fires_between("0 0 29 2 1", "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z", "UTC") ==
          Fires{"2027-02-01T00:00:00Z", "2027-02-08T00:00:00Z", "2027-02-15T00:00:00Z",
                "2027-02-22T00:00:00Z"});
    CHECK(fires_between("0 0 29 2 1", "2028-02-25T00:00:00Z", "2028-03-10T00:00:00Z", "UTC") ==
          Fires{"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"});
  }

  SECTION("month ends")
  {
    CHECK(next("0 0 31 * *", "2026-01-31T00:00:00Z") == "2026-03-31T00:00:00Z");
    CHECK(next("0 0 31 * *", "2026-03-31T00:00:00Z") == "2026-05-31T00:00:00Z");
    CHECK(next("0 0 30 * *", "2026-01-30T00:00:00Z") == "2026-03-30T00:00:00Z");
    CHECK(next("0 0 29 * *", "2026-01-29T00:00:00Z") == "2026-03-29T00:00:00Z");
    CHECK(next("59 23 28-31 * *", "2026-02-28T23:59:00Z") == "2026-03-28T23:59:00Z");
  }

  SECTION("nothing within 10 years")
  {
    // Feb 29 on a Sunday: 2032, then 2060.
    CHECK(next("0 0 29 2 */7", "2026-01-01T00:00:00Z") == "2032-02-29T00:00:00Z");
    CHECK(next("0 0 29 2 */7", "2032-03-01T00:00:00Z") == "none");
    CHECK(next("0 0 29 2 */7", "2032-03-01T00:00:00Z", "America/New_York") == "none");
  }

  SECTION("time zones: standard and daylight time")
  {
    CHECK(next("0 9 * * 1", "2026-02-16T15:00:00Z", "America/New_York") == "2026-02-23T14:00:00Z");
    CHECK(next("0 9 * * 1", "2026-07-13T14:00:00Z", "America/New_York") == "2026-07-20T13:00:00Z");
    CHECK(next("0 9 * * 1", "2026-07-13T14:00:00Z", "Europe/London") == "2026-07-20T08:00:00Z");
    CHECK(next("0 9 * * 1", "2026-07-13T14:00:00Z", "Asia/Kolkata") == "2026-07-20T03:30:00Z");
    // A local day that starts before the UTC day does.
    CHECK(next("0 0 * * *", "2026-02-18T12:00:00Z", "Pacific/Auckland") == "2026-02-19T11:00:00Z");
  }

  SECTION("a null zone is UTC")
  {
    CHECK(show(cron("0 9 * * 1").next_after(at("2026-02-16T15:00:00Z"), nullptr)) ==
          "2026-02-23T09:00:00Z");
  }

  SECTION("spring forward, fixed hour: a time in the gap runs at the transition")
  {
    // America/New_York 2026-03-08: 02:00 EST (07:00Z) becomes 03:00 EDT.
    CHECK(fires_between("30 2 * * *", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z",
                        "America/New_York") ==
          Fires{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
    // Europe/London 2026-03-29: 01:00 GMT (01:00Z) becomes 02:00 BST.
    CHECK(fires_between("30 1 * * *", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
                        "Europe/London") ==
          Fires{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"});
  }

  SECTION("spring forward, fixed hour: several times in the gap collapse into one run")
  {
    CHECK(fires_between("0,15,30,45 2 * * *", "2026-03-08T05:00:00Z", "2026-03-09T07:00:00Z",
                        "America/New_York") == Fires{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z",
                                                     "2026-03-09T06:15:00Z", "2026-03-09T06:30:00Z",
                                                     "2026-03-09T06:45:00Z"});
    // 02:00 (in the gap) and 03:00 (the transition's own local time) are the same run.
    CHECK(fires_between("0 2,3 * * *", "2026-03-08T05:00:00Z", "2026-03-09T08:00:00Z",
                        "America/New_York") ==
          Fires{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z"});
    CHECK(fires_between("15 2,3 * * *", "2026-03-08T05:00:00Z", "2026-03-08T09:00:00Z",
                        "America/New_York") ==
          Fires{"2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"});
  }

  SECTION("spring forward, every-hour job: no runs in the skipped hour")
  {
    CHECK(fires_between("30 * * * *", "2026-03-08T05:00:00Z", "2026-03-08T09:00:00Z",
                        "America/New_York") == Fires{"2026-03-08T05:30:00Z", "2026-03-08T06:30:00Z",
                                                     "2026-03-08T07:30:00Z",
                                                     "2026-03-08T08:30:00Z"});
    CHECK(fires_between("0 * * * *", "2026-03-08T05:00:00Z", "2026-03-08T09:00:00Z",
                        "America/New_York") ==
          Fires{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"});
    CHECK(fires_between("30 * * * *", "2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z",
                        "Europe/London") ==
          Fires{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"});
  }

  SECTION("fall back, fixed hour: runs once, at the first occurrence")
  {
    // America/New_York 2026-11-01: 02:00 EDT (06:00Z) becomes 01:00 EST.
    CHECK(fires_between("30 1 * * *", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z",
                        "America/New_York") ==
          Fires{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
    CHECK(fires_between("0,30 1,2 * * *", "2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z",
                        "America/New_York") == Fires{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z",
                                                     "2026-11-01T07:00:00Z",
                                                     "2026-11-01T07:30:00Z"});
    // Europe/London 2026-10-25: 02:00 BST (01:00Z) becomes 01:00 GMT.
    CHECK(fires_between("30 1 * * *", "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z",
                        "Europe/London") ==
          Fires{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
  }

  SECTION("fall back, fixed hour: starting inside the second pass")
  {
    // 01:10 EST, the second 01:10 of the night; today's 01:30 already ran (at 05:30Z).
    CHECK(next("30 1 * * *", "2026-11-01T06:10:00Z", "America/New_York") == "2026-11-02T06:30:00Z");
    CHECK(next("0 2 * * *", "2026-11-01T06:10:00Z", "America/New_York") == "2026-11-01T07:00:00Z");
  }

  SECTION("fall back, every-hour job: runs in both passes of the repeated hour")
  {
    CHECK(fires_between("*/30 * * * *", "2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z",
                        "America/New_York") == Fires{"2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z",
                                                     "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z",
                                                     "2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z",
                                                     "2026-11-01T07:30:00Z"});
    CHECK(fires_between("*/30 * * * *", "2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z",
                        "Europe/London") == Fires{"2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z",
                                                  "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
                                                  "2026-10-25T01:30:00Z"});
    // Starting inside the first pass, the second pass comes next (later in UTC).
    CHECK(next("45 * * * *", "2026-11-01T05:50:00Z", "America/New_York") == "2026-11-01T06:45:00Z");
  }
}

TEST_CASE("CronExpr::last_at_or_before")
{
  SECTION("at or before, at second precision")
  {
    CHECK(last("5 14 * * *", "2026-02-18T14:05:00Z") == "2026-02-18T14:05:00Z");
    CHECK(last("5 14 * * *", "2026-02-18T14:05:00.999Z") == "2026-02-18T14:05:00Z");
    CHECK(last("5 14 * * *", "2026-02-18T14:04:59.999Z") == "2026-02-17T14:05:00Z");
    CHECK(last("* * * * *", "2027-01-01T00:00:59Z") == "2027-01-01T00:00:00Z");
  }

  SECTION("macros, steps, names and the day rule")
  {
    const std::string_view wed = "2026-02-18T14:05:00Z";
    CHECK(last("@yearly", wed) == "2026-01-01T00:00:00Z");
    CHECK(last("@monthly", wed) == "2026-02-01T00:00:00Z");
    CHECK(last("@weekly", wed) == "2026-02-15T00:00:00Z");
    CHECK(last("@daily", wed) == "2026-02-18T00:00:00Z");
    CHECK(last("@hourly", wed) == "2026-02-18T14:00:00Z");
    CHECK(last("1-30/5 * * * *", "2026-02-18T14:00:00Z") == "2026-02-18T13:26:00Z");
    CHECK(last("5/15 * * * *", wed) == "2026-02-18T14:05:00Z");
    CHECK(last("0 9 * * MON-FRI", "2026-02-23T08:00:00Z") == "2026-02-20T09:00:00Z");
    CHECK(last("0 0 13 * 5", "2026-04-16T00:00:00Z") == "2026-04-13T00:00:00Z");
    CHECK(last("0 0 */2 * 5", "2026-04-16T00:00:00Z") == "2026-04-03T00:00:00Z");
    CHECK(last("0 0 31 * *", "2026-03-30T00:00:00Z") == "2026-01-31T00:00:00Z");
  }

  SECTION("leap days and nothing within 10 years")
  {
    CHECK(last("0 12 29 2 *", "2026-03-01T00:00:00Z") == "2024-02-29T12:00:00Z");
    CHECK(last("0 12 29 2 *", "2026-03-01T00:00:00Z", "America/New_York") ==
          "2024-02-29T17:00:00Z");
    CHECK(last("0 0 29 2 */7", "2041-01-01T00:00:00Z") == "2032-02-29T00:00:00Z");
    CHECK(last("0 0 29 2 */7", "2031-01-01T00:00:00Z") == "none");
  }

  SECTION("time zones")
  {
    CHECK(last("0 9 * * 1", "2026-02-23T13:59:59Z", "America/New_York") == "2026-02-16T14:00:00Z");
    CHECK(last("0 9 * * 1", "2026-07-20T13:00:00Z", "America/New_York") == "2026-07-20T13:00:00Z");
  }

  SECTION("spring forward")
  {
    CHECK(last("30 2 * * *", "2026-03-08T07:30:00Z", "America/New_York") == "2026-03-08T07:00:00Z");
    CHECK(last("30 2 * * *", "2026-03-08T06:59:59Z", "America/New_York") == "2026-03-07T07:30:00Z");
    CHECK(last("0,15,30,45 2 * * *", "2026-03-09T05:00:00Z", "America/New_York") ==
          "2026-03-08T07:00:00Z");
    CHECK(last("30 * * * *", "2026-03-08T07:29:00Z", "America/New_York") == "2026-03-08T06:30:00Z");
    CHECK(last("30 1 * * *", "2026-03-29T12:00:00Z", "Europe/London") == "2026-03-29T01:00:00Z");
  }

  SECTION("fall back")
  {
    // 01:45 EST, the second pass: the fixed-hour job last ran in the first pass.
    CHECK(last("30 1 * * *", "2026-11-01T06:45:00Z", "America/New_York") == "2026-11-01T05:30:00Z");
    CHECK(last("*/30 * * * *", "2026-11-01T06:45:00Z", "America/New_York") ==
          "2026-11-01T06:30:00Z");
    CHECK(last("30 1 * * *", "2026-10-25T01:45:00Z", "Europe/London") == "2026-10-25T00:30:00Z");
  }

  SECTION("walking backwards finds the same fires as walking forwards")
  {
    struct Night {
      const char* zone;
      const char* from;
      const char* to;
    };
    const Night nights[] = {
        {"America/New_York", "2026-03-08T03:00:00Z", "2026-03-08T10:00:00Z"},
        {"America/New_York", "2026-11-01T03:00:00Z", "2026-11-01T10:00:00Z"},
        {"Europe/London", "2026-03-28T22:00:00Z", "2026-03-29T05:00:00Z"},
        {"Europe/London", "2026-10-24T22:00:00Z", "2026-10-25T05:00:00Z"},
    };
    const char* expressions[] = {
        "*/30 * * * *",         "0 * * * *",      "30 1 * * *", "30 2 * * *",
        "0,15,30,45 1,2 * * *", "*/20 0-3 * * *", "* 1 * * *"};
    for (const Night& night : nights) {
      for (const char* expr : expressions) {
        INFO(expr << " in " << night.zone << " from " << night.from);
        const Fires forwards = fires_between(expr, night.from, night.to, night.zone);
        CHECK_FALSE(forwards.empty());
        CHECK(fires_between_backwards(expr, night.from, night.to, night.zone) == forwards);
      }
    }
  }

  SECTION("consistent with next_after")
  {
    const CronExpr exprs[] = {cron("*/30 * * * *"), cron("30 1 * * *"), cron("30 2 * * *"),
                              cron("0 9 * * 1"),    cron("0 0 13 * 5"), cron("0 12 29 2 *")};
    const date::time_zone* zones[] = {date::locate_zone("America/New_York"),
                                      date::locate_zone("Europe/London")};
    for (const auto& expr : exprs) {
      for (const auto* zone : zones) {
        // Every 7 minutes across both 2026 transitions in both zones.
        for (TimePoint t = at("2026-03-07T20:00:00Z"); t < at("2026-03-08T12:00:00Z"); t += 7min) {
          INFO(expr.text() << " in " << zone->name() << " after " << format_rfc3339(t));
          const auto fire = expr.next_after(t, zone);
          REQUIRE(fire);
          CHECK(*fire > t);
          CHECK(expr.last_at_or_before(*fire, zone) == fire);
          const auto before = expr.last_at_or_before(*fire - 1s, zone);
          REQUIRE(before);
          CHECK(*before <= t);
        }
        for (TimePoint t = at("2026-10-24T20:00:00Z"); t < at("2026-11-01T12:00:00Z"); t += 37min) {
          INFO(expr.text() << " in " << zone->name() << " after " << format_rfc3339(t));
          const auto fire = expr.next_after(t, zone);
          REQUIRE(fire);
          CHECK(expr.last_at_or_before(*fire, zone) == fire);
          const auto before = expr.last_at_or_before(*fire - 1s, zone);
          REQUIRE(before);
          CHECK(*before <= t);
        }
      }
    }
  }
}
