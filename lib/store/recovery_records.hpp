// SPDX-License-Identifier: MIT
#pragma once

// hb-recover's records as both backends keep them: how a row becomes a run, an attempt (with its
// steps), a target's counters or an escalation, how attempts are tallied by result, and what one
// RecoveryWrite does, in which order. None of it depends on the database, so it lives here once;
// each backend supplies its rows (StoredRow) and its statements (RecoveryWriteSteps).

#include "core/model/recovery.hpp"
#include "store/row_decoding.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::store {

// The message finish_run gives an attempt still running when its run ends, unless it has one.
inline constexpr const char* k_interrupted_attempt_message =
    "interrupted: the run ended before the attempt finished";

// Each returns the record in the columns of `row`, in the order of the backends' column lists:
// runs: id, owner, started_at, completed_at, status, interval_ms, assessed, unhealthy, attempted,
// recovered, failed, escalated, message.
RecoveryRun decode_recovery_run(const StoredRow& row);
// attempts: id, run_id, target_id, issue, check_name, phase, action, started_at, completed_at,
// result, message, steps.
RecoveryAttempt decode_recovery_attempt(const StoredRow& row);
// state: target_id, failed_attempts, last_attempt_at, next_attempt_at, suspended_at, reset_at,
// escalation_id.
RecoveryState decode_recovery_state(const StoredRow& row);
// escalations: id, target_id, cause, targets, opened_at, resolved_at, failed_attempts, summary,
// command_result.
Escalation decode_escalation(const StoredRow& row);

// Adds `attempts` attempts that ended with `result` (its stored name) to `counts`. A result that
// counts as none of succeeded, failed and interrupted (running, or a name this binary does not
// know) adds nothing.
void tally_attempts(RecoveryCounts& counts, std::string_view result, int attempts);
// Returns the counts of all targets together.
RecoveryCounts total_counts(const std::map<std::string, RecoveryCounts>& by_target);

// The statements a backend runs for the parts of a RecoveryWrite, inside its transaction.
struct RecoveryWriteSteps {
  // Inserts the attempt (assigning its id) when it has none yet, else updates its row.
  std::function<void(RecoveryAttempt&)> write_attempt;
  // Inserts the escalation, assigning its id, and returns true; unless one is open already for
  // the same target (or the same shared cause): then inserts nothing, sets the id to that one's
  // and returns false (the database's unique index decides, so that two runs never both open).
  std::function<bool(Escalation&)> open_escalation;
  // Records `event_id` as the `escalated` event of escalation `escalation_id`: its resolution
  // belongs to that event's incident.
  std::function<void(std::int64_t escalation_id, std::int64_t event_id)> link_escalation_event;
  std::function<void(std::int64_t escalation_id, TimePoint resolved_at)> resolve_escalation;
  // Returns the target_id of the escalation, std::nullopt when there is no such row.
  std::function<std::optional<std::string>(std::int64_t escalation_id)> escalation_target;
  std::function<void(const std::string& target_id)> clear_state;
  std::function<void(const RecoveryState&)> save_state;
  // Called only when there are events, so that a backend prepares its writer only then.
  std::function<void(std::vector<Event>&)> write_events;
};

// Writes `write` through `steps`: the attempt first, then an escalation opened (its id becomes
// the state's escalation_id) or resolved, then the counters (cleared, or saved), then the events
// (each `escalated` / `escalation_resolved` one tied to its escalation). An escalation that was
// open already (another run opened it first) is not opened again: `write.open` becomes
// std::nullopt, the write's `escalated` events are dropped, and the state keeps the open one.
void apply_recovery_write(RecoveryWrite& write, const RecoveryWriteSteps& steps);

} // namespace hb::store
