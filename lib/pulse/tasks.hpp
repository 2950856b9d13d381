// SPDX-License-Identifier: MIT
#pragma once

// The task runner: claims the scheduled tasks that are due (schedule::decide_task decides which),
// runs them as processes within the pulse deadline and records each run through the store.

#include "config/config.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hb::pulse {

// What happened to one task in a pulse.
struct TaskOutcome {
  enum class Kind {
    executed,   // ran and succeeded
    failed,     // ran and failed or timed out (see result)
    skipped,    // not due, disabled, or a missed fire time recorded as skipped
    held,       // due, but still running in an overlapping pulse
    would_run,  // --dry-run: due
    not_run,    // due, but the pulse deadline or a shutdown came first
  };
  std::string name;
  std::string target;
  Kind kind = Kind::skipped;
  std::optional<TaskRunStatus> result;  // for runs and recorded skips
  std::string reason;
  std::string message;
  std::optional<int> exit_code;
  int attempt = 0;  // for runs: 1 for the first run of a fire time, 2 for its first retry, ...
  Duration duration{0};
  std::optional<TimePoint> next_run;
};

struct TaskRunOptions {
  std::string owner;
  std::optional<std::int64_t> pulse_id;
  Duration missed_after{0};
  int concurrency = 4;
  std::chrono::steady_clock::time_point cutoff;  // no task runs past this
  Duration deadline{0};                          // for messages
  const std::atomic<int>* stop_signal = nullptr;
  bool dry_run = false;
};

// Makes the stored schedules match the config (SPEC §4.1 step 1; every pulse does it, whether or
// not it runs tasks).
void sync_schedules(const config::Config& config, store::Store& store, TimePoint now);

// Claims the due tasks, runs them in parallel (at most
// `concurrency` at once, none past `cutoff`), and records each run with the schedule's new
// state. Throws hb::StoreError / hb::TemporaryError when the database fails.
std::vector<TaskOutcome> run_tasks(const config::Config& config, store::Store& store,
                                   const util::Clock& clock, const TaskRunOptions& options);

} // namespace hb::pulse
