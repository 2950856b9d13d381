// SPDX-License-Identifier: MIT
#pragma once

// Targets as the config declares them and the database knows them, and their derived health
// state. Plain records shared by the store and the logic; no I/O.

#include "core/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hb {

// A check as synced from the config, without secrets.
struct CheckInfo {
  std::string name;
  std::string type;
  Severity severity = Severity::alert;
  std::string description;
};

// How a target that pushes beats is watched, as synced from the config (config::Heartbeat plus
// the target settings the beat logic needs), so that hb-beat works from the database alone.
struct HeartbeatInfo {
  Duration every{0};
  Duration grace{0};
  int degraded_after = 1;
  int offline_after = 3;
  int recover_after = 2;
  Duration extended_offline_after{5 * 60'000};
  int flapping_transitions = 5;
  Duration flapping_window{3600'000};
  std::string schedule;  // jobs: cron expression, "" for none
  std::string timezone = "UTC";
  Duration max_runtime{0};   // jobs: 0 for no limit
  std::string active_hours;  // "09:00-21:00", "" for always
  Duration new_target_grace{0};
};

// A target as synced from the config.
struct TargetInfo {
  std::string id;
  std::string name;
  TargetKind kind = TargetKind::service;
  std::vector<std::string> tags;
  bool paused = false;
  Duration interval{0};
  Duration stale_after{0};  // 0: never stale
  // When it is expected to run (ActiveHours::text(), "" for always) in which timezone: what
  // the health score's consistency counts runs against.
  std::string active_hours;
  std::string timezone = "UTC";
  std::vector<CheckInfo> checks;
  std::optional<HeartbeatInfo> heartbeat;  // set for targets that push beats (agents, jobs)
};

// Where a target came from: the config, or `hb-beat --create` (never retired by a config sync).
enum class Origin { config, beat };

// A target as the database knows it.
struct TargetRecord {
  TargetInfo info;
  TimePoint first_seen;                  // when a pulse first synced it (new-target grace)
  std::optional<TimePoint> retired_at;   // set when it left the config; history is kept
  Origin origin = Origin::config;
};

// Confirmation state of one check on one target (SPEC §2: confirm / recover_after).
struct CheckState {
  std::string check_name;
  CheckStatus last_status = CheckStatus::ok;
  int consecutive_failures = 0;
  int consecutive_successes = 0;
  // The confirmed state: the level the check counts as for target health.
  CheckStatus confirmed = CheckStatus::ok;
  std::optional<TimePoint> bad_since;  // first bad observation of the current bad streak
  std::string last_message;
  Duration last_latency{0};  // of the last observation
};

// Health of one target, derived after each execution.
struct TargetState {
  std::string target_id;
  Health health = Health::unknown;
  std::optional<TimePoint> since;          // when `health` began (first bad observation if bad)
  int consecutive_failures = 0;            // executions in a row that were not all_clear
  int consecutive_successes = 0;
  std::optional<TimePoint> last_execution_at;  // start of the last execution
  std::optional<ExecStatus> last_status;
  std::optional<TimePoint> last_success_at;
  std::optional<TimePoint> last_failure_at;
  std::string last_message;                // the worst failing check's message, "" when clear
  std::vector<CheckState> checks;
};

} // namespace hb
