// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hb {

// A scheduled task as synced from the config (the command without secrets).
struct ScheduleInfo {
  std::string name;
  std::string cron;
  std::string timezone;
  std::string target_id;  // "" when it belongs to no target
  bool enabled = true;
  std::string description;
};

struct ScheduleRecord {
  ScheduleInfo info;
  TimePoint created_at;  // first sync: fire times before it are never run
  std::optional<TimePoint> retired_at;
};

// Where a schedule stands (SPEC §2 "Schedule").
struct ScheduleState {
  std::string name;
  std::optional<TimePoint> covered_fire;  // latest fire time dealt with (run, given up, skipped)
  std::optional<TimePoint> pending_fire;  // a failed fire time waiting for its retry
  // Attempts used so far for pending_fire (or the last fire): the number of the last attempt
  // that counted (1 after a failed first run); an interrupted run uses none.
  int attempts = 0;
  std::optional<TimePoint> retry_at;
  std::optional<TimePoint> last_run_at;
  std::optional<TaskRunStatus> last_status;  // none before the first run
  std::optional<int> last_exit_code;
  std::string last_message;
};

// One run of a scheduled task.
struct TaskRun {
  std::int64_t id = 0;
  std::string schedule;
  TimePoint fire_at;  // the fire time it ran for
  TimePoint started_at;
  TimePoint completed_at;
  TaskRunStatus status = TaskRunStatus::failed;
  std::optional<int> exit_code;
  // 1 for the first run of a fire time, 2 for its first retry, ...; 0 for a recorded skip
  // (a missed fire time with catch_up off: nothing ran).
  int attempt = 1;
  std::string message;
  std::string output_tail;
  std::optional<std::int64_t> pulse_id;
};

} // namespace hb
