// SPDX-License-Identifier: MIT
#include "schedule/tasks.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

namespace {

using hb::TimePoint;
using hb::schedule::decide_task;
using hb::schedule::TaskAction;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *hb::util::parse_rfc3339(text); }

hb::schedule::TaskTiming schedule(const char* cron)
{
  hb::schedule::TaskTiming s;
  std::string error;
  s.cron = std::make_shared<const hb::schedule::CronExpr>(*hb::schedule::CronExpr::parse(cron, error));
  s.timezone = "UTC";
  return s;
}

const hb::Duration k_missed_after = 450s;  // 1.5 × a 5-minute pulse

} // namespace

TEST_CASE("decide_task")
{
  auto s = schedule("0 9 * * *");
  hb::ScheduleState state;
  const TimePoint created = at("2026-02-18T08:00:00Z");

  SECTION("not due before its fire time; the next run is known")
  {
    const auto d = decide_task(s, state, created, at("2026-02-18T08:59:00Z"), k_missed_after);
    CHECK(d.action == TaskAction::none);
    CHECK(d.next_run == at("2026-02-18T09:00:00Z"));
  }
  SECTION("due at the first pulse after its fire time")
  {
    const auto d = decide_task(s, state, created, at("2026-02-18T09:03:00Z"), k_missed_after);
    CHECK(d.action == TaskAction::run);
    CHECK(d.fire == at("2026-02-18T09:00:00Z"));
    CHECK(d.attempt == 1);
  }
  SECTION("fire times before the schedule appeared never run")
  {
    const auto d = decide_task(s, state, at("2026-02-18T09:30:00Z"), at("2026-02-18T09:31:00Z"),
                               k_missed_after);
    CHECK(d.action == TaskAction::none);
  }
  SECTION("a fire time already dealt with does not run again")
  {
    state.covered_fire = at("2026-02-18T09:00:00Z");
    CHECK(decide_task(s, state, created, at("2026-02-18T12:00:00Z"), k_missed_after).action
          == TaskAction::none);
  }
  SECTION("catch-up: many missed fire times, one run for the latest")
  {
    auto every10 = schedule("*/10 * * * *");
    state.covered_fire = at("2026-02-18T08:10:00Z");
    const auto d = decide_task(every10, state, created, at("2026-02-18T13:08:00Z"), k_missed_after);
    CHECK(d.action == TaskAction::run);
    CHECK(d.fire == at("2026-02-18T13:00:00Z"));
    every10.catch_up = false;
    const auto skip = decide_task(every10, state, created, at("2026-02-18T13:08:00Z"), k_missed_after);
    CHECK(skip.action == TaskAction::skip_missed);
    CHECK(skip.fire == at("2026-02-18T13:00:00Z"));
    // A fresh fire time runs even without catch-up.
    CHECK(decide_task(every10, state, created, at("2026-02-18T13:03:00Z"), k_missed_after).action
          == TaskAction::run);
  }
  SECTION("a failed run is retried at retry_at, then a newer fire time supersedes it")
  {
    s.retries = 2;
    state.covered_fire = at("2026-02-17T09:00:00Z");
    state.pending_fire = at("2026-02-18T09:00:00Z");
    state.attempts = 1;
    state.retry_at = at("2026-02-18T09:01:00Z");
    const auto wait = decide_task(s, state, created, at("2026-02-18T09:00:30Z"), k_missed_after);
    CHECK(wait.action == TaskAction::none);
    CHECK(wait.next_run == at("2026-02-18T09:01:00Z"));
    const auto retry = decide_task(s, state, created, at("2026-02-18T09:01:10Z"), k_missed_after);
    CHECK(retry.action == TaskAction::run);
    CHECK(retry.attempt == 2);
    CHECK(retry.fire == at("2026-02-18T09:00:00Z"));
    const auto next_day = decide_task(s, state, created, at("2026-02-19T09:00:10Z"), k_missed_after);
    CHECK(next_day.action == TaskAction::run);
    CHECK(next_day.attempt == 1);
    CHECK(next_day.fire == at("2026-02-19T09:00:00Z"));
  }
  SECTION("disabled schedules never run")
  {
    s.enabled = false;
    const auto d = decide_task(s, state, created, at("2026-02-18T09:03:00Z"), k_missed_after);
    CHECK(d.action == TaskAction::none);
    CHECK(d.reason == "disabled");
  }
}

TEST_CASE("retry_delay")
{
  auto s = schedule("@daily");
  s.retry_backoff = 60s;
  s.retry_backoff_max = 5min;
  CHECK(hb::schedule::retry_delay(s, 1) == 60s);
  CHECK(hb::schedule::retry_delay(s, 2) == 120s);
  CHECK(hb::schedule::retry_delay(s, 3) == 240s);
  CHECK(hb::schedule::retry_delay(s, 4) == 300s);
  CHECK(hb::schedule::retry_delay(s, 40) == 300s);
}

TEST_CASE("decide_task: a state dated in the future is clock skew and re-anchored")
{
  auto s = schedule("*/5 * * * *");
  hb::ScheduleState state;
  const TimePoint created = at("2026-11-01T00:00:00Z");
  const TimePoint now = at("2026-12-01T01:02:00Z");

  SECTION("a fire time dealt with in the future")
  {
    state.covered_fire = at("2027-06-01T00:00:00Z");
    const auto d = decide_task(s, state, created, now, k_missed_after);
    CHECK(d.action == TaskAction::reanchor);
    CHECK(d.fire == at("2026-12-01T01:00:00Z"));
    CHECK(d.reason
          == "its last recorded time is dated 181d 22h ahead of this clock (clock skew?); next "
             "run re-anchored from now");
    // Once re-anchored, the next fire time runs as usual.
    state.covered_fire = d.fire;
    CHECK(decide_task(s, state, created, now, k_missed_after).action == TaskAction::none);
    const auto next = decide_task(s, state, created, at("2026-12-01T01:05:10Z"), k_missed_after);
    CHECK(next.action == TaskAction::run);
    CHECK(next.fire == at("2026-12-01T01:05:00Z"));
  }
  SECTION("a schedule first synced in the future that never ran")
  {
    const TimePoint future = at("2027-06-01T00:00:00Z");
    const auto d = decide_task(s, state, future, now, k_missed_after);
    CHECK(d.action == TaskAction::reanchor);
    state.covered_fire = d.fire;
    CHECK(decide_task(s, state, future, at("2026-12-01T01:05:10Z"), k_missed_after).action
          == TaskAction::run);
  }
  SECTION("a retry beyond its longest backoff")
  {
    state.pending_fire = at("2026-12-01T01:00:00Z");
    state.attempts = 1;
    s.retries = 3;
    state.retry_at = now + s.retry_backoff_max + 2min;
    CHECK(decide_task(s, state, created, now, k_missed_after).action == TaskAction::reanchor);
    state.retry_at = now + s.retry_backoff_max;  // far, but possible
    CHECK(decide_task(s, state, created, now, k_missed_after).action == TaskAction::none);
  }
  SECTION("a minute ahead is tolerated: hosts' clocks disagree a little")
  {
    state.covered_fire = at("2026-12-01T01:03:00Z");
    CHECK(decide_task(s, state, created, now, k_missed_after).action == TaskAction::none);
  }
}
