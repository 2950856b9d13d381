// SPDX-License-Identifier: MIT
#pragma once

#include "util/chrono.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hb {

// Result of one check (SPEC §2 "Check result"). `error` means the state could not be determined.
enum class CheckStatus { ok, warning, alert, error };

// Overall status of one execution, the worst of its checks: error > alert > warning > all_clear.
enum class ExecStatus { all_clear, warning, alert, error };

// What a failing check counts as.
enum class Severity { warning, alert };

// Health of a target after the confirm / recover_after thresholds.
enum class Health { unknown, healthy, warning, failing };

enum class TargetKind { tenant, service, agent, job };

enum class Trigger { pulse, recover, manual };

// What a pushed beat says about its sender (hb-beat --status).
enum class BeatStatus { healthy, degraded, failing };

// The agent state machine (SPEC §2 "Agent heartbeats").
enum class AgentState { unknown, online, degraded, offline };

// Where a job monitored by its runs stands (SPEC §2 "Job heartbeats"). A run in progress is shown
// as running but is not a state of its own: the job keeps the state its last run left.
enum class JobState { unknown, ok, failed, late, hung };

// What a recorded change of state was (SPEC §2 "event"). Target health: failing, warning,
// recovered; agents: agent_*; jobs: job_*; the system: discovery_failed (target_id "": it is
// about no one target); clock_skew: a stored time was found ahead of the clock and re-anchored
// (about a target, or target_id "" for the pulse and tasks).
enum class EventType {
  failing,
  warning,
  recovered,
  agent_online,
  agent_degraded,
  agent_offline,
  job_ok,
  job_recovered,
  job_failed,
  job_late,
  job_hung,
  discovery_failed,
  clock_skew,
  still_failing,  // a reminder: the target is still bad `repeat_every` after it was last told
  pulse_stale,    // the scheduler stopped running hb-pulse (target_id "": the system)
  recover_stale,  // the scheduler stopped running hb-recover (target_id "": the system)
  escalated,      // recovery gave up on a target (or a shared cause, target_id ""): people act
  escalation_resolved,  // the escalated target recovered
};

// How a run of hb-pulse stands or ended. dry_run is never stored.
enum class PulseStatus { running, ok, error, interrupted, dry_run };

// How one run of a scheduled task ended.
enum class TaskRunStatus { succeeded, failed, timed_out, skipped, interrupted };

// How one run of a job reported by hb-beat stands.
enum class JobRunStatus { running, succeeded, failed, timed_out };

std::string_view to_string(CheckStatus status);
std::string_view to_string(ExecStatus status);
std::string_view to_string(Severity severity);
std::string_view to_string(Health health);
std::string_view to_string(TargetKind kind);
std::string_view to_string(Trigger trigger);
std::string_view to_string(BeatStatus status);
std::string_view to_string(AgentState state);
std::string_view to_string(JobState state);
std::string_view to_string(EventType type);
std::string_view to_string(PulseStatus status);
std::string_view to_string(TaskRunStatus status);
std::string_view to_string(JobRunStatus status);

// Each parse_* returns std::nullopt when `text` is not one of the names above.
std::optional<CheckStatus> parse_check_status(std::string_view text);
std::optional<ExecStatus> parse_exec_status(std::string_view text);
std::optional<Severity> parse_severity(std::string_view text);
std::optional<Health> parse_health(std::string_view text);
std::optional<TargetKind> parse_target_kind(std::string_view text);
std::optional<Trigger> parse_trigger(std::string_view text);
std::optional<BeatStatus> parse_beat_status(std::string_view text);
std::optional<AgentState> parse_agent_state(std::string_view text);
std::optional<JobState> parse_job_state(std::string_view text);
std::optional<EventType> parse_event_type(std::string_view text);
std::optional<PulseStatus> parse_pulse_status(std::string_view text);
std::optional<TaskRunStatus> parse_task_run_status(std::string_view text);
std::optional<JobRunStatus> parse_job_run_status(std::string_view text);

// Event types that record an agent's or a job's transitions (flapping counts them).
bool is_agent_event(EventType type);
bool is_job_event(EventType type);

// Maps a check status onto the execution scale (ok becomes all_clear).
ExecStatus to_exec_status(CheckStatus status);

// Severity order used for aggregation and exit codes: larger is worse.
int rank(CheckStatus status);
int rank(ExecStatus status);

} // namespace hb
