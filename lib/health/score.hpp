// SPDX-License-Identifier: MIT
#pragma once

// The health score's components for one target (SPEC §2 "Health score"; exact definitions in
// docs/health.md): pure functions of the target, its judged health, its roll-up counts over the
// last 24 hours and its last reported metrics.

#include "core/model/metric.hpp"
#include "core/model/target.hpp"
#include "health/figures.hpp"

#include <optional>
#include <vector>

namespace hb::health {

struct ScoreInputs {
  TargetRecord target;
  Health health = Health::unknown;
  double impact = 1.0;          // the target's `impact` (notify settings)
  Tally day;                    // its observations over the last 24 hours
  std::vector<Metric> metrics;  // the last reported metrics (an agent's last beat)
  TimePoint now;
};

// Returns the runs or beats expected from the target in [since, now): for every hour of that
// span after it was first seen and inside its active hours (judged at the half hour, in its
// timezone), one hour divided by its interval (an agent's beat interval). 0 for a target with
// no interval or a job (runs by a schedule the roll-ups do not count against).
double expected_runs(const TargetRecord& target, TimePoint since, TimePoint now);

// Returns the components of the score; each std::nullopt when it has no data.
ScoreComponents components_of(const ScoreInputs& inputs);

} // namespace hb::health
