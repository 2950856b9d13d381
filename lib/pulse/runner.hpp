// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"
#include "core/model/execution.hpp"
#include "util/time.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace hb::pulse {

enum class StopReason { none, deadline, signal };

// True once any ParallelRunner in this process has left a stuck thread behind. Such a process
// must end with _exit: static destructors would run under the feet of that thread.
bool threads_were_abandoned();

// One check to run. `probe` is shared so a worker that has to be abandoned keeps it alive.
struct CheckJob {
  std::size_t group = 0;  // which target the check belongs to
  std::string name;
  Duration timeout{10'000};
  std::shared_ptr<const checks::Check> probe;
};

struct JobOutcome {
  bool started = false;  // false: never started (deadline or shutdown came first)
  CheckResultRecord result;
  std::chrono::steady_clock::time_point started_at;
  std::chrono::steady_clock::time_point finished_at;
};

struct RunStats {
  int started = 0;
  int cut_off = 0;     // cancelled by the deadline or a signal while running
  int not_started = 0;
  int abandoned = 0;   // did not return even after being cancelled; their threads were left
  int exceptions = 0;  // checks that threw
  StopReason stop = StopReason::none;
};

// Runs check jobs on `concurrency` threads, in order, until all are done, `cutoff` passes or
// `*signal_stop` becomes non-zero. A check that throws becomes an error result; one that runs
// past its own timeout plus a grace period, or ignores cancellation, is abandoned (recorded as an
// error; its thread is left behind, and the caller must then end the process with _exit) so that
// it can never hold up the others. `on_done` and `on_tick` are called on the calling thread.
// Checks read the time from a clock that starts at `clock.now()` when run() starts and advances
// with steady time, as the pulse's own timestamps do (a copy, because an abandoned check may
// outlive `clock`).
class ParallelRunner {
public:
  ParallelRunner(int concurrency, std::chrono::steady_clock::time_point cutoff,
                 const std::atomic<int>* signal_stop, const util::Clock& clock);

  // Returns more jobs to run (none: no more), called on the calling thread while fewer than
  // `concurrency` jobs wait to start, and never after the cutoff or a stop: the pulse claims its
  // targets a batch at a time through it, so that runners sharing a database share the work.
  using Refill = std::function<std::vector<CheckJob>()>;

  // Jobs are numbered in the order they were given: `jobs` first, then each refill's.
  RunStats run(const std::vector<CheckJob>& jobs,
               const std::function<void(std::size_t job, JobOutcome&& outcome)>& on_done,
               const std::function<void(int done, int total)>& on_tick,
               const Refill& refill = {});

private:
  int m_concurrency;
  std::chrono::steady_clock::time_point m_cutoff;
  const std::atomic<int>* m_signal_stop;
  const util::Clock& m_clock;
};

} // namespace hb::pulse
