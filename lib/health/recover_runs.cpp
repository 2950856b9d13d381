// SPDX-License-Identifier: MIT
#include "health/recover_runs.hpp"

#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::health {

std::string_view to_string(RecoverRunsState state)
{
  switch (state) {
  case RecoverRunsState::alive: return "alive";
  case RecoverRunsState::stale: return "stale";
  case RecoverRunsState::error: return "error";
  case RecoverRunsState::unknown: return "unknown";
  }
  return "?";
}

RecoverRuns judge_recover_runs(const std::optional<RecoveryRun>& last, TimePoint now)
{
  RecoverRuns runs;
  runs.last = last;
  if (!last) {
    runs.reason = "hb-recover never ran";
    return runs;
  }
  const Duration limit = last->interval + last->interval / 2;
  const Duration age = now - last->started_at;
  if (last->interval > Duration(0) && age > limit) {
    runs.state = RecoverRunsState::stale;
    runs.reason = fmt::format("the last hb-recover run began {} ago (expected every {}): the "
                              "scheduler stopped running hb-recover",
                              util::format_duration(age), util::format_duration(last->interval));
  } else if (last->status == RecoveryRunStatus::error
             || last->status == RecoveryRunStatus::interrupted) {
    runs.state = RecoverRunsState::error;
    runs.reason = fmt::format("the last hb-recover run {}{}", to_string(last->status),
                              last->message.empty() ? "" : ": " + last->message);
  } else {
    runs.state = RecoverRunsState::alive;
    runs.reason = fmt::format("last hb-recover run {} ago", util::format_duration(age));
  }
  return runs;
}

} // namespace hb::health
