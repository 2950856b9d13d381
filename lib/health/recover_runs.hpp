// SPDX-License-Identifier: MIT
#pragma once

// Whether the scheduler still runs hb-recover (SPEC §4.3 "History"): judged like the system
// pulse, from the last recorded run and the interval it ran with.

#include "core/model/recovery.hpp"

#include <optional>
#include <string>

namespace hb::health {

enum class RecoverRunsState {
  alive,    // the last run began within 1.5 × recovery.interval and did not fail
  stale,    // it is older: the scheduler stopped running hb-recover
  error,    // the last run failed or was interrupted
  unknown,  // hb-recover never ran (recovery is optional: this is not a problem)
};

std::string_view to_string(RecoverRunsState state);

struct RecoverRuns {
  RecoverRunsState state = RecoverRunsState::unknown;
  std::optional<RecoveryRun> last;
  std::string reason;  // one line for people
};

// Judges the runs of hb-recover at `now` from the last one (std::nullopt: never ran).
RecoverRuns judge_recover_runs(const std::optional<RecoveryRun>& last, TimePoint now);

} // namespace hb::health
