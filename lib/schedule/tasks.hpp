// SPDX-License-Identifier: MIT
#pragma once

// When a scheduled task runs (SPEC §2 "Schedule"): the pure decision over its timing and its
// stored state. The runner that claims, runs and records tasks is pulse::run_tasks: it needs the
// store, processes and the pulse's deadline, and this folder stays below config, which reads cron
// expressions from here.

#include "core/model/schedule.hpp"
#include "core/types.hpp"
#include "schedule/cron.hpp"

#include <memory>
#include <optional>
#include <string>

namespace hb::schedule {

// The part of a scheduled task its timing decisions read; config::Schedule is one of these plus
// what it runs.
struct TaskTiming {
  std::shared_ptr<const CronExpr> cron;
  std::string timezone = "UTC";
  bool enabled = true;
  int retries = 0;                        // further attempts after a failed run
  Duration retry_backoff{60'000};         // doubles per attempt...
  Duration retry_backoff_max{3600'000};   // ...up to this
  bool catch_up = true;  // run once for a window missed while no pulse ran
};

enum class TaskAction {
  none,         // nothing due
  run,          // run it for `fire` (a new fire time, or a retry)
  skip_missed,  // a fire time was missed while no pulse ran and catch_up is off: record a skip
  reanchor,     // the stored state is dated in the future (clock skew): record `fire` as dealt
                // with, without running, so the next fire time counts from now
};

struct TaskDecision {
  TaskAction action = TaskAction::none;
  TimePoint fire;                     // the fire time the run is for
  int attempt = 1;
  std::string reason;                 // why not, for people
  std::optional<TimePoint> next_run;  // when it will next be due
};

// Decides what a pulse at `now` does with a task of `timing` (SPEC §2 "Schedule"): its latest
// fire time at or before `now` runs once if it is newer than the last one dealt with and than the
// schedule's first sync (`created_at`) — however many fire times were missed, one run covers
// them (catch-up); with catch_up off, a fire time older than `missed_after` is recorded as
// skipped instead. A failed run is retried at `retry_at` until `retries` is used up, unless a
// newer fire time comes first. A state dated in the future (a fire time dealt with or pending,
// a retry beyond its longest backoff, or a schedule first synced in the future and never run:
// hb::from_the_future) is clock skew and not trusted: the decision is `reanchor`, for the latest
// fire time at or before `now`.
TaskDecision decide_task(const TaskTiming& timing, const ScheduleState& state,
                         TimePoint created_at, TimePoint now, Duration missed_after);

// Returns how long to wait before retry number `attempt` + 1: retry_backoff doubled per earlier
// attempt, at most retry_backoff_max.
Duration retry_delay(const TaskTiming& timing, int attempt);

} // namespace hb::schedule
