// SPDX-License-Identifier: MIT
#pragma once

// What one observation (an execution, a beat, a finished job run) adds to its target's roll-ups,
// shared by every backend so that uptime and the health score count the same whichever database
// keeps them: the backends only add the tally to their roll-up rows (add_to_rollups).

#include "core/model/beat.hpp"
#include "core/model/execution.hpp"
#include "core/types.hpp"
#include "health/figures.hpp"

#include <optional>

namespace hb::store {

// A tally and the instant it counts at (its hour's and its UTC day's roll-up rows).
struct TimedTally {
  TimePoint at;
  health::Tally tally;
};

// Returns what `write`'s execution adds to the roll-ups, at its start; std::nullopt for an
// execution cut off before it observed anything.
std::optional<TimedTally> execution_tally(const ExecutionWrite& write);

// Returns what `write` adds to the roll-ups: a job counts by its finished runs, any other target
// by its beats; std::nullopt when it adds nothing (a run still going, or no beat).
std::optional<TimedTally> beat_write_tally(const BeatWrite& write);

} // namespace hb::store
