// SPDX-License-Identifier: MIT
#include "recovery/assess.hpp"

#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

namespace hb::recovery {

std::string_view to_string(Verdict verdict)
{
  switch (verdict) {
  case Verdict::healthy: return "healthy";
  case Verdict::left_alone: return "left_alone";
  case Verdict::warning: return "warning";
  case Verdict::unhealthy: return "unhealthy";
  }
  return "?";
}

std::string_view to_string(Plan plan)
{
  switch (plan) {
  case Plan::none: return "none";
  case Plan::attempt: return "attempt";
  case Plan::backoff: return "backoff";
  case Plan::suspended: return "suspended";
  case Plan::shared_cause: return "shared_cause";
  }
  return "?";
}

namespace {

bool is_transport_phase(std::string_view phase)
{
  return phase == "dns" || phase == "connect" || phase == "tls" || phase == "timeout";
}

// The first check that counts as failing, with its last result.
void name_failing_check(const TargetFacts& facts, Assessment& a)
{
  if (!facts.checks) {
    return;
  }
  for (const auto& check : facts.checks->checks) {
    if (health::health_of(check.confirmed) != Health::failing) {
      continue;
    }
    a.check_name = check.check_name;
    a.message = check.last_message;
    for (const auto& result : facts.last_results) {
      if (result.check_name == check.check_name) {
        a.phase = result.phase;
        a.message = result.message;
      }
    }
    const auto endpoint = facts.endpoints.find(check.check_name);
    a.cause = cause_key(a.phase, a.message,
                        endpoint != facts.endpoints.end() ? endpoint->second : "");
    return;
  }
}

} // namespace

Assessment assess(const TargetFacts& facts, const config::RecoverySettings& settings, TimePoint now,
                  Force force)
{
  Assessment a;
  const config::Target& target = *facts.target;
  a.target_id = target.id;
  const health::Judgement judged = health::judge(
      facts.record, facts.checks ? &*facts.checks : nullptr, facts.beat ? &*facts.beat : nullptr,
      now);

  auto leave = [&](std::string reason) {
    a.verdict = Verdict::left_alone;
    a.reason = std::move(reason);
    return a;
  };
  if (judged.retired) {
    return leave("retired");
  }
  if (judged.paused) {
    return leave("paused");
  }
  if (!settings.enabled) {
    return leave("recovery is disabled (recovery.enabled is false)");
  }
  if (!target.recovery.enabled) {
    return leave("recovery is disabled for this target (recovery.enabled is false)");
  }
  if (health::in_grace(facts.record.first_seen, target.new_target_grace, now)) {
    return leave(fmt::format("in its new-target grace until {}",
                             util::format_rfc3339(facts.record.first_seen + target.new_target_grace)));
  }
  if (facts.maintenance) {
    return leave(fmt::format("in maintenance \"{}\" until {}", facts.maintenance->name,
                             util::format_rfc3339(facts.maintenance->ends)));
  }
  if (!facts.failing_dependencies.empty()) {
    return leave(fmt::format("upstream {} is failing (the cause is there)",
                             facts.failing_dependencies.front()));
  }

  const bool checks_failing = facts.checks && facts.checks->health == Health::failing;
  const bool beats_failing = facts.beat && facts.beat->health == Health::failing;
  a.verdict = Verdict::unhealthy;
  if (judged.staleness.stale) {
    a.issue = RecoveryIssue::stale;
    a.since = judged.staleness.reference + judged.staleness.limit;
    a.reason = fmt::format("stale: no execution for {} (stale_after {})",
                           util::format_duration(judged.staleness.silent),
                           util::format_duration(judged.staleness.limit));
    a.message = a.reason;
  } else if (checks_failing) {
    a.issue = RecoveryIssue::failing;
    a.since = facts.checks->since;
    name_failing_check(facts, a);
    a.reason = a.check_name.empty()
                   ? std::string("failing")
                   : fmt::format("failing: check {}{}: {}", a.check_name,
                                 a.phase.empty() ? "" : " (" + a.phase + ")", a.message);
  } else if (beats_failing) {
    a.issue = RecoveryIssue::offline;
    a.since = facts.beat->since;
    a.message = facts.beat_state;
    a.reason = fmt::format("{} {}", target.kind == TargetKind::job ? "job" : "agent",
                           facts.beat_state.empty() ? "offline" : facts.beat_state);
  } else if (facts.window.executions >= settings.min_executions
             && static_cast<double>(facts.window.failures)
                    > settings.max_failure_rate * facts.window.executions) {
    a.issue = RecoveryIssue::high_error_rate;
    a.reason = fmt::format("high error rate: {} of {} executions failed in the last {} (limit {:.0f}%)",
                           facts.window.failures, facts.window.executions,
                           util::format_duration(settings.failure_window),
                           settings.max_failure_rate * 100);
    a.message = a.reason;
    if (facts.checks) {
      a.since = facts.checks->last_failure_at;
    }
  } else if (judged.health == Health::unknown) {
    // No evidence either way (never ran, an agent not heard from yet): nothing to repair, and
    // nothing that verifies a recovery.
    a.verdict = Verdict::left_alone;
    a.reason = "no data yet";
    return a;
  } else if (judged.health == Health::warning) {
    a.verdict = Verdict::warning;
    a.reason = "warning: recovery acts on failures only";
    return a;
  } else {
    a.verdict = Verdict::healthy;
    return a;
  }

  // The plan: the budget first (--force never overrides it), then the backoff.
  const RecoveryState* state = facts.state ? &*facts.state : nullptr;
  if (state != nullptr && state->suspended_at) {
    a.plan = Plan::suspended;
    a.plan_reason = fmt::format(
        "suspended since {} after {} (restart budget {} per {}); hb-recover --reset {} resumes it",
        util::format_rfc3339(*state->suspended_at),
        util::plural(facts.attempts_in_window, "attempt"), settings.max_attempts,
        util::format_duration(settings.attempts_window), target.id);
    return a;
  }
  if (facts.attempts_in_window >= settings.max_attempts) {
    a.plan = Plan::suspended;
    a.suspend_now = true;
    a.plan_reason = fmt::format("restart budget spent: {} within {}; suspended until it recovers "
                                "or hb-recover --reset {}",
                                util::plural(facts.attempts_in_window, "attempt"),
                                util::format_duration(settings.attempts_window), target.id);
    return a;
  }
  if (state != nullptr && state->next_attempt_at && *state->next_attempt_at > now
      && force == Force::no) {
    a.plan = Plan::backoff;
    a.next_attempt_at = state->next_attempt_at;
    a.plan_reason = fmt::format("backing off after {}: next attempt at {}",
                                util::plural(state->failed_attempts, "failed attempt"),
                                util::format_rfc3339(*state->next_attempt_at));
    return a;
  }
  a.plan = Plan::attempt;
  return a;
}

std::vector<SharedCause> mark_shared_causes(std::vector<Assessment>& assessments, int minimum)
{
  std::map<std::string, std::vector<std::size_t>> by_cause;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < assessments.size(); ++i) {
    const Assessment& a = assessments[i];
    if (a.verdict != Verdict::unhealthy || a.cause.empty()) {
      continue;
    }
    auto& list = by_cause[a.cause];
    if (list.empty()) {
      order.push_back(a.cause);
    }
    list.push_back(i);
  }
  std::vector<SharedCause> shared;
  for (const auto& cause : order) {
    const auto& members = by_cause[cause];
    if (static_cast<int>(members.size()) < minimum) {
      continue;
    }
    SharedCause group;
    group.cause = cause;
    for (const std::size_t i : members) {
      Assessment& a = assessments[i];
      group.targets.push_back(a.target_id);
      if (a.plan == Plan::attempt || a.plan == Plan::backoff) {
        a.plan = Plan::shared_cause;
        a.next_attempt_at.reset();
        a.plan_reason = fmt::format("shared cause with {} other targets ({}): escalated once, "
                                    "not restarted one by one",
                                    members.size() - 1, cause);
      }
    }
    shared.push_back(std::move(group));
  }
  return shared;
}

std::string endpoint_of(std::string_view description)
{
  std::string_view rest = description;
  std::string default_port;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    const std::string_view before = rest.substr(0, scheme);
    default_port = before.size() >= 5 && before.substr(before.size() - 5) == "https" ? "443" : "80";
    rest.remove_prefix(scheme + 3);
  } else if (rest.substr(0, 4) == "tcp ") {
    rest.remove_prefix(4);
  } else {
    return "";
  }
  const auto end = rest.find_first_of("/?# ");
  std::string authority(rest.substr(0, end));
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    authority.erase(0, at + 1);
  }
  if (authority.empty()) {
    return "";
  }
  const auto colon = authority.rfind(':');
  const auto bracket = authority.rfind(']');
  const bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) {
    if (default_port.empty()) {
      return "";
    }
    authority += ":" + default_port;
  }
  return authority;
}

std::string cause_key(std::string_view phase, std::string_view message, std::string_view endpoint)
{
  if (phase.empty()) {
    return "";
  }
  if (is_transport_phase(phase) && !endpoint.empty()) {
    return fmt::format("{} {}", phase, endpoint);
  }
  std::string folded;
  bool in_digits = false;
  for (const char c : message) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      if (!in_digits) {
        folded += '#';
      }
      in_digits = true;
    } else {
      folded += c;
      in_digits = false;
    }
  }
  return fmt::format("{}: {}", phase, folded);
}

Duration backoff_delay(int failed_attempts, Duration backoff, Duration backoff_max, double unit)
{
  const int doublings = std::clamp(failed_attempts - 1, 0, 40);
  const double cap = std::min(static_cast<double>(backoff_max.count()),
                              static_cast<double>(backoff.count()) * std::ldexp(1.0, doublings));
  const double jittered = std::clamp(unit, 0.0, 1.0) * cap;
  return std::max(Duration(1'000), Duration(static_cast<Duration::rep>(jittered)));
}

const config::RecoveryAction* choose_action(const config::RecoverySettings& settings,
                                            const config::Target& target,
                                            const Assessment& assessment, std::string* key)
{
  const config::RecoveryActions& own = target.recovery.actions;
  const config::RecoveryActions& all = settings.actions;
  auto found = [&](const config::RecoveryAction& action, std::string name) {
    if (key != nullptr) {
      *key = std::move(name);
    }
    return &action;
  };
  if (!assessment.check_name.empty()) {
    for (const auto* actions : {&own, &all}) {
      if (const auto it = actions->checks.find(assessment.check_name); it != actions->checks.end()) {
        return found(it->second, "checks." + assessment.check_name);
      }
    }
  }
  if (!assessment.phase.empty()) {
    for (const auto* actions : {&own, &all}) {
      if (const auto it = actions->phases.find(assessment.phase); it != actions->phases.end()) {
        return found(it->second, "phases." + assessment.phase);
      }
    }
  }
  for (const auto* actions : {&own, &all}) {
    if (const auto it = actions->issues.find(assessment.issue); it != actions->issues.end()) {
      return found(it->second, std::string(hb::to_string(assessment.issue)));
    }
  }
  return nullptr;
}

std::vector<std::string> expand_action(const std::vector<std::string>& argv,
                                       const config::Target& target,
                                       const Assessment& assessment)
{
  const std::pair<std::string_view, std::string> values[] = {
    {"${target.id}", target.id},
    {"${target.name}", target.name},
    {"${check.name}", assessment.check_name},
    {"${issue}", std::string(hb::to_string(assessment.issue))},
  };
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& arg : argv) {
    std::string expanded;
    std::size_t i = 0;
    while (i < arg.size()) {
      bool replaced = false;
      for (const auto& [name, value] : values) {
        if (arg.compare(i, name.size(), name) == 0) {
          expanded += value;
          i += name.size();
          replaced = true;
          break;
        }
      }
      if (!replaced) {
        expanded += arg[i++];
      }
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

} // namespace hb::recovery
