// SPDX-License-Identifier: MIT
#include "recovery/recover.hpp"

#include "agents/beats.hpp"
#include "checks/perfdata.hpp"
#include "core/errors.hpp"
#include "pulse/execute.hpp"
#include "pulse/pulse.hpp"
#include "recovery/escalation.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"
#include "util/shell_quote.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace hb::recovery {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Bytes of an action's output kept with its step (the tail: where the error usually is).
constexpr std::size_t k_output_tail = 2048;
// A claim outlives the longest ladder by this much. The ladder's own budget is already an upper
// bound (every step has a timeout), so the margin only covers a slow database: a run killed
// outright frees its targets soon after.
constexpr Duration k_claim_margin{15'000};

const config::Target& find_target(const config::Config& config, const std::string& id)
{
  const config::Target* target = config.find_target(id);
  if (target == nullptr) {
    std::vector<std::string> ids;
    for (const auto& t : config.targets) {
      ids.push_back(t.id);
    }
    throw UsageError(fmt::format("unknown target \"{}\"{}", id,
                                 ids.empty() ? " (the config has no targets)"
                                             : fmt::format(" (known: {})", fmt::join(ids, ", "))));
  }
  return *target;
}

Duration verify_after(const config::Config& config, const config::Target& target)
{
  return target.recovery.verify_after.value_or(config.recovery.verify_after);
}

// How long the ladder of `target` can take at most: two check runs, the action, the wait.
Duration ladder_budget(const config::Config& config, const config::Target& target,
                       const config::RecoveryAction* action)
{
  Duration checks{0};
  for (const auto& check : target.checks) {
    checks = std::max(checks, check.timeout);
  }
  const Duration run = checks + Duration(5'000);
  return 2 * run + (action != nullptr ? action->timeout + Duration(5'000) : Duration(0)) +
         verify_after(config, target);
}

// The counters after a verified recovery (or --reset): nothing spent, counted from `at`.
RecoveryState fresh_state(const std::string& id, TimePoint at)
{
  RecoveryState state;
  state.target_id = id;
  state.reset_at = at;
  return state;
}

// Whether a healthy target's counters still hold something a verified recovery clears.
bool needs_reset(const RecoveryState& state)
{
  return state.failed_attempts > 0 || state.next_attempt_at || state.suspended_at
         || state.escalation_id != 0;
}

std::string describe_action(const config::Config& config, const std::vector<std::string>& argv)
{
  return config.redactor.redact(util::shell_quote(util::mask_arguments(argv).shown));
}

// Everything one run shares between its worker threads. Every store call goes through `locked`.
class Run {
public:
  Run(const config::Config& config, store::Store& store, const util::Clock& clock,
      const RecoverOptions& options, RecoverReport& report)
    : m_config(config), m_store(store), m_clock(clock), m_options(options), m_report(report)
  {
    if (options.jitter) {
      m_jitter = options.jitter;
    } else {
      m_jitter = [this] {
        std::lock_guard lock(m_random_mutex);
        return std::uniform_real_distribution<double>(0.0, 1.0)(m_random);
      };
    }
  }

  template <typename F>
  auto locked(F&& f)
  {
    std::lock_guard lock(m_store_mutex);
    return f(m_store);
  }

  bool stopping() const { return m_cancel.load(); }
  const std::atomic<bool>& cancel_flag() const { return m_cancel; }
  void cancel() { m_cancel = true; }

  // Sleeps `d`, waking early when the run is stopped. Returns false when stopped.
  bool wait(Duration d)
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

  // Runs the ladder for one target; returns its attempt as recorded.
  RecoveryAttempt climb(const config::Target& target, Assessment assessment,
                        const std::optional<RecoveryState>& previous, int attempts_in_window,
                        TargetReport& out);

  // Writes `write`; collects its events and escalations into the report.
  void record(RecoveryWrite& write)
  {
    locked([&](store::Store& s) { s.record_recovery(write); });
    std::lock_guard lock(m_report_mutex);
    for (const auto& event : write.events) {
      m_report.events.push_back(event);
    }
    if (write.open) {
      m_report.escalations_opened.push_back(*write.open);
    }
  }

  void add_events(const std::vector<Event>& events)
  {
    std::lock_guard lock(m_report_mutex);
    m_report.events.insert(m_report.events.end(), events.begin(), events.end());
  }

  // Runs escalation.command with the escalation JSON on stdin and records what it did.
  void run_escalation_command(const Escalation& escalation);

  // Resolves escalation `id` (of `target_id`, "" for a shared cause) with an event.
  void resolve_escalation(const Escalation& escalation, TimePoint at, const std::string& why,
                          RecoveryWrite& write);

private:
  // Step a / the verifying re-check: runs the target's checks (or re-reads its beats) and
  // returns whether it is healthy, the step, and (checks) the failing check's name and phase.
  bool check_now(const config::Target& target, std::string_view kind, Assessment& assessment,
                 AttemptStep& step);

  const config::Config& m_config;
  store::Store& m_store;
  const util::Clock& m_clock;
  const RecoverOptions& m_options;
  RecoverReport& m_report;
  std::mutex m_store_mutex;
  std::mutex m_report_mutex;
  std::mutex m_random_mutex;
  std::mt19937_64 m_random{std::random_device{}()};
  std::function<double()> m_jitter;
  std::atomic<bool> m_cancel{false};
};

bool Run::check_now(const config::Target& target, std::string_view kind, Assessment& assessment,
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

RecoveryAttempt Run::climb(const config::Target& target, Assessment assessment,
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
      const std::string action_said = m_config.redactor.redact(outcome.message);
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
  if (result == AttemptResult::recovered) {
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

void Run::run_escalation_command(const Escalation& escalation)
{
  const auto& command = m_config.recovery.escalation_command;
  if (!command) {
    return;
  }
  util::ProcessSpec spec;
  spec.argv = command->command.argv;
  spec.env = command->command.env;
  spec.working_dir = command->command.working_dir;
  spec.timeout = command->timeout;
  spec.stdin_data = escalation_stdin(escalation);
  spec.keep = util::ProcessSpec::Keep::tail;
  const util::ProcessResult ran = util::run_process(spec);
  const util::ProcessOutcome outcome = util::outcome_of(ran);
  const std::string said = m_config.redactor.redact(outcome.message);
  if (outcome.kind != util::ProcessOutcome::Kind::succeeded) {
    util::log_warning(fmt::format("escalation #{}: escalation.command {}", escalation.id, said));
  }
  locked([&](store::Store& s) {
    s.set_escalation_command_result(escalation.id,
                                    fmt::format("{}: {}", describe_action(m_config, spec.argv), said));
  });
}

void Run::resolve_escalation(const Escalation& escalation, TimePoint at, const std::string& why,
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

// Reads what assess() needs about every live configured target in `ids`.
std::vector<TargetFacts> gather(const config::Config& config, store::Store& store,
                                const std::vector<const config::Target*>& targets, TimePoint now)
{
  std::map<std::string, TargetRecord> records;
  for (auto& record : store.targets(store::IncludeRetired::no)) {
    records.emplace(record.info.id, std::move(record));
  }
  const auto states = store.target_states();
  const auto views = agents::views(store, now);
  const auto recovery_states = store.recovery_states();
  std::map<std::string, ExecutionStats> stats;
  for (auto& s : store.execution_stats(now - config.recovery.failure_window)) {
    stats.emplace(s.target_id, s);
  }
  auto failing = [&](const std::string& id) {
    if (const auto it = states.find(id); it != states.end() && it->second.health == Health::failing) {
      return true;
    }
    const auto view = views.find(id);
    return view != views.end() && view->second.health == Health::failing;
  };

  std::vector<TargetFacts> all;
  for (const auto* target : targets) {
    const auto record = records.find(target->id);
    if (record == records.end()) {
      continue;  // not synced (cannot happen after sync_config); nothing known
    }
    TargetFacts facts;
    facts.target = target;
    facts.record = record->second;
    if (const auto it = states.find(target->id); it != states.end()) {
      facts.checks = it->second;
    }
    if (const auto it = views.find(target->id); it != views.end()) {
      facts.beat = health::BeatHealth{it->second.health, it->second.since};
      facts.beat_state = it->second.state;
    }
    if (const auto it = stats.find(target->id); it != stats.end()) {
      facts.window = it->second;
    }
    if (const auto it = recovery_states.find(target->id); it != recovery_states.end()) {
      facts.state = it->second;
    }
    facts.maintenance =
        health::in_maintenance(config.notify.maintenance, target->id, target->tags, now);
    for (const auto& upstream : config.notify.settings_of(target->id).depends_on) {
      if (failing(upstream)) {
        facts.failing_dependencies.push_back(upstream);
      }
    }
    for (const auto& check : target->checks) {
      if (check.probe) {
        if (auto endpoint = endpoint_of(check.probe->describe()); !endpoint.empty()) {
          facts.endpoints[check.name] = std::move(endpoint);
        }
      }
    }
    if (facts.checks && facts.checks->health == Health::failing) {
      const auto last = store.recent_executions(target->id, 1, store::WithResults::yes);
      if (!last.empty()) {
        facts.last_results = last.front().results;
      }
    }
    if (facts.state) {
      TimePoint since = now - config.recovery.attempts_window;
      if (facts.state->reset_at && *facts.state->reset_at > since) {
        since = *facts.state->reset_at;
      }
      facts.attempts_in_window = store.count_recovery_attempts(target->id, since);
    }
    all.push_back(std::move(facts));
  }
  return all;
}

} // namespace

RecoverReport run_recover(const config::Config& config, store::Store& store,
                          const util::Clock& clock, const RecoverOptions& options)
{
  RecoverReport report;
  report.dry_run = options.dry_run;
  std::vector<const config::Target*> targets;
  if (options.only_targets.empty()) {
    for (const auto& target : config.targets) {
      targets.push_back(&target);
    }
  } else {
    for (const auto& id : options.only_targets) {
      targets.push_back(&find_target(config, id));
    }
  }

  const TimePoint start = clock.now();
  if (!options.dry_run) {
    pulse::sync_config(config, store, start);
    for (auto& write : agents::refresh_all(store, start)) {
      report.events.insert(report.events.end(), write.events.begin(), write.events.end());
    }
  }
  std::vector<TargetFacts> facts = gather(config, store, targets, start);
  std::vector<Assessment> assessments;
  for (const auto& f : facts) {
    assessments.push_back(assess(f, config.recovery, start,
                                 options.force));
  }
  report.shared_causes = mark_shared_causes(assessments, config.recovery.shared_cause_min);
  for (std::size_t i = 0; i < facts.size(); ++i) {
    TargetReport t;
    t.assessment = assessments[i];
    if (t.assessment.plan == Plan::attempt) {
      std::string key;
      if (const auto* action = choose_action(config.recovery, *facts[i].target, t.assessment, &key)) {
        t.action = describe_action(config, expand_action(action->command.argv, *facts[i].target,
                                                         t.assessment));
        t.action_key = key;
      }
    }
    report.targets.push_back(std::move(t));
  }
  RecoveryRun& run = report.run;
  run.owner = util::run_owner();
  run.started_at = start;
  run.interval = config.recovery.interval;
  run.assessed = static_cast<int>(facts.size());
  for (const auto& a : assessments) {
    run.unhealthy += a.verdict == Verdict::unhealthy ? 1 : 0;
  }
  if (options.dry_run) {
    return report;
  }

  run.id = store.begin_recovery_run(run);
  Run shared(config, store, clock, options, report);
  std::atomic<bool> done{false};
  // Relays SIGTERM/SIGINT to the running actions and checks.
  std::thread watcher([&] {
    while (!done.load()) {
      if (options.stop_signal != nullptr && options.stop_signal->load() != 0) {
        shared.cancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  try {
    // Healthy targets with counters: a verified recovery (a check run or the beats passed since).
    for (std::size_t i = 0; i < facts.size(); ++i) {
      const Assessment& a = assessments[i];
      if (a.verdict != Verdict::healthy || !facts[i].state || !needs_reset(*facts[i].state)) {
        continue;
      }
      RecoveryWrite write;
      write.state = fresh_state(a.target_id, start);
      write.state->last_attempt_at = facts[i].state->last_attempt_at;
      if (facts[i].state->escalation_id != 0) {
        for (const auto& e : store.open_escalations()) {
          if (e.id == facts[i].state->escalation_id) {
            shared.resolve_escalation(e, start, "healthy again (verified by its checks or beats)",
                                      write);
          }
        }
      }
      shared.record(write);
      report.targets[i].reset = true;
    }
    // Newly spent budgets.
    for (std::size_t i = 0; i < facts.size(); ++i) {
      const Assessment& a = assessments[i];
      if (a.suspend_now) {
        RecoveryWrite write;
        RecoveryState state = facts[i].state.value_or(fresh_state(a.target_id, start));
        state.suspended_at = start;
        write.state = state;
        shared.record(write);
      }
    }
    // Shared causes: escalated once per cause while it lasts; resolved when none of its targets
    // still fails that way.
    const auto open = store.open_escalations();
    std::set<std::string> current;
    for (const auto& cause : report.shared_causes) {
      current.insert(cause.cause);
      const bool already = std::any_of(open.begin(), open.end(), [&](const Escalation& e) {
        return e.target_id.empty() && e.cause == cause.cause;
      });
      if (already) {
        continue;
      }
      RecoveryWrite write;
      std::vector<Assessment> members;
      for (const auto& a : assessments) {
        if (std::find(cause.targets.begin(), cause.targets.end(), a.target_id) != cause.targets.end()) {
          members.push_back(a);
        }
      }
      Escalation escalation = shared_escalation(config, cause, members, start);
      Event event;
      event.at = start;
      event.type = EventType::escalated;
      event.old_state = "failing";
      event.new_state = "escalated";
      event.message = shared_message(cause);
      write.open = escalation;
      write.events.push_back(std::move(event));
      shared.record(write);
      shared.run_escalation_command(*write.open);
    }
    for (const auto& e : open) {
      if (!e.target_id.empty() || current.count(e.cause)) {
        continue;
      }
      const bool any_still = std::any_of(assessments.begin(), assessments.end(), [&](const Assessment& a) {
        return a.verdict == Verdict::unhealthy && a.cause == e.cause;
      });
      if (!any_still) {
        RecoveryWrite write;
        shared.resolve_escalation(e, start, "", write);
        shared.record(write);
      }
    }

    // The ladder, for the targets that are due an attempt, at most `concurrency` at once.
    std::vector<std::size_t> due;
    std::vector<std::string> due_ids;
    Duration ttl{0};
    for (std::size_t i = 0; i < facts.size(); ++i) {
      if (assessments[i].plan == Plan::attempt) {
        due.push_back(i);
        due_ids.push_back(assessments[i].target_id);
        ttl = std::max(ttl, ladder_budget(config, *facts[i].target,
                                          choose_action(config.recovery, *facts[i].target,
                                                        assessments[i], nullptr)));
      }
    }
    std::set<std::string> claimed;
    if (!due.empty()) {
      const auto claim = store.claim_targets(due_ids, run.owner, ttl + k_claim_margin,
                                             [](const std::string&, const TargetState&) { return true; });
      claimed.insert(claim.claimed.begin(), claim.claimed.end());
      for (const auto& id : claim.held) {
        for (auto& t : report.targets) {
          if (t.assessment.target_id == id) {
            t.held = true;
            t.assessment.plan_reason = "claimed by another run (hb-pulse or hb-recover) right now";
          }
        }
      }
    }
    std::deque<std::size_t> queue;
    for (const std::size_t i : due) {
      if (claimed.count(assessments[i].target_id)) {
        queue.push_back(i);
      }
    }
    std::mutex queue_mutex;
    std::exception_ptr failure;
    auto worker = [&] {
      while (true) {
        std::size_t i = 0;
        {
          std::lock_guard lock(queue_mutex);
          if (queue.empty() || failure || shared.stopping()) {
            return;
          }
          i = queue.front();
          queue.pop_front();
        }
        try {
          TargetReport& t = report.targets[i];
          t.attempt = shared.climb(*facts[i].target, assessments[i], facts[i].state,
                                   facts[i].attempts_in_window, t);
        } catch (...) {
          std::lock_guard lock(queue_mutex);
          if (!failure) {
            failure = std::current_exception();
          }
          shared.cancel();
          return;
        }
      }
    };
    const int workers = std::min<int>(config.recovery.concurrency, static_cast<int>(queue.size()));
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back(worker);
    }
    for (auto& thread : threads) {
      thread.join();
    }
    if (failure) {
      std::rethrow_exception(failure);
    }

    report.signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    for (const auto& t : report.targets) {
      if (!t.attempt) {
        continue;
      }
      ++run.attempted;
      run.recovered += t.attempt->result == AttemptResult::recovered ? 1 : 0;
      run.failed += t.attempt->result == AttemptResult::failed ? 1 : 0;
    }
    run.escalated = static_cast<int>(report.escalations_opened.size());

    // Escalations and recoveries are told at the end of the run, as hb-pulse does.
    if (report.signal == 0 && options.deliver) {
      delivery::DeliverOptions deliver_options;
      deliver_options.owner = run.owner;
      deliver_options.budget = Duration(60'000);
      deliver_options.http = options.http;
      deliver_options.cancel = &shared.cancel_flag();
      report.delivery = delivery::deliver(config, store, clock, deliver_options);
    }
    report.signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    run.status = report.signal != 0 ? RecoveryRunStatus::interrupted : RecoveryRunStatus::ok;
    if (report.signal != 0) {
      run.message = fmt::format("interrupted by {}", util::signal_name(report.signal));
    }
    run.completed_at = clock.now();
    store.finish_recovery_run(run);
    done = true;
    watcher.join();
    return report;
  } catch (const std::exception& e) {
    done = true;
    shared.cancel();
    watcher.join();
    try {
      run.status = RecoveryRunStatus::error;
      run.message = e.what();
      run.completed_at = clock.now();
      store.finish_recovery_run(run);
    } catch (...) {
    }
    throw;
  }
}

bool reset_target(const config::Config& config, store::Store& store, const std::string& id,
                  TimePoint now)
{
  (void)find_target(config, id);
  const auto states = store.recovery_states();
  const auto it = states.find(id);
  if (it == states.end()) {
    return false;
  }
  RecoveryWrite write;
  RecoveryState state = fresh_state(id, now);
  state.last_attempt_at = it->second.last_attempt_at;
  state.escalation_id = it->second.escalation_id;
  write.state = state;
  store.record_recovery(write);
  return true;
}

} // namespace hb::recovery
