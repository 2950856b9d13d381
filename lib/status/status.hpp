// SPDX-License-Identifier: MIT
#pragma once

#include "agents/state.hpp"
#include "core/errors.hpp"
#include "health/figures.hpp"
#include "health/recover_runs.hpp"
#include "pulse/system_state.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hb::status {

// One target as hb-status shows it.
struct TargetRow {
  TargetInfo info;
  Health health = Health::unknown;
  std::optional<TimePoint> since;
  std::optional<TimePoint> last_run;
  std::optional<ExecStatus> last_status;
  int executions_24h = 0;
  int failures_24h = 0;
  std::optional<double> failure_rate_24h;  // failures / executions; none without executions
  std::string message;                     // the failing check's message when not healthy
  // No execution for longer than the target's stale_after: its checks have stopped running
  // (outside active hours for too long, a misconfigured interval, a pulse that keeps dying).
  bool stale = false;
  // Set when the target left the config: its history is kept and shown on request (--all, or by
  // name), but it is neither counted nor alerted on.
  std::optional<TimePoint> retired_at;
  // Agents and jobs: their beats, state and issues. `health` then includes the beat health.
  std::optional<agents::BeatView> beat;
  // Health score, uptime and incident figures (SPEC §2; definitions in docs/health.md).
  health::Figures figures;
  // Each check's confirmation state as the last execution left it (from the target states
  // already read, no history): the per-check view of --prometheus. Empty before the first run.
  std::vector<CheckState> checks;
};

// One scheduled task as hb-status shows it.
struct ScheduleRow {
  ScheduleInfo info;
  std::optional<ScheduleState> state;
  std::optional<TimePoint> next_run;  // computed from the cron expression at `now`
  bool failing = false;               // the last run failed or timed out and no retry is pending
  bool retrying = false;              // the last run failed and a retry is scheduled
  // A fire time that should have run by now (older than 1.5 × the pulse interval) and has not:
  // missed while no pulse ran, or left by the pulses since (deadline, --no-tasks).
  std::optional<TimePoint> overdue_since;
  bool missed_without_pulse = false;  // no scheduled pulse started since overdue_since
};

struct Counts {
  int targets = 0;
  int healthy = 0;
  int warning = 0;
  int failing = 0;
  int unknown = 0;
  int paused = 0;
  int stale = 0;
  // The seeds' agent health report.
  int agents = 0;
  int agents_online = 0;
  int agents_degraded = 0;
  int agents_offline = 0;
  int agents_unknown = 0;
  int jobs = 0;
  int jobs_ok = 0;
  int jobs_running = 0;
  int jobs_failing = 0;  // failed, late or hung
  int jobs_unknown = 0;
};

// Everything the default hb-status view shows; computed once, then printed as a table or JSON
// (and, later, Prometheus, Nagios, HTML).
// Stored times found ahead of the clock (hb::from_the_future): clock skew. hb-pulse re-anchors
// them on its next run; until then hb-status says so.
struct ClockSkew {
  Duration ahead{0};                // the most by which a stored time is ahead of now
  std::vector<std::string> found;   // "the last pulse", "2 targets' last runs", ...
};

// hb-recover as hb-status shows it (SPEC §4.4): its last run, targets waiting out a backoff or
// suspended, attempts in the last 24 hours, open escalations.
struct RecoveryStatus {
  health::RecoverRuns runs;
  int pending = 0;    // targets in backoff, to be tried again
  int suspended = 0;  // targets whose restart budget is spent
  RecoveryCounts last_24h;
  std::vector<Escalation> open_escalations;
};

struct StatusReport {
  TimePoint now;
  std::string database;
  pulse::SystemPulse pulse;
  std::optional<ClockSkew> clock_skew;
  Counts counts;
  std::vector<TargetRow> targets;
  std::vector<ScheduleRow> schedules;
  // Delivery health per channel that has notifications: pending and held now, sent and failed
  // in the last 24 hours, the last error. Empty without notifications.
  std::vector<ChannelHealth> channels;
  // Set once hb-recover has run (or left counters); std::nullopt where recovery is not used.
  std::optional<RecoveryStatus> recovery;
  // The fleet's figures: the mean score of the live targets that have one, uptime and incident
  // figures over all of their observations.
  health::Figures overall;
  ExitCode exit_code = ExitCode::unknown;  // Nagios convention on the worst state shown
};

struct CheckDetail {
  CheckInfo info;
  std::optional<CheckState> state;
  std::optional<CheckResultRecord> last_result;
  std::optional<TimePoint> last_run;
};

// One target in depth: hb-status TARGET.
struct TargetDetail {
  TimePoint now;
  TargetRow row;
  std::optional<TimePoint> first_seen;
  std::vector<CheckDetail> checks;
  std::vector<ExecutionRecord> recent;  // newest first, with results
  std::vector<Event> events;            // newest first
  std::vector<Beat> beats;              // agents: newest first
  std::vector<JobRun> runs;             // jobs: newest first
  std::vector<OutboxItem> notifications;  // of its recent events, newest first
  std::optional<RecoveryState> recovery;  // its hb-recover counters, if any
  std::vector<RecoveryAttempt> attempts;  // newest first, with their steps
  std::vector<Escalation> escalations;    // newest first (shared causes it is part of included)
  std::vector<health::IncidentTimeline> incidents;  // started in the last 7 days, oldest first
  ExitCode exit_code = ExitCode::unknown;
};

// Computes the overview at `now`. Reads only, so that it works for a user who may only read the
// database: agent and job states as of `now` are derived in memory, never written (hb-pulse and
// hb-beat record the transitions). Cost grows with the number of targets and the
// executions of the last 24 hours, never with the length of history.
// Retired targets are listed (marked, last) only with `include_retired` yes, and never counted
// or taken into the exit code.
StatusReport collect(store::Store& store, TimePoint now, std::string database,
                     store::IncludeRetired include_retired = store::IncludeRetired::no);

// Computes the view of one target. Throws hb::DataError (exit 65) for an unknown id.
TargetDetail collect_target(store::Store& store, const std::string& target_id, TimePoint now,
                            int recent_limit = 10);

// The exit code for one health value: healthy 0, warning 1, failing 2, unknown 3.
ExitCode exit_code_for(Health health);

// How much one row weighs in the overview's exit code: 2 (critical) for a stale or failing
// target or an agent or job with an alert, 1 for a warning, 0 otherwise (healthy, unknown,
// paused or retired). The order in which --nagios lists the problems.
int problem_level(const TargetRow& row);

} // namespace hb::status
