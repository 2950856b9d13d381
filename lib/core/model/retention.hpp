// SPDX-License-Identifier: MIT
#pragma once

// How long history is kept (SPEC §4.1 step 8, config `retention`): raw rows (executions with
// their check results, task and job runs, sent notifications, pulses) for `raw`, beats for
// `beats`, hourly roll-ups for `hourly`, daily roll-ups for `daily`. Roll-ups are written with
// the raw rows, so pruning never loses what uptime and scores read.

#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hb {

struct Retention {
  Duration raw{14LL * 86'400'000};
  Duration hourly{90LL * 86'400'000};
  Duration daily{730LL * 86'400'000};
  Duration beats{2LL * 86'400'000};
  Duration every{86'400'000};  // at most one prune per this long
};

// What one prune deleted, and how long its longest write transaction held the lock.
struct PruneReport {
  TimePoint started_at;
  bool complete = false;  // false when the time budget ran out first (the next pulse resumes)
  long long executions = 0;  // with their check results
  long long task_runs = 0;
  long long job_runs = 0;
  long long beats = 0;
  long long notifications = 0;
  long long pulses = 0;
  long long hourly = 0;
  long long daily = 0;
  int batches = 0;
  Duration longest_batch{0};       // the longest write transaction: what others waited for
  int slow_batches = 0;            // batches that held the write lock over 100 ms
  Duration longest_checkpoint{0};  // the longest WAL checkpoint between batches (no lock held)

  long long total() const
  {
    return executions + task_runs + job_runs + beats + notifications + pulses + hourly + daily;
  }
};

} // namespace hb
