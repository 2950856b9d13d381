// SPDX-License-Identifier: MIT
#include "core/types.hpp"

#include "core/enum_table.hpp"

#include <array>
#include <utility>

namespace hb {
namespace {

constexpr std::array k_check_status{
  std::pair{std::string_view{"ok"}, CheckStatus::ok},
  std::pair{std::string_view{"warning"}, CheckStatus::warning},
  std::pair{std::string_view{"alert"}, CheckStatus::alert},
  std::pair{std::string_view{"error"}, CheckStatus::error},
};
constexpr std::array k_exec_status{
  std::pair{std::string_view{"all_clear"}, ExecStatus::all_clear},
  std::pair{std::string_view{"warning"}, ExecStatus::warning},
  std::pair{std::string_view{"alert"}, ExecStatus::alert},
  std::pair{std::string_view{"error"}, ExecStatus::error},
};
constexpr std::array k_severity{
  std::pair{std::string_view{"warning"}, Severity::warning},
  std::pair{std::string_view{"alert"}, Severity::alert},
};
constexpr std::array k_health{
  std::pair{std::string_view{"unknown"}, Health::unknown},
  std::pair{std::string_view{"healthy"}, Health::healthy},
  std::pair{std::string_view{"warning"}, Health::warning},
  std::pair{std::string_view{"failing"}, Health::failing},
};
constexpr std::array k_target_kind{
  std::pair{std::string_view{"tenant"}, TargetKind::tenant},
  std::pair{std::string_view{"service"}, TargetKind::service},
  std::pair{std::string_view{"agent"}, TargetKind::agent},
  std::pair{std::string_view{"job"}, TargetKind::job},
};
constexpr std::array k_trigger{
  std::pair{std::string_view{"pulse"}, Trigger::pulse},
  std::pair{std::string_view{"recover"}, Trigger::recover},
  std::pair{std::string_view{"manual"}, Trigger::manual},
};

constexpr std::array k_beat_status{
  std::pair{std::string_view{"healthy"}, BeatStatus::healthy},
  std::pair{std::string_view{"degraded"}, BeatStatus::degraded},
  std::pair{std::string_view{"failing"}, BeatStatus::failing},
};
constexpr std::array k_agent_state{
  std::pair{std::string_view{"unknown"}, AgentState::unknown},
  std::pair{std::string_view{"online"}, AgentState::online},
  std::pair{std::string_view{"degraded"}, AgentState::degraded},
  std::pair{std::string_view{"offline"}, AgentState::offline},
};
constexpr std::array k_job_state{
  std::pair{std::string_view{"unknown"}, JobState::unknown},
  std::pair{std::string_view{"ok"}, JobState::ok},
  std::pair{std::string_view{"failed"}, JobState::failed},
  std::pair{std::string_view{"late"}, JobState::late},
  std::pair{std::string_view{"hung"}, JobState::hung},
};

constexpr std::array k_event_type{
  std::pair{std::string_view{"failing"}, EventType::failing},
  std::pair{std::string_view{"warning"}, EventType::warning},
  std::pair{std::string_view{"recovered"}, EventType::recovered},
  std::pair{std::string_view{"agent_online"}, EventType::agent_online},
  std::pair{std::string_view{"agent_degraded"}, EventType::agent_degraded},
  std::pair{std::string_view{"agent_offline"}, EventType::agent_offline},
  std::pair{std::string_view{"job_ok"}, EventType::job_ok},
  std::pair{std::string_view{"job_recovered"}, EventType::job_recovered},
  std::pair{std::string_view{"job_failed"}, EventType::job_failed},
  std::pair{std::string_view{"job_late"}, EventType::job_late},
  std::pair{std::string_view{"job_hung"}, EventType::job_hung},
  std::pair{std::string_view{"discovery_failed"}, EventType::discovery_failed},
  std::pair{std::string_view{"clock_skew"}, EventType::clock_skew},
  std::pair{std::string_view{"still_failing"}, EventType::still_failing},
  std::pair{std::string_view{"pulse_stale"}, EventType::pulse_stale},
  std::pair{std::string_view{"recover_stale"}, EventType::recover_stale},
  std::pair{std::string_view{"escalated"}, EventType::escalated},
  std::pair{std::string_view{"escalation_resolved"}, EventType::escalation_resolved},
};
constexpr std::array k_pulse_status{
  std::pair{std::string_view{"running"}, PulseStatus::running},
  std::pair{std::string_view{"ok"}, PulseStatus::ok},
  std::pair{std::string_view{"error"}, PulseStatus::error},
  std::pair{std::string_view{"interrupted"}, PulseStatus::interrupted},
  std::pair{std::string_view{"dry_run"}, PulseStatus::dry_run},
};
constexpr std::array k_task_run_status{
  std::pair{std::string_view{"succeeded"}, TaskRunStatus::succeeded},
  std::pair{std::string_view{"failed"}, TaskRunStatus::failed},
  std::pair{std::string_view{"timed_out"}, TaskRunStatus::timed_out},
  std::pair{std::string_view{"skipped"}, TaskRunStatus::skipped},
  std::pair{std::string_view{"interrupted"}, TaskRunStatus::interrupted},
};
constexpr std::array k_job_run_status{
  std::pair{std::string_view{"running"}, JobRunStatus::running},
  std::pair{std::string_view{"succeeded"}, JobRunStatus::succeeded},
  std::pair{std::string_view{"failed"}, JobRunStatus::failed},
  std::pair{std::string_view{"timed_out"}, JobRunStatus::timed_out},
};

} // namespace

std::string_view to_string(EventType type) { return enum_name(k_event_type, type); }
std::string_view to_string(PulseStatus status) { return enum_name(k_pulse_status, status); }
std::string_view to_string(TaskRunStatus status) { return enum_name(k_task_run_status, status); }
std::string_view to_string(JobRunStatus status) { return enum_name(k_job_run_status, status); }
std::optional<EventType> parse_event_type(std::string_view text) { return parse_enum(k_event_type, text); }
std::optional<PulseStatus> parse_pulse_status(std::string_view text) { return parse_enum(k_pulse_status, text); }
std::optional<TaskRunStatus> parse_task_run_status(std::string_view text) { return parse_enum(k_task_run_status, text); }
std::optional<JobRunStatus> parse_job_run_status(std::string_view text) { return parse_enum(k_job_run_status, text); }

bool is_agent_event(EventType type)
{
  return type == EventType::agent_online || type == EventType::agent_degraded
         || type == EventType::agent_offline;
}

bool is_job_event(EventType type)
{
  return type == EventType::job_ok || type == EventType::job_recovered || type == EventType::job_failed
         || type == EventType::job_late || type == EventType::job_hung;
}

std::string_view to_string(CheckStatus status) { return enum_name(k_check_status, status); }
std::string_view to_string(ExecStatus status) { return enum_name(k_exec_status, status); }
std::string_view to_string(Severity severity) { return enum_name(k_severity, severity); }
std::string_view to_string(Health health) { return enum_name(k_health, health); }
std::string_view to_string(TargetKind kind) { return enum_name(k_target_kind, kind); }
std::string_view to_string(Trigger trigger) { return enum_name(k_trigger, trigger); }
std::string_view to_string(BeatStatus status) { return enum_name(k_beat_status, status); }
std::string_view to_string(AgentState state) { return enum_name(k_agent_state, state); }
std::string_view to_string(JobState state) { return enum_name(k_job_state, state); }

std::optional<CheckStatus> parse_check_status(std::string_view text) { return parse_enum(k_check_status, text); }
std::optional<ExecStatus> parse_exec_status(std::string_view text) { return parse_enum(k_exec_status, text); }
std::optional<Severity> parse_severity(std::string_view text) { return parse_enum(k_severity, text); }
std::optional<Health> parse_health(std::string_view text) { return parse_enum(k_health, text); }
std::optional<TargetKind> parse_target_kind(std::string_view text) { return parse_enum(k_target_kind, text); }
std::optional<Trigger> parse_trigger(std::string_view text) { return parse_enum(k_trigger, text); }
std::optional<BeatStatus> parse_beat_status(std::string_view text) { return parse_enum(k_beat_status, text); }
std::optional<AgentState> parse_agent_state(std::string_view text) { return parse_enum(k_agent_state, text); }
std::optional<JobState> parse_job_state(std::string_view text) { return parse_enum(k_job_state, text); }

ExecStatus to_exec_status(CheckStatus status)
{
  switch (status) {
  case CheckStatus::ok:
    return ExecStatus::all_clear;
  case CheckStatus::warning:
    return ExecStatus::warning;
  case CheckStatus::alert:
    return ExecStatus::alert;
  case CheckStatus::error:
    return ExecStatus::error;
  }
  return ExecStatus::error;
}

int rank(CheckStatus status) { return static_cast<int>(status); }
int rank(ExecStatus status) { return static_cast<int>(status); }

} // namespace hb
