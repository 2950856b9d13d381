// SPDX-License-Identifier: MIT
#pragma once

// hb-recover's decisions (SPEC §4.3), pure functions over records: which targets are unhealthy
// and why (through the one health judgement), which are left alone and why, which are waiting
// out their backoff or their suspended budget, which share one cause, which action fits, and how
// long to back off. The orchestration that runs them is recover.hpp.

#include "config/config.hpp"
#include "core/model/execution.hpp"
#include "core/model/recovery.hpp"
#include "core/model/target.hpp"
#include "health/judgement.hpp"
#include "health/windows.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hb::recovery {

// What the caller gathered about one live configured target.
struct TargetFacts {
  const config::Target* target = nullptr;
  TargetRecord record;
  std::optional<TargetState> checks;             // std::nullopt before any execution
  std::optional<health::BeatHealth> beat;        // set for targets that push beats
  std::string beat_state;                        // its AgentState / JobState name
  std::vector<CheckResultRecord> last_results;   // of the last execution (failing targets)
  ExecutionStats window;                         // executions within failure_window
  std::optional<RecoveryState> state;            // its counters, if any
  int attempts_in_window = 0;  // attempts since max(now - attempts_window, state->reset_at)
  std::optional<health::MaintenanceHit> maintenance;
  std::vector<std::string> failing_dependencies;  // depends_on targets failing now
  std::map<std::string, std::string> endpoints;   // check name -> "host:port", when it has one
};

enum class Verdict {
  healthy,     // nothing to do (its counters, if any, are reset: a verified recovery)
  left_alone,  // paused, retired, in grace, in maintenance, behind a failing dependency, opted out
  warning,     // not healthy, but nothing recovery acts on (a warning)
  unhealthy,
};

enum class Plan {
  none,          // healthy, left alone or warning
  attempt,       // climb the ladder now
  backoff,       // wait until next_attempt_at
  suspended,     // the restart budget is spent: --reset or a recovery resumes it
  shared_cause,  // one of several targets failing alike: escalated once, not restarted
};

std::string_view to_string(Verdict verdict);
std::string_view to_string(Plan plan);

struct Assessment {
  std::string target_id;
  Verdict verdict = Verdict::healthy;
  RecoveryIssue issue = RecoveryIssue::failing;
  std::string check_name;  // the failing check (first in config order), "" for none
  std::string phase;       // its failure phase
  std::string message;     // its message, or what the beats say
  std::optional<TimePoint> since;
  std::string reason;      // why unhealthy, left alone or a warning, for people
  std::string cause;       // the shared-cause key of its failure ("" when it has none)
  Plan plan = Plan::none;
  std::string plan_reason; // why it waits, or what it will do
  std::optional<TimePoint> next_attempt_at;
  bool suspend_now = false;  // the budget ran out with this assessment: record the suspension
};

enum class Force { no, yes };

// Judges one target at `now` (health::judge over its checks and beats) and plans what recovery
// does about it. Unhealthy, in this order: stale (stale_after passed without an execution),
// failing (a confirmed failing check), offline (an agent offline, a job failed, late or hung),
// high_error_rate (more than max_failure_rate of at least min_executions executions in
// failure_window were not all clear). With Force::yes the backoff is ignored, never the budget.
Assessment assess(const TargetFacts& facts, const config::RecoverySettings& settings, TimePoint now,
                  Force force);

// Marks as Plan::shared_cause every planned target whose cause is shared by at least `minimum`
// unhealthy targets (whatever their plan), and returns the causes so marked, each with its
// targets in order.
struct SharedCause {
  std::string cause;
  std::vector<std::string> targets;
};
std::vector<SharedCause> mark_shared_causes(std::vector<Assessment>& assessments, int minimum);

// "host:port" of a check described as "GET https://host/path" or "tcp host:5432" (default ports
// 80 and 443 by scheme), "" when the description names none.
std::string endpoint_of(std::string_view description);

// The shared-cause key of a failure: "<phase> <endpoint>" for a transport failure (dns, connect,
// tls, timeout) of a check with an endpoint, else "<phase>: <message>" with digits folded, so
// that "after 12 ms" and "after 3 ms" agree. "" without a phase.
std::string cause_key(std::string_view phase, std::string_view message, std::string_view endpoint);

// The delay before the attempt after `failed_attempts` failed ones: full jitter below
// min(backoff_max, backoff × 2^(failed_attempts - 1)); `unit` is a uniform random number in
// [0, 1). Never negative; at least one second, so that one run does not retry at once.
Duration backoff_delay(int failed_attempts, Duration backoff, Duration backoff_max, double unit);

// The most specific action for `assessment`: its check, then its phase, then its issue type; a
// target's own `actions` override the top-level ones key by key. `key` (may be null) receives
// which one ("checks.health", "phases.timeout", "failing"). nullptr when none applies.
const config::RecoveryAction* choose_action(const config::RecoverySettings& settings,
                                            const config::Target& target,
                                            const Assessment& assessment, std::string* key);

// `argv` with ${target.id}, ${target.name}, ${check.name} and ${issue} filled in.
std::vector<std::string> expand_action(const std::vector<std::string>& argv,
                                       const config::Target& target,
                                       const Assessment& assessment);

} // namespace hb::recovery
