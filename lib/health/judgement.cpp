// SPDX-License-Identifier: MIT
#include "health/judgement.hpp"

#include "health/rank.hpp"
#include "health/windows.hpp"

#include <algorithm>

namespace hb::health {

// --- Checks ----------------------------------------------------------------------------------

bool is_observation(const CheckResultRecord& result)
{
  // A check cut off by the pulse deadline or a shutdown says nothing about the target: the
  // monitor ran out of time. It is recorded (as error) but must not move the check's state, so a
  // slow pulse never pages anyone about a healthy target.
  return result.phase != "cancelled" && result.phase != "not_started";
}

CheckState confirm_check(const CheckState& previous, const CheckResultRecord& result,
                         Thresholds thresholds, TimePoint at)
{
  CheckState cs = previous;
  cs.check_name = result.check_name;
  if (!is_observation(result)) {
    return cs;
  }
  cs.last_status = result.status;
  cs.last_message = result.message;
  cs.last_latency = result.latency;
  if (result.status != CheckStatus::ok) {
    cs.consecutive_failures += 1;
    cs.consecutive_successes = 0;
    if (!cs.bad_since) {
      cs.bad_since = at;
    }
    // Once a check counts as bad, a change of level (warning to alert) needs no new streak.
    if (cs.confirmed != CheckStatus::ok || cs.consecutive_failures >= thresholds.confirm) {
      cs.confirmed = result.status;
    }
  } else {
    cs.consecutive_successes += 1;
    cs.consecutive_failures = 0;
    if (cs.confirmed == CheckStatus::ok || cs.consecutive_successes >= thresholds.recover_after) {
      cs.confirmed = CheckStatus::ok;
      cs.bad_since.reset();
    }
  }
  return cs;
}

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

ChecksJudgement judge_checks(const std::vector<CheckState>& previous,
                             const std::vector<CheckResultRecord>& results,
                             const std::map<std::string, Thresholds>& thresholds, TimePoint at)
{
  std::map<std::string, const CheckState*> prior;
  for (const auto& c : previous) {
    prior[c.check_name] = &c;
  }
  ChecksJudgement out;
  for (const auto& result : results) {
    const auto prior_it = prior.find(result.check_name);
    const auto threshold_it = thresholds.find(result.check_name);
    CheckState cs = confirm_check(prior_it != prior.end() ? *prior_it->second : CheckState{},
                                  result,
                                  threshold_it != thresholds.end() ? threshold_it->second
                                                                   : Thresholds{},
                                  at);
    out.observed = out.observed || is_observation(result);
    const Health check_health = health_of(cs.confirmed);
    if (check_health != Health::healthy) {
      out.health = worst(out.health, check_health);
      if (cs.bad_since && (!out.incident_start || *cs.bad_since < *out.incident_start)) {
        out.incident_start = cs.bad_since;
      }
    }
    out.checks.push_back(std::move(cs));
  }
  return out;
}

// --- Beats -----------------------------------------------------------------------------------

Health health_of(const BeatPhase& state)
{
  if (const auto* job = std::get_if<JobState>(&state)) {
    switch (*job) {
    case JobState::ok:
      return Health::healthy;
    case JobState::failed:
    case JobState::late:
    case JobState::hung:
      return Health::failing;
    case JobState::unknown:
      return Health::unknown;
    }
    return Health::unknown;
  }
  switch (std::get<AgentState>(state)) {
  case AgentState::online:
    return Health::healthy;
  case AgentState::degraded:
    return Health::warning;
  case AgentState::offline:
    return Health::failing;
  case AgentState::unknown:
    return Health::unknown;
  }
  return Health::unknown;
}

// --- Staleness -------------------------------------------------------------------------------

Staleness check_staleness(const TargetRecord& record, std::optional<TimePoint> last_execution,
                          TimePoint now)
{
  Staleness s;
  s.reference = last_execution.value_or(record.first_seen);
  s.silent = now - s.reference;
  s.limit = record.info.stale_after;
  // Only targets that are meant to run checks can stop running them.
  s.stale = !record.info.paused && !record.retired_at && s.limit.count() > 0
            && !record.info.checks.empty() && s.silent > s.limit;
  return s;
}

Staleness beat_staleness(const TargetRecord& record, const BeatState& state, TimePoint now)
{
  Staleness s;
  const TimePoint seen = state.last_seen.value_or(record.first_seen);
  s.reference = seen;
  s.silent = now - seen;
  if (!record.info.heartbeat || record.info.paused || record.info.heartbeat->every.count() <= 0) {
    return s;
  }
  const HeartbeatInfo& hb = *record.info.heartbeat;
  s.limit = hb.every * hb.offline_after;
  // As for missed beats: outside active hours nothing is expected, and the clock restarts when
  // they begin.
  const auto window = active_window_start(ActiveHours::parse(hb.active_hours), hb.timezone, now,
                                          seen);
  if (!window) {
    return s;
  }
  s.reference = std::max(seen, *window);
  s.silent = now - s.reference;
  s.stale = s.silent >= s.limit;
  return s;
}

// --- The target ------------------------------------------------------------------------------

Judgement judge(const TargetRecord& record, const TargetState* checks, const BeatHealth* beat,
                TimePoint now)
{
  Judgement j;
  j.paused = record.info.paused;
  j.retired = record.retired_at.has_value();
  if (checks != nullptr) {
    j.health = checks->health;
    j.since = checks->since;
  }
  j.staleness = check_staleness(
    record, checks != nullptr ? checks->last_execution_at : std::nullopt, now);
  if (beat != nullptr && (record.info.checks.empty() || worse(beat->health, j.health))) {
    j.health = beat->health;
    j.since = beat->since;
  }
  return j;
}

} // namespace hb::health
