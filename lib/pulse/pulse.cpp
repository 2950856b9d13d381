// SPDX-License-Identifier: MIT
#include "pulse/pulse.hpp"

#include "agents/beats.hpp"

#include "core/clock.hpp"
#include "core/config_node.hpp"
#include "core/errors.hpp"
#include "delivery/reminders.hpp"
#include "health/recover_runs.hpp"
#include "health/windows.hpp"
#include "pulse/evaluate.hpp"
#include "pulse/execute.hpp"
#include "pulse/ping.hpp"
#include "pulse/runner.hpp"
#include "pulse/system_state.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <unistd.h>

namespace hb::pulse {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Claims outlive the deadline by this much, so a pulse killed with SIGKILL frees its targets
// for the next pulse without ever letting two live pulses overlap on one target.
constexpr Duration k_claim_margin{60'000};
// Executions are written in batches: one transaction (and one fsync) per batch, each execution
// still whole or absent. A batch is written every k_batch_interval, so a pulse killed outright
// loses at most that much work, and when it reaches k_batch_size, to bound memory. The size is
// large on purpose: a commit costs an fsync (4 ms on a cloud disk), and 1,000 fast checks that
// finish within one interval cost one commit instead of sixteen.
constexpr std::size_t k_batch_size = 1024;
constexpr Duration k_batch_interval{250};

TargetInfo to_info(const config::Target& target, const util::Redactor& redactor)
{
  TargetInfo info;
  info.id = target.id;
  info.name = target.name;
  info.kind = target.kind;
  info.tags = target.tags;
  info.paused = target.paused;
  info.interval = target.interval;
  info.stale_after = target.stale_after;
  info.active_hours = target.active_hours ? target.active_hours->text() : std::string();
  info.timezone = target.timezone;
  if (target.heartbeat) {
    info.heartbeat = agents::heartbeat_info(target);
  }
  for (const auto& check : target.checks) {
    // Stored and shown: a check type may describe itself with a secret ("tcp <host>:5432").
    info.checks.push_back({check.name, check.type, check.severity,
                           check.probe ? redactor.redact(check.probe->describe()) : check.type});
  }
  return info;
}

bool matches_filters(const std::string& id, const std::vector<std::string>& tags,
                     const PulseOptions& options)
{
  if (!options.only_targets.empty() &&
      std::find(options.only_targets.begin(), options.only_targets.end(), id) ==
          options.only_targets.end()) {
    return false;
  }
  if (!options.tags.empty()) {
    return std::any_of(options.tags.begin(), options.tags.end(), [&](const std::string& tag) {
      return std::find(tags.begin(), tags.end(), tag) != tags.end();
    });
  }
  return true;
}

// Live targets the store has from an earlier config that the config no longer names, when
// discovery failed: they are the ones it would have listed, and keep their last definition.
std::vector<TargetRecord> kept_targets(const config::Config& config, store::Store& store)
{
  std::vector<TargetRecord> kept;
  if (config.discovery_failures.empty()) {
    return kept;
  }
  for (auto& record : store.targets(store::IncludeRetired::no)) {
    if (record.origin == Origin::config && config.find_target(record.info.id) == nullptr) {
      kept.push_back(std::move(record));
    }
  }
  return kept;
}

void sync_with(const config::Config& config, const std::vector<TargetRecord>& kept,
               store::Store& store, TimePoint now)
{
  std::vector<TargetInfo> infos;
  infos.reserve(config.targets.size() + kept.size());
  for (const auto& target : config.targets) {
    infos.push_back(to_info(target, config.redactor));
  }
  for (const auto& record : kept) {
    infos.push_back(record.info);
  }
  store.sync_targets(infos, now);
  sync_schedules(config, store, now);
  store.sync_notify_policy(config.notify);
}

void validate_filters(const config::Config& config, const std::vector<TargetRecord>& kept,
                      const PulseOptions& options)
{
  std::vector<std::string_view> ids;
  std::set<std::string> known_tags;
  for (const auto& t : config.targets) {
    ids.push_back(t.id);
    known_tags.insert(t.tags.begin(), t.tags.end());
  }
  for (const auto& r : kept) {
    ids.push_back(r.info.id);
    known_tags.insert(r.info.tags.begin(), r.info.tags.end());
  }
  for (const auto& wanted : options.only_targets) {
    if (std::find(ids.begin(), ids.end(), wanted) != ids.end()) {
      continue;
    }
    const std::string suggestion = closest_match(wanted, ids);
    throw UsageError(fmt::format(
        "--target: unknown target \"{}\"{}", wanted,
        suggestion.empty() ? std::string() : fmt::format(" (did you mean \"{}\"?)", suggestion)));
  }
  // A tag that matches nothing would make a pulse that runs nothing and says all is well.
  for (const auto& wanted : options.tags) {
    if (known_tags.count(wanted) != 0) {
      continue;
    }
    throw UsageError(
        known_tags.empty()
            ? fmt::format("--tag: no target has the tag \"{}\" (no target has any tag)", wanted)
            : fmt::format("--tag: no target has the tag \"{}\" (known tags: {})", wanted,
                          fmt::join(known_tags, ", ")));
  }
}

// Per-target bookkeeping while its checks run.
struct Group {
  const config::Target* target = nullptr;
  std::size_t outcome_index = 0;
  std::vector<CheckResultRecord> results;
  std::size_t pending = 0;
  bool any_started = false;
  std::optional<SteadyClock::time_point> first_start;
  SteadyClock::time_point last_finish{};
};

} // namespace

int PulseReport::count(TargetOutcome::Kind kind) const
{
  return static_cast<int>(std::count_if(targets.begin(), targets.end(),
                                        [&](const TargetOutcome& t) { return t.kind == kind; }));
}

std::optional<ExecStatus> PulseReport::worst_status() const
{
  std::optional<ExecStatus> worst;
  for (const auto& t : targets) {
    if (t.kind == TargetOutcome::Kind::ran && (!worst || rank(t.status) > rank(*worst))) {
      worst = t.status;
    }
  }
  return worst;
}

void sync_config(const config::Config& config, store::Store& store, TimePoint now)
{
  sync_with(config, kept_targets(config, store), store, now);
}

PulseReport run_pulse(const config::Config& config, store::Store& store, const util::Clock& clock,
                      const PulseOptions& options)
{
  const std::vector<TargetRecord> kept = kept_targets(config, store);
  validate_filters(config, kept, options);
  // A run narrowed to some targets is about those targets: tasks wait for a full pulse.
  const bool with_tasks =
      options.tasks == RunTasks::yes && options.only_targets.empty() && options.tags.empty();
  PulseReport report;
  report.dry_run = options.dry_run == DryRun::yes;

  const TimePoint wall_start = clock.now();
  const auto steady_start = SteadyClock::now();
  auto wall_at = [&](SteadyClock::time_point t) {
    return wall_start + std::chrono::duration_cast<Duration>(t - steady_start);
  };

  // 1. Sync the configured targets (also in a dry run: it only records what the config says).
  sync_with(config, kept, store, wall_start);
  std::map<std::string, TimePoint> first_seen;
  for (const auto& record : store.targets(store::IncludeRetired::no)) {
    first_seen[record.info.id] = record.first_seen;
  }

  std::vector<const config::Target*> candidates;
  std::vector<std::string> candidate_ids;
  for (const auto& target : config.targets) {
    if (matches_filters(target.id, target.tags, options)) {
      candidates.push_back(&target);
      candidate_ids.push_back(target.id);
    }
  }

  std::map<std::string, DueDecision> decisions;
  auto decide = [&](const config::Target& target, const TargetState& state) {
    DueDecision d;
    if (target.checks.empty()) {
      d.reason = target.heartbeat ? "pushes beats (hb-beat)" : "no checks";
    } else {
      d = check_due(target, state.last_execution_at, wall_start, options.force);
    }
    util::log_debug(fmt::format("{}: {}", target.id, d.due ? "due (" + d.reason + ")" : d.reason));
    decisions[target.id] = d;
    return d.due;
  };
  auto in_grace = [&](const config::Target& target) {
    auto it = first_seen.find(target.id);
    return it != first_seen.end()
           && health::in_grace(it->second, target.new_target_grace, wall_start);
  };

  // Targets discovery listed before: their checks need the discovered config (resolved
  // secrets included), which this pulse does not have.
  std::vector<TargetOutcome> unavailable;
  for (const auto& record : kept) {
    if (matches_filters(record.info.id, record.info.tags, options)) {
      TargetOutcome outcome;
      outcome.id = record.info.id;
      outcome.name = record.info.name;
      outcome.kind = TargetOutcome::Kind::not_run;
      outcome.reason = "not run: discovery failed and its checks need the discovered config "
                       "(last known definition kept)";
      unavailable.push_back(std::move(outcome));
    }
  }
  std::vector<std::string> discovery_problems;
  for (const auto& failure : config.discovery_failures) {
    discovery_problems.push_back("discovery failed: " + failure);
  }
  if (!unavailable.empty()) {
    discovery_problems.push_back(
        fmt::format("{} not run", util::plural(static_cast<long long>(unavailable.size()), "discovered target")));
  }

  if (report.dry_run) {
    auto states = store.target_states();
    for (const auto* target : candidates) {
      TargetState state;
      if (auto it = states.find(target->id); it != states.end()) {
        state = it->second;
      }
      TargetOutcome outcome;
      outcome.id = target->id;
      outcome.name = target->name;
      outcome.in_grace = in_grace(*target);
      outcome.health = state.health;
      const bool due = decide(*target, state);
      outcome.kind = due ? TargetOutcome::Kind::would_run : TargetOutcome::Kind::skipped;
      outcome.reason = decisions[target->id].reason;
      outcome.next_run = decisions[target->id].next_run;
      report.targets.push_back(std::move(outcome));
    }
    report.targets.insert(report.targets.end(), unavailable.begin(), unavailable.end());
    report.pulse.started_at = wall_start;
    report.pulse.interval = config.pulse.interval;
    report.pulse.deadline = config.pulse.deadline;
    report.pulse.next_expected = wall_start + config.pulse.interval;
    report.pulse.targets_total = static_cast<int>(candidates.size() + unavailable.size());
    report.pulse.targets_due = report.count(TargetOutcome::Kind::would_run);
    report.pulse.status = PulseStatus::dry_run;
    for (const auto& p : discovery_problems) {
      report.pulse.message += report.pulse.message.empty() ? p : "; " + p;
    }
    if (with_tasks) {
      TaskRunOptions task_options;
      task_options.dry_run = true;
      task_options.missed_after = config.pulse.interval + config.pulse.interval / 2;
      report.tasks = run_tasks(config, store, clock, task_options);
    }
    return report;
  }

  // 2. Record the pulse and claim what is due. A last pulse dated in the future (clock skew)
  // is reported: hb-status judges the scheduler by the newest pulse recorded, this one.
  const auto last_recorded = store.last_pulse(store::PulseScope::any);
  // Whether the scheduler had stopped running us, judged before this pulse counts.
  const SystemPulse before = system_pulse(store, wall_start);
  PulseRecord& pulse = report.pulse;
  pulse.owner = util::run_owner();
  pulse.started_at = wall_start;
  pulse.interval = config.pulse.interval;
  pulse.deadline = config.pulse.deadline;
  pulse.next_expected = wall_start + config.pulse.interval;
  pulse.targets_total = static_cast<int>(candidates.size() + unavailable.size());
  pulse.scheduled =
      options.only_targets.empty() && options.tags.empty() && options.force == Force::no;
  util::HttpClient& http = options.http != nullptr ? *options.http : util::default_http_client();
  ping_watcher(config, PingKind::start, http);
  pulse.id = store.begin_pulse(pulse);
  try {
    // One event per failed discovery command, about no one target (target_id "").
    for (const auto& failure : config.discovery_failures) {
      Event event;
      event.at = wall_start;
      event.type = EventType::discovery_failed;
      event.new_state = "failed";
      event.message = failure;
      store.record_event(event);
      report.system_events.push_back(std::move(event));
    }
    if (last_recorded && from_the_future(last_recorded->started_at, wall_start)) {
      Event event;
      event.at = wall_start;
      event.type = EventType::clock_skew;
      event.new_state = "re-anchored";
      event.message = fmt::format("the last pulse (#{}) is {}", last_recorded->id,
                                  skew_text(last_recorded->started_at, wall_start));
      util::log_warning(event.message);
      store.record_event(event);
      report.system_events.push_back(std::move(event));
    }
    if (pulse.scheduled && before.state == PulseState::warning && before.last
        && !from_the_future(before.last->started_at, wall_start)) {
      Event event;
      event.at = wall_start;
      event.type = EventType::pulse_stale;
      event.old_state = "alive";
      event.new_state = "stale";
      event.message = fmt::format("no pulse from {} to {} ({}, expected every {}): the scheduler "
                                  "stopped running hb-pulse",
                                  util::format_rfc3339(before.last->started_at),
                                  util::format_rfc3339(wall_start),
                                  util::format_duration(wall_start - before.last->started_at),
                                  util::format_duration(config.pulse.interval));
      util::log_warning(event.message);
      store.record_event(event);
      report.system_events.push_back(std::move(event));
    }

    // The scheduler of hb-recover is watched here too: hb-recover cannot say it stopped running.
    if (pulse.scheduled) {
      const health::RecoverRuns runs =
          health::judge_recover_runs(store.last_recovery_run(), wall_start);
      if (runs.state == health::RecoverRunsState::stale
          && !from_the_future(runs.last->started_at, wall_start)) {
        const auto told = store.count_events(runs.last->started_at, {EventType::recover_stale});
        if (const auto it = told.find(""); it == told.end() || it->second == 0) {
          Event event;
          event.at = wall_start;
          event.type = EventType::recover_stale;
          event.old_state = "alive";
          event.new_state = "stale";
          event.message = runs.reason;
          util::log_warning(event.message);
          store.record_event(event);
          report.system_events.push_back(std::move(event));
        }
      }
    }

    std::map<std::string, const config::Target*> by_id;
    for (const auto* target : candidates) {
      by_id[target->id] = target;
    }

    // 3. One outcome per candidate (skipped until claimed), one group per claimed target, one
    //    job per check. Targets are claimed a batch (`concurrency` of them) at a time, whenever
    //    the runner runs low, so that pulses sharing a database (several runners, several
    //    hosts) share the due targets instead of the first one claiming everything.
    for (const auto* target : candidates) {
      TargetOutcome outcome;
      outcome.id = target->id;
      outcome.name = target->name;
      outcome.in_grace = in_grace(*target);
      outcome.kind = TargetOutcome::Kind::skipped;
      report.targets.push_back(std::move(outcome));
    }
    report.targets.insert(report.targets.end(), unavailable.begin(), unavailable.end());
    std::map<std::string, TargetState> states;  // of each claimed target, as its claim read it
    std::vector<Group> groups;
    std::vector<std::size_t> group_of;  // per job (the runner's numbering): its group
    std::vector<std::size_t> position;  // per job: its index inside its group (config order)
    std::size_t next_candidate = 0;
    const auto claim_size = static_cast<std::size_t>(std::max(1, config.pulse.concurrency));
    const Duration claim_ttl = config.pulse.deadline + k_claim_margin;
    auto describe = [&](std::size_t index, const std::map<std::string, TargetState>& seen) {
      TargetOutcome& outcome = report.targets[index];
      const auto& decision = decisions[outcome.id];
      outcome.reason = decision.reason;
      outcome.next_run = decision.next_run;
      if (auto it = seen.find(outcome.id); it != seen.end()) {
        outcome.health = it->second.health;
      }
    };
    auto claim_batch = [&]() -> std::vector<CheckJob> {
      std::vector<CheckJob> jobs;
      while (jobs.empty() && next_candidate < candidates.size()) {
        const std::size_t first = next_candidate;
        next_candidate = std::min(candidates.size(), first + claim_size);
        const std::vector<std::string> slice(candidate_ids.begin() + static_cast<long>(first),
                                             candidate_ids.begin() + static_cast<long>(next_candidate));
        std::map<std::string, TargetState> seen;
        const store::ClaimResult claim = store.claim_targets(
            slice, pulse.owner, claim_ttl, [&](const std::string& id, const TargetState& state) {
              seen[id] = state;
              return decide(*by_id.at(id), state);
            });
        const std::set<std::string> claimed(claim.claimed.begin(), claim.claimed.end());
        const std::set<std::string> held(claim.held.begin(), claim.held.end());
        pulse.targets_due += static_cast<int>(claim.claimed.size() + claim.held.size());
        pulse.targets_held += static_cast<int>(claim.held.size());
        for (std::size_t i = first; i < next_candidate; ++i) {
          const config::Target* target = candidates[i];
          describe(i, seen);
          TargetOutcome& outcome = report.targets[i];
          if (held.count(target->id)) {
            outcome.kind = TargetOutcome::Kind::held;
            outcome.reason = "claimed by an overlapping pulse";
          } else if (claimed.count(target->id)) {
            outcome.kind = TargetOutcome::Kind::ran;
            states[target->id] = seen[target->id];
            Group group;
            group.target = target;
            group.outcome_index = i;
            group.results.resize(target->checks.size());
            group.pending = target->checks.size();
            std::size_t p = 0;
            for (const auto& check : target->checks) {
              jobs.push_back({groups.size(), check.name, check.timeout, check.probe});
              group_of.push_back(groups.size());
              position.push_back(p++);
            }
            groups.push_back(std::move(group));
          }
        }
      }
      return jobs;
    };

    // 4. Run the checks; 5. record each target as soon as all its checks are done.
    // A target is recorded after the targets it depends_on when they land in one batch, so that
    // routing its events sees a dependency that failed in the same pulse (and suppresses them).
    std::map<std::string, int> depth;
    std::function<int(const std::string&)> depth_of = [&](const std::string& id) -> int {
      if (const auto it = depth.find(id); it != depth.end()) {
        return it->second;
      }
      depth[id] = 0;  // depends_on has no cycles (the config refuses them); this only guards
      int d = 0;
      for (const auto& upstream : config.notify.settings_of(id).depends_on) {
        d = std::max(d, depth_of(upstream) + 1);
      }
      return depth[id] = d;
    };
    std::vector<ExecutionWrite> batch;
    auto last_flush = SteadyClock::now();
    std::exception_ptr store_failure;
    std::atomic<int> stop{0};
    auto flush = [&] {
      if (batch.empty() || store_failure) {
        return;
      }
      std::stable_sort(batch.begin(), batch.end(),
                       [&](const ExecutionWrite& a, const ExecutionWrite& b) {
                         return depth_of(a.execution.target_id) < depth_of(b.execution.target_id);
                       });
      try {
        store.record_executions(batch);
      } catch (...) {
        store_failure = std::current_exception();
        stop = -1;
      }
      batch.clear();
      last_flush = SteadyClock::now();
    };
    const std::string deadline_text = util::format_duration(config.pulse.deadline);
    auto stop_message = [&](bool started) {
      const int signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
      if (signal > 0) {
        return started ? fmt::format("interrupted by {}", util::signal_name(signal))
                       : fmt::format("not started: interrupted by {}", util::signal_name(signal));
      }
      return started ? fmt::format("cut off at the pulse deadline ({})", deadline_text)
                     : fmt::format("not started before the pulse deadline ({})", deadline_text);
    };

    auto finish_group = [&](Group& group) {
      TargetOutcome& outcome = report.targets[group.outcome_index];
      if (!group.any_started) {
        outcome.kind = TargetOutcome::Kind::deadline;
        outcome.reason = stop_message(false);
        return;
      }
      ExecutionRecord execution;
      execution.target_id = group.target->id;
      execution.started_at = wall_at(*group.first_start);
      execution.completed_at = wall_at(group.last_finish);
      execution.trigger = Trigger::pulse;
      execution.forced = options.force == Force::yes;
      execution.pulse_id = pulse.id;
      execution.results = group.results;
      execution.status = aggregate(execution.results);

      TargetState previous = states.at(group.target->id);
      previous.target_id = group.target->id;
      Evaluation evaluation = evaluate(*group.target, previous, execution,
                                       outcome.in_grace ? InGrace::yes : InGrace::no);
      if (const auto& skewed = decisions[group.target->id].skewed) {
        Event event;
        event.target_id = group.target->id;
        event.at = execution.started_at;
        event.type = EventType::clock_skew;
        event.old_state = std::string(to_string(previous.health));
        event.new_state = std::string(to_string(evaluation.state.health));
        event.message = fmt::format("{}: last run {}; run again now", group.target->id,
                                    skew_text(*skewed, wall_start));
        util::log_warning(event.message);
        evaluation.events.push_back(std::move(event));
      }

      outcome.status = execution.status;
      outcome.health = evaluation.state.health;
      outcome.duration = execution.completed_at - execution.started_at;
      outcome.results = execution.results;
      outcome.events = evaluation.events;
      batch.push_back({std::move(execution), std::move(evaluation.state),
                       std::move(evaluation.events), pulse.owner, evaluation.load});
      if (batch.size() >= k_batch_size) {
        flush();
      }
    };

    const auto cutoff = steady_start + config.pulse.deadline -
                        std::min<Duration>(Duration(2'000), config.pulse.deadline / 10);
    ParallelRunner runner(config.pulse.concurrency, cutoff, &stop, clock);
    const RunStats stats = runner.run(
        {},
        [&](std::size_t job, JobOutcome&& done) {
          Group& group = groups[group_of[job]];
          CheckResultRecord result = std::move(done.result);
          redact(result, config.redactor);
          if (done.started) {
            group.any_started = true;
            if (!group.first_start || done.started_at < *group.first_start) {
              group.first_start = done.started_at;
            }
            group.last_finish = std::max(group.last_finish, done.finished_at);
            if (result.phase == "cancelled") {
              result.message = stop_message(true);
            }
          } else {
            result.message = stop_message(false);
          }
          group.results[position[job]] = std::move(result);
          if (--group.pending == 0) {
            finish_group(group);
          }
        },
        [&](int done, int total) {
          if (options.stop_signal != nullptr && options.stop_signal->load() != 0 && stop == 0) {
            stop = options.stop_signal->load();
          }
          if (SteadyClock::now() - last_flush >= k_batch_interval) {
            flush();
          }
          if (options.progress) {
            options.progress(done, total);
          }
        },
        claim_batch);
    flush();
    // Candidates the deadline or a signal left unconsidered: the due ones were not started.
    if (next_candidate < candidates.size()) {
      const auto rest = store.target_states();
      for (std::size_t i = next_candidate; i < candidates.size(); ++i) {
        TargetState state;
        state.target_id = candidates[i]->id;
        if (auto it = rest.find(state.target_id); it != rest.end()) {
          state = it->second;
        }
        const bool due = decide(*candidates[i], state);
        describe(i, rest);
        if (due) {
          report.targets[i].kind = TargetOutcome::Kind::deadline;
          report.targets[i].reason = stop_message(false);
          ++pulse.targets_due;
        }
      }
    }
    if (store_failure) {
      std::rethrow_exception(store_failure);
    }
    // 5b. Agents and jobs: record what silence has changed since the last tool run (missed
    // beats, late or hung jobs).
    for (auto& write : agents::refresh_all(store, clock.now())) {
      for (auto& event : write.events) {
        report.beat_events.push_back(std::move(event));
      }
    }

    // 6. Scheduled tasks, after the checks and inside the same deadline.
    if (with_tasks && stop == 0) {
      TaskRunOptions task_options;
      task_options.owner = pulse.owner;
      task_options.pulse_id = pulse.id;
      task_options.missed_after = config.pulse.interval + config.pulse.interval / 2;
      task_options.concurrency = config.pulse.task_concurrency;
      task_options.cutoff = cutoff;
      task_options.deadline = config.pulse.deadline;
      task_options.stop_signal = options.stop_signal;
      report.tasks = run_tasks(config, store, clock, task_options);
    }

    // 7. Notifications: reminders for targets still failing, then the outbox, with what is left
    //    of the deadline (at least 15 s: an alert matters most when the checks ran long).
    report.signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    if (report.signal == 0 && options.deliver == Deliver::yes) {
      report.reminders = delivery::write_reminders(config, store, clock.now());
      delivery::DeliverOptions deliver_options;
      deliver_options.owner = pulse.owner;
      deliver_options.budget = std::max<Duration>(
          Duration(15'000),
          std::chrono::duration_cast<Duration>(cutoff - SteadyClock::now()));
      deliver_options.http = &http;
      report.delivery = delivery::deliver(config, store, clock, deliver_options);
    }

    // 8. Retention: at most once per `retention.every` (a day), a full scheduled pulse prunes
    //    history past the retention windows, with what is left of the deadline (at least 5 s);
    //    a prune cut short is resumed by the next pulse, as it is not yet recorded complete.
    report.signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    if (report.signal == 0 && pulse.scheduled) {
      const TimePoint now = clock.now();
      const auto last = store.last_prune();
      if (!last || now - *last >= config.retention.every || from_the_future(last, now)) {
        report.prune = store.prune(
            config.retention, now,
            std::max<Duration>(Duration(5'000), std::chrono::duration_cast<Duration>(
                                                    cutoff - SteadyClock::now())));
        util::log_info(fmt::format("pruned history past the retention windows: {} rows in {} "
                                   "batches, longest {}, {} over 100 ms (checkpoints between them: longest {}){}",
                                   report.prune->total(), report.prune->batches,
                                   util::format_duration(report.prune->longest_batch),
                                   report.prune->slow_batches,
                                   util::format_duration(report.prune->longest_checkpoint),
                                   report.prune->complete ? "" : " (not finished: resumed next pulse)"));
      }
    }

    // 9. Record the pulse (which also releases its claims).
    report.abandoned_checks = stats.abandoned;
    report.signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    pulse.targets_run = report.count(TargetOutcome::Kind::ran);
    pulse.checks_run = stats.started;
    for (const auto& t : report.tasks) {
      if (t.kind == TaskOutcome::Kind::executed || t.kind == TaskOutcome::Kind::failed) {
        ++pulse.tasks_run;
      }
      if (t.kind == TaskOutcome::Kind::failed) {
        ++pulse.tasks_failed;
      }
    }
    const int not_run = report.count(TargetOutcome::Kind::deadline);
    int tasks_cut = 0;
    if (report.signal == 0) {
      for (const auto& t : report.tasks) {
        const bool not_started = t.kind == TaskOutcome::Kind::not_run;
        const bool cut =
            t.result == TaskRunStatus::timed_out && t.message.rfind("cut off at the pulse deadline", 0) == 0;
        tasks_cut += (not_started || cut) ? 1 : 0;
      }
    }
    pulse.errors = stats.cut_off + stats.not_started + stats.exceptions + stats.abandoned +
                   tasks_cut + static_cast<int>(config.discovery_failures.size());
    std::vector<std::string> problems = discovery_problems;
    if (stats.cut_off + stats.not_started > 0 && report.signal == 0) {
      problems.push_back(fmt::format(
          "pulse deadline ({}) reached: {} cut off, {} not started, {} not run", deadline_text,
          util::plural(stats.cut_off, "check"), stats.not_started, util::plural(not_run, "target")));
    }
    if (tasks_cut > 0) {
      problems.push_back(
          fmt::format("pulse deadline ({}) reached: {} cut off or not started", deadline_text,
                      util::plural(tasks_cut, "task")));
    }
    if (stats.exceptions > 0) {
      problems.push_back(fmt::format("{} failed internally", util::plural(stats.exceptions, "check")));
    }
    if (stats.abandoned > 0) {
      problems.push_back(
          fmt::format("{} did not stop and were abandoned", util::plural(stats.abandoned, "check")));
    }
    if (report.signal != 0) {
      pulse.status = PulseStatus::interrupted;
      problems.insert(problems.begin(),
                      fmt::format("interrupted by {}", util::signal_name(report.signal)));
    } else {
      pulse.status = pulse.errors > 0 ? PulseStatus::error : PulseStatus::ok;
    }
    for (const auto& p : problems) {
      pulse.message += pulse.message.empty() ? p : "; " + p;
    }
    pulse.completed_at = clock.now();
    store.finish_pulse(pulse);
    if (report.signal == 0) {
      ping_watcher(config, pulse.status == PulseStatus::ok ? PingKind::success : PingKind::fail,
                   http);
    }
    return report;
  } catch (const std::exception& e) {
    // Leave no claims behind and say what happened, so the next pulse can take over at once and
    // hb-status shows the real error rather than "never finished".
    try {
      pulse.status = PulseStatus::error;
      pulse.message = e.what();
      pulse.completed_at = clock.now();
      store.finish_pulse(pulse);
    } catch (...) {
    }
    ping_watcher(config, PingKind::fail, http);
    throw;
  }
}

} // namespace hb::pulse
