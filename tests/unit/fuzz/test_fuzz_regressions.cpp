// SPDX-License-Identifier: MIT
// Inputs the libFuzzer targets (fuzz/, scripts/fuzz) found to break a parser, kept as ordinary
// tests so the bugs stay fixed in every build, fuzzer or not.
#include "schedule/cron.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using hb::TimePoint;
using hb::schedule::CronExpr;
using namespace std::chrono_literals;

CronExpr cron(const std::string& text)
{
  std::string error;
  auto parsed = CronExpr::parse(text, error);
  REQUIRE(parsed);
  return *parsed;
}

TimePoint at(date::year_month_day day, std::chrono::milliseconds time_of_day)
{
  return TimePoint{date::sys_days{day} + time_of_day};
}

} // namespace

TEST_CASE("CronExpr::next_after fuzz regressions", "[fuzz]")
{
  // A fixed-hour job whose time falls in a spring-forward gap runs once, at the instant the gap
  // ends. next_after missed that run when asked from the last second before that instant: the
  // search began in the period after the gap and never looked back at it.
  SECTION("finds the gap run from the last second before the gap ends (fuzz_cron)")
  {
    // The input fuzz_cron found: 02:09 on Sunday 2026-10-04 does not exist on Lord Howe Island,
    // where 02:00 (+10:30) becomes 02:30 (+11:00) at 15:30Z the day before.
    const auto* lord_howe = date::locate_zone("Australia/Lord_Howe");
    const CronExpr expr = cron("9 2  1   * 7");
    const TimePoint gap_end = at(date::year{2026} / 10 / 3, 15h + 30min);
    CHECK(expr.last_at_or_before(gap_end + 15min + 30'500ms, lord_howe) == gap_end);
    CHECK(expr.next_after(gap_end - 1ms, lord_howe) == gap_end);
    CHECK(expr.next_after(gap_end - 1s, lord_howe) == gap_end);
    CHECK(expr.next_after(gap_end - 1001ms, lord_howe) == gap_end);
  }

  SECTION("finds the gap run in New York from just before 07:00Z")
  {
    const auto* new_york = date::locate_zone("America/New_York");
    const CronExpr expr = cron("30 2 * * *");
    const TimePoint gap_end = at(date::year{2026} / 3 / 8, 7h);
    CHECK(expr.next_after(gap_end - 500ms, new_york) == gap_end);
    CHECK(expr.next_after(gap_end - 2s, new_york) == gap_end);
    CHECK(expr.next_after(gap_end, new_york) == at(date::year{2026} / 3 / 9, 6h + 30min));
  }

  SECTION("an every-hour job still has no run in the gap")
  {
    const auto* new_york = date::locate_zone("America/New_York");
    const CronExpr expr = cron("30 * * * *");
    const TimePoint gap_end = at(date::year{2026} / 3 / 8, 7h);
    CHECK(expr.next_after(gap_end - 500ms, new_york) == gap_end + 30min);
  }
}
