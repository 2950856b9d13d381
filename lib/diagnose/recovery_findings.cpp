// SPDX-License-Identifier: MIT
// Findings about hb-recover: suspended targets, attempts that did not help and why, open
// escalations.
#include "diagnose/parts.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace hb::diagnose::parts {
namespace {

const AttemptStep* step_of(const RecoveryAttempt& attempt, std::string_view kind)
{
  for (const AttemptStep& step : attempt.steps) {
    if (step.kind == kind) {
      return &step;
    }
  }
  return nullptr;
}

std::string shown_step(const AttemptStep& step)
{
  std::string text = fmt::format("{}: {}", step.what, step.result);
  if (step.exit_code) {
    text += fmt::format(", exit code {}", *step.exit_code);
  }
  text += fmt::format(", {}", util::format_duration(step.duration));
  return text;
}

} // namespace

void recovery(const Context& context, Findings& out)
{
  const TimePoint now = context.inputs.now;
  for (const auto& [target_id, state] : context.store.recovery_states()) {
    if (!state.suspended_at || !context.wanted(target_id)) {
      continue;
    }
    Finding f{"recovery.suspended", Level::critical, target_id, "",
              fmt::format("Automatic recovery of \"{}\" is suspended: its restart budget is spent",
                          target_id),
              {}, {}};
    f.evidence.push_back(fmt::format("suspended {}", when(*state.suspended_at, now)));
    f.evidence.push_back(fmt::format("{} failed attempts since the last verified recovery",
                                     state.failed_attempts));
    if (context.inputs.config != nullptr) {
      f.evidence.push_back(fmt::format(
        "budget: {} attempts within {} (recovery.max_attempts, attempts_window)",
        context.inputs.config->recovery.max_attempts,
        util::format_duration(context.inputs.config->recovery.attempts_window)));
    }
    f.recommendation = fmt::format(
      "Repair it by hand (the attempts below show what did not work), then resume automatic "
      "recovery with `hb-recover --reset {}`; it also resumes by itself once the target "
      "recovers.",
      target_id);
    out.push_back(std::move(f));
  }

  // The attempts of the window, newest first, per target.
  std::map<std::string, std::vector<RecoveryAttempt>> attempts;
  for (RecoveryAttempt& attempt : context.store.recent_recovery_attempts(context.inputs.target, 500)) {
    if (attempt.started_at >= context.since) {
      attempts[attempt.target_id].push_back(std::move(attempt));
    }
  }
  for (const auto& [target_id, list] : attempts) {
    const auto failed = std::count_if(list.begin(), list.end(), [](const RecoveryAttempt& a) {
      return a.result == AttemptResult::failed;
    });
    if (failed == 0) {
      continue;
    }
    const auto last_failed = std::find_if(list.begin(), list.end(), [](const RecoveryAttempt& a) {
      return a.result == AttemptResult::failed;
    });
    const RecoveryAttempt& attempt = *last_failed;
    const AttemptStep* action = step_of(attempt, "action");
    const AttemptStep* verify = step_of(attempt, "verify");
    Finding f;
    f.target = target_id;
    f.check = attempt.check_name;
    if (attempt.action.empty() || action == nullptr) {
      f.id = "recovery.no_action";
      f.severity = Level::warning;
      f.title = fmt::format("Recovery of \"{}\" can only re-check it: no action is configured for "
                            "\"{}\"",
                            target_id, to_string(attempt.issue));
      f.recommendation = fmt::format(
        "Add an action (recovery.actions.{} in the config, or per target, per check or per "
        "phase) that repairs it, e.g. [\"/usr/bin/systemctl\", \"restart\", \"SERVICE\"].",
        to_string(attempt.issue));
    } else if (action->exit_code && *action->exit_code == 0) {
      f.id = "recovery.action_ineffective";
      f.severity = Level::critical;
      f.title = fmt::format("Recovery of \"{}\" runs its action, which succeeds, but the target "
                            "stays unhealthy",
                            target_id);
      f.recommendation =
        "The action does not fix the cause: it exits 0 while the check keeps failing. Read the "
        "check's cause above (a dependency down, a wrong port, rate limiting) and change the "
        "action, or fix the cause by hand.";
    } else {
      f.id = "recovery.action_failed";
      f.severity = Level::critical;
      f.title = fmt::format("The recovery action for \"{}\" fails", target_id);
      f.recommendation =
        "Run the action by hand as the user hb-recover runs as: a wrong path, missing "
        "permissions (sudo rules for systemctl) or a timeout too short for it.";
    }
    f.evidence.push_back(fmt::format("{} in the last {}: {} failed",
                                     list.size() == 1 ? std::string("1 attempt")
                                                      : fmt::format("{} attempts", list.size()),
                                     util::format_duration(context.inputs.window), failed));
    f.evidence.push_back(fmt::format("last failed attempt {} for {}{}", when(attempt.started_at, now),
                                     to_string(attempt.issue),
                                     attempt.check_name.empty()
                                       ? std::string()
                                       : fmt::format(" (check \"{}\"{})", attempt.check_name,
                                                     attempt.phase.empty()
                                                       ? std::string()
                                                       : ", phase " + attempt.phase)));
    if (action != nullptr) {
      f.evidence.push_back(fmt::format("action {}", shown_step(*action)));
      if (!action->output.empty()) {
        f.evidence.push_back(fmt::format("its output ends: {}", action->output));
      }
    }
    if (verify != nullptr) {
      f.evidence.push_back(fmt::format("re-check after it: {}", verify->result));
    }
    if (!attempt.message.empty()) {
      f.evidence.push_back(attempt.message);
    }
    out.push_back(std::move(f));
  }

  for (const Escalation& escalation : context.store.open_escalations()) {
    if (!context.inputs.target.empty() &&
        std::find(escalation.targets.begin(), escalation.targets.end(), context.inputs.target) ==
          escalation.targets.end()) {
      continue;
    }
    Finding f{"escalation.open", Level::critical, escalation.target_id, "",
              escalation.target_id.empty()
                ? fmt::format("An escalation is open for a shared cause: {}", escalation.cause)
                : fmt::format("An escalation is open for \"{}\": recovery gave up on it",
                              escalation.target_id),
              {}, {}};
    f.evidence.push_back(fmt::format("escalation {} opened {}", escalation.id,
                                     when(escalation.opened_at, now)));
    f.evidence.push_back(fmt::format("targets: {}; {} failed attempts", fmt::join(escalation.targets, ", "),
                                     escalation.failed_attempts));
    if (!escalation.command_result.empty()) {
      f.evidence.push_back(fmt::format("escalation command: {}", escalation.command_result));
    }
    f.recommendation = "A person must act: the attempts (hb-status TARGET) show what was tried. "
                       "The escalation resolves itself when the target passes its checks again.";
    out.push_back(std::move(f));
  }
}

} // namespace hb::diagnose::parts
