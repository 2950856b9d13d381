// SPDX-License-Identifier: MIT
#include "pulse/evaluate.hpp"

#include "health/judgement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace hb::pulse {

ExecStatus aggregate(const std::vector<CheckResultRecord>& results)
{
  ExecStatus worst = ExecStatus::all_clear;
  for (const auto& r : results) {
    const ExecStatus s = to_exec_status(r.status);
    if (rank(s) > rank(worst)) {
      worst = s;
    }
  }
  return worst;
}

Evaluation evaluate(const config::Target& target, const TargetState& previous,
                    const ExecutionRecord& execution, InGrace in_grace)
{
  Evaluation out;
  TargetState& state = out.state;
  state.target_id = target.id;
  state.health = previous.health;
  state.since = previous.since;
  state.last_success_at = previous.last_success_at;
  state.last_failure_at = previous.last_failure_at;
  state.last_execution_at = execution.started_at;
  state.last_status = execution.status;

  if (execution.status == ExecStatus::all_clear) {
    state.consecutive_successes = previous.consecutive_successes + 1;
    state.consecutive_failures = 0;
    state.last_success_at = execution.started_at;
  } else {
    state.consecutive_failures = previous.consecutive_failures + 1;
    state.consecutive_successes = 0;
    state.last_failure_at = execution.started_at;
  }

  std::map<std::string, health::Thresholds> thresholds;
  std::map<std::string, Duration> timeouts;
  for (const auto& def : target.checks) {
    thresholds[def.name] = {def.confirm, def.recover_after};
    timeouts[def.name] = def.timeout;
  }
  for (const auto& result : execution.results) {
    const auto timeout = timeouts.find(result.check_name);
    if (!health::is_observation(result) || timeout == timeouts.end() ||
        timeout->second <= Duration(0)) {
      continue;
    }
    const auto permille = std::min<long long>(
        1000, std::max<long long>(0, result.latency.count()) * 1000 / timeout->second.count());
    out.load = std::max(out.load.value_or(0), static_cast<int>(permille));
  }
  health::ChecksJudgement judged =
    health::judge_checks(previous.checks, execution.results, thresholds, execution.started_at);

  std::vector<std::string> bad_messages;
  for (const auto& cs : judged.checks) {
    if (health::health_of(cs.confirmed) != Health::healthy) {
      bad_messages.push_back(fmt::format("{}: {}", cs.check_name, cs.last_message));
    }
  }
  // The message names the worst raw result, confirmed or not, so that people see what is wrong
  // before it counts.
  int worst_rank = -1;
  for (const auto& result : execution.results) {
    if (result.status != CheckStatus::ok && rank(result.status) > worst_rank) {
      worst_rank = rank(result.status);
      state.last_message = fmt::format("{}: {}", result.check_name, result.message);
    }
  }
  state.checks = std::move(judged.checks);

  const Health old_health = previous.health;
  // Nothing observed, nothing learned: health and its start stay as they were.
  const Health health = judged.observed ? judged.health : old_health;
  if (health != old_health) {
    state.health = health;
    state.since = health == Health::healthy ? execution.started_at
                                            : judged.incident_start.value_or(execution.started_at);
    const bool first_and_fine = old_health == Health::unknown && health == Health::healthy;
    if (!first_and_fine) {
      Event event;
      event.target_id = target.id;
      event.at = execution.completed_at;
      event.old_state = std::string(to_string(old_health));
      event.new_state = std::string(to_string(health));
      event.in_grace = in_grace == InGrace::yes;
      if (health != Health::healthy) {
        event.since = state.since;
      }
      if (health == Health::healthy) {
        event.type = EventType::recovered;
        event.message = "all checks pass";
      } else {
        event.type = health == Health::failing ? EventType::failing : EventType::warning;
        std::string joined;
        for (const auto& m : bad_messages) {
          joined += joined.empty() ? m : "; " + m;
        }
        event.message = joined;
      }
      out.events.push_back(std::move(event));
    }
  }
  return out;
}

} // namespace hb::pulse
