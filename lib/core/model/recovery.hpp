// SPDX-License-Identifier: MIT
#pragma once

// What hb-recover keeps (SPEC §4.3, "Recovery", "Escalation"): its runs, each attempt on a
// target with its steps, the per-target counters (backoff, the restart budget) and escalations.
// Plain records shared by the store and lib/recovery; no I/O.

#include "core/model/event.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hb {

// Why a target needs recovery (the action keys of the config): staleness, a confirmed failure,
// a failure rate over the window, an agent offline (or a job late or failed).
enum class RecoveryIssue { stale, failing, high_error_rate, offline };

// How one attempt ended. recovered: a check run (or the agent's beats) passed after it, verified;
// failed: still unhealthy after the ladder; interrupted: SIGTERM/SIGINT or a crash cut it short
// (a row still `running` whose run died is shown as interrupted).
enum class AttemptResult { running, recovered, failed, interrupted };

// How one run of hb-recover stands or ended.
enum class RecoveryRunStatus { running, ok, error, interrupted };

std::string_view to_string(RecoveryIssue issue);
std::string_view to_string(AttemptResult result);
std::string_view to_string(RecoveryRunStatus status);
std::optional<RecoveryIssue> parse_recovery_issue(std::string_view text);
std::optional<AttemptResult> parse_attempt_result(std::string_view text);
std::optional<RecoveryRunStatus> parse_recovery_run_status(std::string_view text);

// One run of hb-recover (SPEC §4.3 "History").
struct RecoveryRun {
  std::int64_t id = 0;
  std::string owner;  // also the owner of its claims
  TimePoint started_at;
  std::optional<TimePoint> completed_at;
  RecoveryRunStatus status = RecoveryRunStatus::running;
  Duration interval{0};  // recovery.interval when it ran: staleness is derived from it
  int assessed = 0;      // live targets looked at
  int unhealthy = 0;
  int attempted = 0;
  int recovered = 0;
  int failed = 0;
  int escalated = 0;     // escalations opened by this run
  std::string message;   // what went wrong, when status is error or interrupted
};

// One rung of the ladder as it ran: the forced check run, the action, or the verifying re-check.
struct AttemptStep {
  std::string kind;     // "check", "action", "verify"
  std::string what;     // the action's command (secrets hidden), or the checks' summary
  std::optional<int> exit_code;  // actions: as a shell reports it (128+signal, 124 timeout)
  std::string output;   // actions: the tail of stdout+stderr, sanitised and redacted
  Duration duration{0};
  std::string result;   // "ok", "failing", "succeeded", "failed", "timed_out", "interrupted"
};

// One attempt to recover one target.
struct RecoveryAttempt {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t run_id = 0;
  std::string target_id;
  RecoveryIssue issue = RecoveryIssue::failing;
  std::string check_name;  // the failing check that chose the action, "" for none
  std::string phase;       // its failure phase, "" for none
  std::string action;      // the command that ran (secrets hidden), "" when none was configured
  TimePoint started_at;
  std::optional<TimePoint> completed_at;
  AttemptResult result = AttemptResult::running;
  std::string message;     // one line for people
  std::vector<AttemptStep> steps;
};

// The counters of one target (absent: never attempted, or reset).
struct RecoveryState {
  std::string target_id;
  int failed_attempts = 0;                  // since the last verified recovery or reset
  std::optional<TimePoint> last_attempt_at;
  std::optional<TimePoint> next_attempt_at; // backoff: not before this
  std::optional<TimePoint> suspended_at;    // the restart budget ran out
  std::optional<TimePoint> reset_at;        // the last verified recovery or --reset
  std::int64_t escalation_id = 0;           // the open escalation, 0 for none
};

// An escalation (SPEC §2): one per target while it is open, or one per shared cause.
struct Escalation {
  std::int64_t id = 0;        // assigned by the store
  std::string target_id;      // "" for a shared cause
  std::string cause;          // shared cause: the common failure ("connect 127.0.0.1:9")
  std::vector<std::string> targets;  // the affected targets (one for a target escalation)
  TimePoint opened_at;
  std::optional<TimePoint> resolved_at;
  int failed_attempts = 0;
  std::string summary;        // the escalation JSON, as escalation.command receives it
  std::string command_result; // what escalation.command did, "" when none ran
};

// Everything one decision of hb-recover changes, written in one transaction: an attempt (new or
// finished), the target's counters, an escalation opened or resolved, and the events (escalated,
// escalation_resolved) with their outbox rows.
struct RecoveryWrite {
  std::optional<RecoveryAttempt> attempt;  // id 0: inserted (id assigned); else updated
  std::optional<RecoveryState> state;      // written when set
  bool clear_state = false;                // deletes the target's counters instead
  std::optional<Escalation> open;          // inserted (id assigned; state.escalation_id set)
  std::int64_t resolve_escalation = 0;     // marks this escalation resolved at resolved_at
  TimePoint resolved_at;
  std::vector<Event> events;
};

// Counts of attempts since a time, for hb-status's recovery line.
struct RecoveryCounts {
  int succeeded = 0;
  int failed = 0;
  int interrupted = 0;
};

} // namespace hb
