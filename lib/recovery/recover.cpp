// SPDX-License-Identifier: MIT
#include "recovery/recover.hpp"

#include "agents/beats.hpp"
#include "checks/perfdata.hpp"
#include "core/errors.hpp"
#include "pulse/execute.hpp"
#include "pulse/pulse.hpp"
#include "recovery/escalation.hpp"
#include "recovery/ladder.hpp"
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

// Whether a healthy target's counters still hold something a verified recovery clears.
bool needs_reset(const RecoveryState& state)
{
  return state.failed_attempts > 0 || state.next_attempt_at || state.suspended_at
         || state.escalation_id != 0;
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
      // The failure rate starts again at a verified recovery (or --reset) too: the failing runs
      // that led to it, the ladder's own re-checks among them, are what it repaired, and counting
      // them would send a target just verified healthy up the ladder again.
      if (facts.state->reset_at && *facts.state->reset_at > now - config.recovery.failure_window) {
        facts.window = ExecutionStats{};
        for (auto& s : store.execution_stats(*facts.state->reset_at, target->id)) {
          facts.window = std::move(s);
        }
      }
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
  Ladder shared(config, store, clock, options, report);
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
      if (write.open) {  // not when a run that overlaps this one opened it first
        shared.run_escalation_command(*write.open);
      }
    }
    for (const auto& e : open) {
      // With --target only some targets were assessed: the others may still fail that way.
      if (!options.only_targets.empty() || !e.target_id.empty() || current.count(e.cause)) {
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

    // Escalations still open whose command never finished: a run killed while it ran (or
    // before it started it), or a command configured since. Run it now, at least once; the
    // claim keeps two runs from both doing so.
    if (config.recovery.escalation_command) {
      for (const auto& e : open) {
        if (e.command_result.empty() && !shared.stopping()) {
          shared.run_escalation_command(e);
        }
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
      // The workers take the claimed targets `concurrency` at a time: the last one starts after
      // ceil(due / concurrency) - 1 ladders, and its claim must last until it is done.
      const auto rounds = static_cast<Duration::rep>(
          (due.size() + static_cast<std::size_t>(config.recovery.concurrency) - 1)
          / static_cast<std::size_t>(config.recovery.concurrency));
      if (const auto& command = config.recovery.escalation_command) {
        ttl += command->timeout;
      }
      const auto claim = store.claim_targets(due_ids, run.owner, ttl * rounds + k_claim_margin,
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
      // Another run may have climbed a target's ladder between this run's assessment and its
      // claim (it held the target then, or took it after, and let go): the counters moved on,
      // and the assessment is out of date. Judged again under the claim with the counters as
      // they are now: a target attempted since, or no longer due (backing off, suspended), is
      // left to the next run; a reset since is taken as it now stands.
      const auto states_now = store.recovery_states();
      std::vector<std::string> dropped;
      for (const std::size_t i : due) {
        const std::string& id = assessments[i].target_id;
        if (!claimed.count(id)) {
          continue;
        }
        const auto it = states_now.find(id);
        std::optional<RecoveryState> now =
            it == states_now.end() ? std::nullopt : std::optional(it->second);
        auto last_attempt = [](const std::optional<RecoveryState>& s) {
          return s ? s->last_attempt_at : std::nullopt;
        };
        auto reset_at = [](const std::optional<RecoveryState>& s) {
          return s ? s->reset_at : std::nullopt;
        };
        const bool attempted = last_attempt(now) != last_attempt(facts[i].state);
        if (now && reset_at(now) != reset_at(facts[i].state)) {
          TimePoint since = start - config.recovery.attempts_window;
          if (now->reset_at && *now->reset_at > since) {
            since = *now->reset_at;
          }
          facts[i].attempts_in_window = store.count_recovery_attempts(id, since);
        }
        facts[i].state = std::move(now);
        const Assessment again = assess(facts[i], config.recovery, start, options.force);
        if (attempted || again.plan != Plan::attempt) {
          dropped.push_back(id);
          report.targets[i].held = true;
          std::string reason =
              attempted ? "attempted by another hb-recover run since this one assessed it"
                        : "its counters changed (another hb-recover run) since this one assessed it";
          if (again.plan != Plan::attempt && !again.plan_reason.empty()) {
            reason += ": " + again.plan_reason;
          }
          report.targets[i].assessment.plan_reason = std::move(reason);
        }
      }
      if (!dropped.empty()) {
        store.release_target_claims(run.owner, dropped);  // the pulse may run them meanwhile
        for (const auto& id : dropped) {
          claimed.erase(id);
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
  } catch (...) {
    done = true;
    shared.cancel();
    watcher.join();
    try {
      run.status = RecoveryRunStatus::error;
      try {
        throw;
      } catch (const std::exception& e) {
        run.message = e.what();
      } catch (...) {
        run.message = "unknown error";
      }
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
