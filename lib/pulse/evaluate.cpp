// SPDX-License-Identifier: MIT
#include "pulse/evaluate.hpp"

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

namespace {

Health health_of(CheckStatus confirmed)
{
  switch (confirmed) {
  case CheckStatus::ok:
    return Health::healthy;
  case CheckStatus::warning:
    return Health::warning;
  case CheckStatus::alert:
  case CheckStatus::error:
    return Health::failing;
  }
  return Health::failing;
}

int health_rank(Health h)
{
  switch (h) {
  case Health::unknown:
  case Health::healthy:
    return 0;
  case Health::warning:
    return 1;
  case Health::failing:
    return 2;
  }
  return 0;
}

} // namespace

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

  std::map<std::string, const CheckState*> prior;
  for (const auto& c : previous.checks) {
    prior[c.check_name] = &c;
  }
  std::map<std::string, const checks::CheckDef*> defs;
  for (const auto& def : target.checks) {
    defs[def.name] = &def;
  }

  Health health = Health::healthy;
  std::optional<TimePoint> incident_start;
  std::vector<std::string> bad_messages;
  int worst_rank = -1;
  bool observed = false;  // at least one result that was not cut off
  for (const auto& result : execution.results) {
    CheckState cs;
    cs.check_name = result.check_name;
    if (auto it = prior.find(result.check_name); it != prior.end()) {
      cs = *it->second;
    }
    const auto def_it = defs.find(result.check_name);
    const int confirm = def_it != defs.end() ? def_it->second->confirm : 1;
    const int recover_after = def_it != defs.end() ? def_it->second->recover_after : 1;

    // A check cut off by the pulse deadline or a shutdown says nothing about the target: the
    // monitor ran out of time. It is recorded (as error) but leaves the check's state as it was,
    // so a slow pulse never pages anyone about a healthy target.
    const bool cut_off = result.phase == "cancelled" || result.phase == "not_started";
    if (!cut_off) {
      observed = true;
      cs.last_status = result.status;
      cs.last_message = result.message;
    }
    if (!cut_off && result.status != CheckStatus::ok) {
      cs.consecutive_failures += 1;
      cs.consecutive_successes = 0;
      if (!cs.bad_since) {
        cs.bad_since = execution.started_at;
      }
      if (cs.confirmed != CheckStatus::ok || cs.consecutive_failures >= confirm) {
        cs.confirmed = result.status;
      }
    } else if (!cut_off) {
      cs.consecutive_successes += 1;
      cs.consecutive_failures = 0;
      if (cs.confirmed == CheckStatus::ok || cs.consecutive_successes >= recover_after) {
        cs.confirmed = CheckStatus::ok;
        cs.bad_since.reset();
      }
    }

    const Health check_health = health_of(cs.confirmed);
    if (check_health != Health::healthy) {
      if (health_rank(check_health) > health_rank(health)) {
        health = check_health;
      }
      if (cs.bad_since && (!incident_start || *cs.bad_since < *incident_start)) {
        incident_start = cs.bad_since;
      }
      bad_messages.push_back(fmt::format("{}: {}", cs.check_name, cs.last_message));
    }
    if (result.status != CheckStatus::ok && rank(result.status) > worst_rank) {
      worst_rank = rank(result.status);
      state.last_message = fmt::format("{}: {}", result.check_name, result.message);
    }
    state.checks.push_back(std::move(cs));
  }

  const Health old_health = previous.health;
  if (!observed) {
    // Nothing was learned: health and its start stay as they were.
    health = old_health;
  }
  if (health != old_health) {
    state.health = health;
    state.since = health == Health::healthy ? execution.started_at
                                            : incident_start.value_or(execution.started_at);
    const bool first_and_fine = old_health == Health::unknown && health == Health::healthy;
    if (!first_and_fine) {
      Event event;
      event.target_id = target.id;
      event.at = execution.completed_at;
      event.old_state = std::string(to_string(old_health));
      event.new_state = std::string(to_string(health));
      event.in_grace = in_grace == InGrace::yes;
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
