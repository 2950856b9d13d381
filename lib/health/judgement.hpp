// SPDX-License-Identifier: MIT
#pragma once

// "How is this target?" (SPEC §2 "Target health state", "Agent heartbeats"): the one place that
// answers it, for hb-pulse, hb-beat and hb-status today and hb-recover, health scores and
// hb-diagnose later. Pure functions over the model records: no I/O, no store, no config.
//
// The pieces: check health after the confirm / recover_after thresholds, beat health (the agent
// and job states), staleness (no execution or beat for too long), and `judge`, which combines them
// with pause and retirement. Time windows (active hours, new-target grace) are in windows.hpp,
// the ranking of health states in rank.hpp.

#include "core/model/beat.hpp"
#include "core/model/execution.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::health {

// --- Checks ----------------------------------------------------------------------------------

// A check's entry and exit thresholds (SPEC §2 "Check").
struct Thresholds {
  int confirm = 1;        // failures in a row before a failure counts
  int recover_after = 1;  // successes in a row before a failing check counts as ok again
};

// Returns false for a result cut off by the pulse deadline or a shutdown (phase "cancelled" or
// "not_started"), true for every other result: only those are evidence about the target.
bool is_observation(const CheckResultRecord& result);

// Returns `previous` (the check's state, default-constructed for a new check) with `result`,
// observed at `at`, folded in. A failure counts (confirmed becomes its status) once `confirm`
// failures in a row are seen, or at once while the check already counts as bad; the check counts
// as ok again after `recover_after` successes in a row. `bad_since` keeps the first bad
// observation of the streak. A result that is not an observation leaves the state unchanged.
CheckState confirm_check(const CheckState& previous, const CheckResultRecord& result,
                         Thresholds thresholds, TimePoint at);

// Returns the health a confirmed check status counts as: ok healthy, warning warning, alert and
// error failing.
Health health_of(CheckStatus confirmed);

// What one execution's results say about a target's checks.
struct ChecksJudgement {
  std::vector<CheckState> checks;           // one per result, in result order
  Health health = Health::healthy;          // the worst confirmed check health
  bool observed = false;                    // false when every result was cut off
  std::optional<TimePoint> incident_start;  // the earliest bad_since of the checks that count bad
};

// Returns each check of `results` folded into its state in `previous` (confirm_check, with its
// thresholds from `thresholds` by check name, 1 / 1 for a check not in it), the worst health they
// count as (healthy when none is bad) and when the current incident began. When nothing was
// observed the health says nothing: callers keep the previous one.
ChecksJudgement judge_checks(const std::vector<CheckState>& previous,
                             const std::vector<CheckResultRecord>& results,
                             const std::map<std::string, Thresholds>& thresholds, TimePoint at);

// --- Beats -----------------------------------------------------------------------------------

// Returns the health a beat state counts as: online and ok healthy, degraded warning, offline,
// failed, late and hung failing, unknown unknown.
Health health_of(const BeatPhase& state);

// --- Staleness -------------------------------------------------------------------------------

// How long a target has gone without the evidence it should produce.
struct Staleness {
  bool stale = false;
  TimePoint reference;  // the last execution or beat (first_seen without one), or the start of
                        // the current active-hours window when that is later
  Duration silent{0};   // now - reference
  Duration limit{0};    // how long it may be silent
};

// Returns whether the checks of `record`, last executed at `last_execution`, are stale at `now`:
// silent for strictly longer than its stale_after. Never stale when paused, retired, without
// checks or with stale_after 0.
Staleness check_staleness(const TargetRecord& record, std::optional<TimePoint> last_execution,
                          TimePoint now);

// Returns whether the agent of `record` is stale at `now` (seed 003's "stale" issue): no beat for
// at least offline_after × every, counted from its last beat (first_seen before any) or from the
// start of the current active-hours window when later. Never stale outside its active hours,
// when paused, or without a heartbeat block or beat interval.
Staleness beat_staleness(const TargetRecord& record, const BeatState& state, TimePoint now);

// --- The target ------------------------------------------------------------------------------

// Health as the beats of a target say, with when it began.
struct BeatHealth {
  Health health = Health::unknown;
  std::optional<TimePoint> since;
};

// How a target stands.
struct Judgement {
  Health health = Health::unknown;  // the worse of check and beat health (rank.hpp)
  std::optional<TimePoint> since;   // when `health` began
  Staleness staleness;              // of its checks (check_staleness)
  bool paused = false;              // never checked, alerted or recovered
  bool retired = false;             // gone from the config; history kept
};

// Returns how the target of `record` stands at `now`, from the state its checks left (`checks`,
// nullptr before any execution) and from its beats (`beat`, nullptr for a target that pushes
// none). A target without checks has its beat health; with both, the worse one wins and keeps its
// own `since`, ties going to the checks.
Judgement judge(const TargetRecord& record, const TargetState* checks, const BeatHealth* beat,
                TimePoint now);

} // namespace hb::health
