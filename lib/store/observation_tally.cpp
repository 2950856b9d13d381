// SPDX-License-Identifier: MIT
#include "store/observation_tally.hpp"

#include "health/judgement.hpp"

#include <algorithm>
#include <cstdint>

namespace hb::store {

std::optional<TimedTally> execution_tally(const ExecutionWrite& write)
{
  const ExecutionRecord& e = write.execution;
  // An execution cut off before it observed anything says nothing about the target.
  if (!std::any_of(e.results.begin(), e.results.end(), health::is_observation)) {
    return std::nullopt;
  }
  health::Tally tally;
  tally.runs = 1;
  tally.down = e.status == ExecStatus::alert || e.status == ExecStatus::error ? 1 : 0;
  // How fast a failure came back says nothing of performance: only runs that were up.
  if (write.load && tally.down == 0) {
    tally.load_sum = *write.load;
    tally.load_count = 1;
  }
  tally.latency_sum_ms = std::max<std::int64_t>(0, (e.completed_at - e.started_at).count());
  tally.latency_max_ms = tally.latency_sum_ms;
  return TimedTally{e.started_at, tally};
}

std::optional<TimedTally> beat_write_tally(const BeatWrite& write)
{
  health::Tally tally;
  tally.runs = 1;
  if (write.run && write.run->status != JobRunStatus::running) {
    const JobRun& run = *write.run;
    tally.down = run.status == JobRunStatus::failed || run.status == JobRunStatus::timed_out;
    return TimedTally{run.completed_at.value_or(run.started_at), tally};
  }
  if (write.beat && !write.run) {
    tally.down = write.beat->status == BeatStatus::failing ? 1 : 0;
    return TimedTally{write.beat->at, tally};
  }
  return std::nullopt;
}

} // namespace hb::store
