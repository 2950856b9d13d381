// SPDX-License-Identifier: MIT
#include "recovery/ladder.hpp"

#include "agents/beats.hpp"
#include "checks/perfdata.hpp"
#include "pulse/execute.hpp"
#include "recovery/escalation.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"
#include "util/shell_quote.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <thread>

namespace hb::recovery {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Bytes of an action's output kept with its step (the tail: where the error usually is).
constexpr std::size_t k_output_tail = 2048;

} // namespace

Duration verify_after(const config::Config& config, const config::Target& target)
{
  return target.recovery.verify_after.value_or(config.recovery.verify_after);
}

RecoveryState fresh_state(const std::string& id, TimePoint at)
{
  RecoveryState state;
  state.target_id = id;
  state.reset_at = at;
  return state;
}

std::string describe_action(const config::Config& config, const std::vector<std::string>& argv)
{
  std::vector<std::string> shown = util::mask_arguments(argv).shown;
  for (auto& arg : shown) {
    arg = config.redactor.redact(std::move(arg));  // before quoting, which may change a secret
  }
  return util::shell_quote(shown);
}

bool Ladder::wait(Duration d)
{
  const auto until = SteadyClock::now() + d;
  while (SteadyClock::now() < until) {
    if (stopping()) {
      return false;
    }
    std::this_thread::sleep_for(
        std::min<SteadyClock::duration>(std::chrono::milliseconds(50), until - SteadyClock::now()));
  }
  return !stopping();
}

bool Ladder::check_now(const config::Target& target, std::string_view kind, Assessment& assessment,
                    AttemptStep& step)
{
  step.kind = std::string(kind);
  const auto started = SteadyClock::now();
  bool healthy = false;
  if (!target.checks.empty()) {
    const TargetState previous = locked([&](store::Store& s) {
      TargetState fallback;
      fallback.target_id = target.id;
      return s.target_state(target.id).value_or(fallback);
    });
    ExecutionWrite write = pulse::execute_now(target, previous, false, m_config, m_clock,
                                              Trigger::recover, m_options.stop_signal);
    healthy = write.state.health == Health::healthy;
    std::string failing;
    for (const auto& result : write.execution.results) {
      if (result.status != CheckStatus::ok && failing.empty()) {
        failing = fmt::format("{}: {}", result.check_name, result.message);
        if (!healthy) {
          assessment.check_name = result.check_name;
          assessment.phase = result.phase;
          assessment.message = result.message;
        }
      }
    }
    step.what = fmt::format("ran {} now", util::plural(static_cast<long long>(target.checks.size()), "check"));
    step.result = healthy ? "ok" : std::string(to_string(write.state.health));
    if (!failing.empty()) {
      step.output = failing;
    }
    std::vector<ExecutionWrite> writes;
    writes.push_back(std::move(write));
    locked([&](store::Store& s) { s.record_executions(writes); });
    add_events(writes.front().events);
  } else {
    // A target watched by its beats: what they say now (missed beats counted up to now).
    const TimePoint now = m_clock.now();
    const auto views = locked([&](store::Store& s) {
      agents::refresh_all(s, now);
      return agents::views(s, now);
    });
    const auto it = views.find(target.id);
    healthy = it != views.end() && it->second.health == Health::healthy;
    step.what = "read its beats";
    step.result = it != views.end() ? it->second.state : "unknown";
  }
  step.duration = std::chrono::duration_cast<Duration>(SteadyClock::now() - started);
  if (stopping()) {
    step.result = "interrupted";
    return false;
  }
  return healthy;
}

RecoveryAttempt Ladder::climb(const config::Target& target, Assessment assessment,
                           const std::optional<RecoveryState>& previous, int attempts_in_window,
                           TargetReport& out)
{
  RecoveryAttempt attempt;
  attempt.run_id = m_report.run.id;
  attempt.target_id = target.id;
  attempt.issue = assessment.issue;
  attempt.check_name = assessment.check_name;
  attempt.phase = assessment.phase;
  attempt.started_at = m_clock.now();

  // Attempts a killed run left `running`: nobody else holds the target (we claimed it).
  for (auto& old : locked([&](store::Store& s) { return s.recent_recovery_attempts(target.id, 5); })) {
    if (old.result == AttemptResult::running) {
      old.result = AttemptResult::interrupted;
      old.completed_at = attempt.started_at;
      old.message = "interrupted: the hb-recover run that made it ended without finishing it";
      RecoveryWrite fix;
      fix.attempt = std::move(old);
      record(fix);
    }
  }

  RecoveryState state = previous.value_or(fresh_state(target.id, attempt.started_at));
  state.reset_at = previous ? previous->reset_at : std::nullopt;
  state.target_id = target.id;
  state.last_attempt_at = attempt.started_at;
  {
    RecoveryWrite begin;
    begin.attempt = attempt;
    begin.state = state;
    record(begin);
    attempt.id = begin.attempt->id;
  }

  AttemptResult result = AttemptResult::failed;
  // (a) A fresh execution, bypassing active hours and interval.
  AttemptStep first;
  const bool fixed_by_check = check_now(target, "check", assessment, first);
  attempt.steps.push_back(first);
  if (stopping()) {
    result = AttemptResult::interrupted;
    attempt.message = "interrupted during the forced check run";
  } else if (fixed_by_check) {
    result = AttemptResult::recovered;
    attempt.message = "recovered: a fresh check run passed";
  } else {
    // (b) The most specific action, a wait, and a verifying re-check.
    attempt.check_name = assessment.check_name;
    attempt.phase = assessment.phase;
    std::string key;
    const config::RecoveryAction* action =
        choose_action(m_config.recovery, target, assessment, &key);
    if (action == nullptr) {
      attempt.message = fmt::format("still {} after a fresh check run; no recovery action is "
                                    "configured for it",
                                    assessment.issue == RecoveryIssue::offline ? "offline" : "failing");
    } else {
      const std::vector<std::string> argv = expand_action(action->command.argv, target, assessment);
      attempt.action = describe_action(m_config, argv);
      out.action = attempt.action;
      out.action_key = key;
      {
        // Shown while it runs: a killed run leaves the attempt with its action.
        RecoveryWrite progress;
        progress.attempt = attempt;
        record(progress);
      }
      util::ProcessSpec spec;
      spec.argv = argv;
      spec.env = action->command.env;
      spec.working_dir = action->command.working_dir;
      spec.timeout = action->timeout;
      spec.cancel = &m_cancel;
      spec.keep = util::ProcessSpec::Keep::tail;
      spec.output_cap = 64 * 1024;
      util::log_info(fmt::format("{}: running {} ({})", target.id, attempt.action, key));
      const util::ProcessResult ran = util::run_process(spec);
      const util::ProcessOutcome outcome = util::outcome_of(ran);
      AttemptStep step;
      step.kind = "action";
      step.what = attempt.action;
      step.exit_code = outcome.exit_code;
      step.duration = ran.elapsed;
      std::string tail = ran.output.size() > k_output_tail
                             ? ran.output.substr(ran.output.size() - k_output_tail)
                             : ran.output;
      step.output = m_config.redactor.redact(
          checks::sanitize_text(tail, checks::KeepNewlines::yes));
      switch (outcome.kind) {
      case util::ProcessOutcome::Kind::succeeded: step.result = "succeeded"; break;
      case util::ProcessOutcome::Kind::failed: step.result = "failed"; break;
      case util::ProcessOutcome::Kind::timed_out: step.result = "timed_out"; break;
      case util::ProcessOutcome::Kind::cancelled: step.result = "interrupted"; break;
      }
      const std::string action_said = m_config.redactor.redact(
          checks::sanitize_text(outcome.message, checks::KeepNewlines::no));
      attempt.steps.push_back(step);
      if (outcome.kind == util::ProcessOutcome::Kind::cancelled || stopping()) {
        result = AttemptResult::interrupted;
        attempt.message = "interrupted while the action ran (it was terminated)";
      } else if (!wait(verify_after(m_config, target))) {
        result = AttemptResult::interrupted;
        attempt.message = "interrupted while waiting to verify";
      } else {
        AttemptStep verify;
        const bool verified = check_now(target, "verify", assessment, verify);
        attempt.steps.push_back(verify);
        if (stopping()) {
          result = AttemptResult::interrupted;
          attempt.message = "interrupted during the verifying check run";
        } else if (verified) {
          result = AttemptResult::recovered;
          attempt.message = fmt::format("recovered: verified by a passing check run {} after "
                                        "the action ({})",
                                        util::format_duration(verify_after(m_config, target)),
                                        action_said);
        } else {
          attempt.message = fmt::format("still unhealthy {} after the action ({})",
                                        util::format_duration(verify_after(m_config, target)),
                                        action_said);
        }
      }
    }
  }
  attempt.result = result;
  attempt.completed_at = m_clock.now();

  RecoveryWrite end;
  end.attempt = attempt;
  const TimePoint now = *attempt.completed_at;
  std::optional<Escalation> opened;
  // `hb-recover --reset` while this attempt ran: the reset wins. The attempt is recorded, but an
  // attempt that did not recover does not count against the counters the operator just cleared
  // (they count attempts started after the reset), so no backoff, suspension or escalation.
  const auto now_stored = locked([&](store::Store& s) {
    const auto states = s.recovery_states();
    const auto it = states.find(target.id);
    return it == states.end() ? std::optional<RecoveryState>() : std::optional(it->second);
  });
  const bool reset_meanwhile = now_stored && now_stored->reset_at
                               && *now_stored->reset_at > attempt.started_at;
  if (reset_meanwhile && result != AttemptResult::recovered) {
    end.state = *now_stored;
    end.state->last_attempt_at = attempt.started_at;
    attempt.message += "; not counted: hb-recover --reset ran while it did";
    end.attempt = attempt;
  } else if (result == AttemptResult::recovered) {
    // A verified recovery: the counters start over and an open escalation is resolved.
    end.state = fresh_state(target.id, now);
    end.state->last_attempt_at = attempt.started_at;
    if (state.escalation_id != 0) {
      const auto open = locked([&](store::Store& s) { return s.open_escalations(); });
      for (const auto& e : open) {
        if (e.id == state.escalation_id) {
          resolve_escalation(e, now, attempt.message, end);
        }
      }
    }
  } else if (result == AttemptResult::failed) {
    state.failed_attempts += 1;
    state.next_attempt_at =
        now + backoff_delay(state.failed_attempts, m_config.recovery.backoff,
                            m_config.recovery.backoff_max, m_jitter());
    if (attempts_in_window + 1 >= m_config.recovery.max_attempts) {
      state.suspended_at = now;
      attempt.message += fmt::format("; automatic recovery suspended ({} within {}): hb-recover "
                                     "--reset {} resumes it",
                                     util::plural(attempts_in_window + 1, "attempt"),
                                     util::format_duration(m_config.recovery.attempts_window),
                                     target.id);
      end.attempt = attempt;
    }
    if (state.failed_attempts >= m_config.recovery.escalate_after && state.escalation_id == 0) {
      const auto attempts =
          locked([&](store::Store& s) { return s.recent_recovery_attempts(target.id, 20); });
      std::vector<RecoveryAttempt> history;
      history.push_back(attempt);
      for (const auto& a : attempts) {
        if (a.id != attempt.id && a.result == AttemptResult::failed
            && (!state.reset_at || a.started_at >= *state.reset_at)) {
          history.push_back(a);
        }
      }
      Escalation escalation = target_escalation(m_config, target, assessment, state, history, now);
      Event event;
      event.target_id = target.id;
      event.at = now;
      event.type = EventType::escalated;
      event.old_state = "recovering";
      event.new_state = "escalated";
      event.message = escalation_message(escalation, target, assessment);
      end.open = escalation;
      end.events.push_back(std::move(event));
      opened = escalation;
    }
    end.state = state;
  } else {
    end.state = state;
  }
  record(end);
  if (end.open) {
    run_escalation_command(*end.open);  // after the commit: it has its id
  }
  attempt = *end.attempt;
  return attempt;
}

void Ladder::run_escalation_command(const Escalation& escalation)
{
  const auto& command = m_config.recovery.escalation_command;
  if (!command || m_options.dry_run) {
    return;
  }
  // Claimed first, for as long as it may run: another run does not start it meanwhile, and if
  // this one is killed before recording the result, the claim expires and the next run runs it.
  const bool mine = locked([&](store::Store& s) {
    return s.claim_escalation_command(escalation.id, m_report.run.owner,
                                      command->timeout + k_escalation_claim_margin);
  });
  if (!mine) {
    return;
  }
  util::ProcessSpec spec;
  spec.argv = command->command.argv;
  spec.env = command->command.env;
  spec.working_dir = command->command.working_dir;
  spec.timeout = command->timeout;
  spec.stdin_data = escalation_stdin(escalation);
  spec.cancel = &m_cancel;
  spec.keep = util::ProcessSpec::Keep::tail;
  const util::ProcessResult ran = util::run_process(spec);
  const util::ProcessOutcome outcome = util::outcome_of(ran);
  const std::string said =
      m_config.redactor.redact(checks::sanitize_text(outcome.message, checks::KeepNewlines::no));
  if (outcome.kind != util::ProcessOutcome::Kind::succeeded) {
    util::log_warning(fmt::format("escalation #{}: escalation.command {}", escalation.id, said));
  }
  const std::string result = fmt::format("{}: {}", describe_action(m_config, spec.argv), said);
  locked([&](store::Store& s) { s.set_escalation_command_result(escalation.id, result); });
  // The report shows it too: the run's output names what the command did with what it opened.
  std::lock_guard lock(m_report_mutex);
  for (auto& opened : m_report.escalations_opened) {
    if (opened.id == escalation.id) {
      opened.command_result = result;
    }
  }
}

void Ladder::resolve_escalation(const Escalation& escalation, TimePoint at, const std::string& why,
                             RecoveryWrite& write)
{
  write.resolve_escalation = escalation.id;
  write.resolved_at = at;
  Event event;
  event.target_id = escalation.target_id;
  event.at = at;
  event.type = EventType::escalation_resolved;
  event.old_state = "escalated";
  event.new_state = "resolved";
  event.message = escalation.target_id.empty()
                      ? fmt::format("shared cause resolved ({}): {} healthy again", escalation.cause,
                                    fmt::join(escalation.targets, ", "))
                      : fmt::format("{}: escalation #{} resolved: {}", escalation.target_id,
                                    escalation.id, why);
  write.events.push_back(std::move(event));
  std::lock_guard lock(m_report_mutex);
  Escalation resolved = escalation;
  resolved.resolved_at = at;
  m_report.escalations_resolved.push_back(std::move(resolved));
}

} // namespace hb::recovery
