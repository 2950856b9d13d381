// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"
#include "core/model/execution.hpp"

#include <optional>
#include <vector>

namespace hb::pulse {

// The overall status of an execution: the worst of its checks, error > alert > warning >
// all_clear (seed 001). No results at all is all_clear.
ExecStatus aggregate(const std::vector<CheckResultRecord>& results);

enum class InGrace { no, yes };

struct Evaluation {
  TargetState state;
  std::vector<Event> events;
  // How close the execution came to its checks' timeouts: the slowest observed check's latency
  // as a fraction of its own timeout, in ‰ (capped at 1000); none when nothing was observed.
  // The health score's performance component (docs/health.md).
  std::optional<int> load;
};

// Folds one finished execution into the target's health (SPEC §2 "Target health state") as
// health::judge_checks judges it: each check's confirm / recover_after thresholds decide what it
// counts as; the target is failing when a check counts as alert or error, warning when one counts
// as warning, else healthy.
// A change of health is an event ("failing", "warning", "recovered"); the first healthy result
// of a new target is not. Incidents are dated from their first bad observation. Results cut off
// by the pulse deadline or a shutdown (phase "cancelled" or "not_started") leave their check's
// state unchanged (health::is_observation): running out of time is the monitor's problem, not
// evidence about the target.
Evaluation evaluate(const config::Target& target, const TargetState& previous,
                    const ExecutionRecord& execution, InGrace in_grace);

} // namespace hb::pulse
