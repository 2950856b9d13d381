// SPDX-License-Identifier: MIT
#include "pulse/tasks.hpp"

#include "checks/perfdata.hpp"
#include "schedule/tasks.hpp"
#include "schedule/zone.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace hb::pulse {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t k_output_cap = 64 * 1024;
constexpr std::size_t k_tail_lines = 20;
constexpr std::size_t k_tail_bytes = 4096;

struct Finished {
  std::size_t index = 0;
  util::ProcessResult process;
  TimePoint started_at;
  TimePoint completed_at;
  Duration allowed{0};  // the timeout actually given (own timeout or what was left)
};

} // namespace

void sync_schedules(const config::Config& config, store::Store& store, TimePoint now)
{
  std::vector<ScheduleInfo> infos;
  for (const auto& s : config.schedules) {
    infos.push_back({s.name, s.cron->text(), s.timezone, s.target, s.enabled,
                     config.redactor.redact(s.description)});
  }
  store.sync_schedules(infos, now);
}

std::vector<TaskOutcome> run_tasks(const config::Config& config, store::Store& store,
                                   const util::Clock& clock, const TaskRunOptions& options)
{
  std::vector<TaskOutcome> outcomes;
  const TimePoint now = clock.now();

  if (config.schedules.empty()) {
    return outcomes;
  }
  std::map<std::string, TimePoint> created;
  for (const auto& record : store.schedules(store::IncludeRetired::no)) {
    created[record.info.name] = record.created_at;
  }

  std::map<std::string, schedule::TaskDecision> decisions;
  std::map<std::string, const config::Schedule*> by_name;
  std::vector<std::string> names;
  for (const auto& s : config.schedules) {
    by_name[s.name] = &s;
    names.push_back(s.name);
  }
  auto decide = [&](const std::string& name, const ScheduleState& state) {
    const auto* s = by_name.at(name);
    auto it = created.find(name);
    schedule::TaskDecision d = schedule::decide_task(*s, state, it == created.end() ? now : it->second, now,
                                 options.missed_after);
    util::log_debug(fmt::format("task {}: {}", name, d.reason));
    const bool take = d.action != schedule::TaskAction::none;
    decisions[name] = std::move(d);
    return take;
  };

  std::map<std::string, ScheduleState> states;
  std::vector<std::string> claimed;
  std::set<std::string> held;
  if (options.dry_run) {
    states = store.schedule_states();
    for (const auto& name : names) {
      ScheduleState state;
      state.name = name;
      if (auto it = states.find(name); it != states.end()) {
        state = it->second;
      }
      if (decide(name, state)) {
        claimed.push_back(name);
      }
    }
  } else {
    const auto claim = store.claim_tasks(
      names, options.owner,
      std::chrono::duration_cast<Duration>(options.cutoff - SteadyClock::now()) + Duration(120'000),
      decide);
    claimed = claim.claimed;
    held.insert(claim.held.begin(), claim.held.end());
    states = store.schedule_states();
  }
  const std::set<std::string> claimed_set(claimed.begin(), claimed.end());

  // One outcome per configured schedule, in config order.
  std::map<std::string, std::size_t> outcome_index;
  for (const auto& s : config.schedules) {
    TaskOutcome o;
    o.name = s.name;
    o.target = s.target;
    const auto& d = decisions[s.name];
    o.reason = d.reason;
    o.next_run = d.next_run;
    if (held.count(s.name)) {
      o.kind = TaskOutcome::Kind::held;
      o.reason = "still running in an overlapping pulse";
    } else if (claimed_set.count(s.name) && options.dry_run) {
      o.kind = d.action == schedule::TaskAction::run ? TaskOutcome::Kind::would_run
                                           : TaskOutcome::Kind::skipped;
      o.attempt = d.attempt;
    } else {
      o.kind = TaskOutcome::Kind::skipped;
    }
    outcome_index[s.name] = outcomes.size();
    outcomes.push_back(std::move(o));
  }
  if (options.dry_run) {
    return outcomes;
  }

  auto state_of = [&](const std::string& name) {
    ScheduleState state;
    state.name = name;
    if (auto it = states.find(name); it != states.end()) {
      state = it->second;
    }
    return state;
  };

  // Missed fire times that are not caught up, and states dated in the future (clock skew), are
  // recorded without running anything.
  std::vector<std::string> to_run;
  for (const auto& name : claimed) {
    const auto& d = decisions[name];
    if (d.action == schedule::TaskAction::run) {
      to_run.push_back(name);
      continue;
    }
    const bool skew = d.action == schedule::TaskAction::reanchor;
    TaskRun run;
    run.schedule = name;
    run.fire_at = d.fire;
    run.started_at = now;
    run.completed_at = now;
    run.status = TaskRunStatus::skipped;
    run.attempt = 0;
    run.message = skew ? d.reason
                       : fmt::format("fire time {} was missed while no pulse ran; catch_up is off",
                                     util::format_rfc3339(d.fire));
    run.pulse_id = options.pulse_id;
    ScheduleState state = state_of(name);
    state.covered_fire = d.fire;
    state.pending_fire.reset();
    state.retry_at.reset();
    state.attempts = 0;
    state.last_status = run.status;
    state.last_message = run.message;
    store.record_task_run(run, state, options.owner);
    if (skew) {
      Event event;
      event.at = now;
      event.type = EventType::clock_skew;
      event.new_state = "re-anchored";
      event.message = fmt::format("task {}: {}", name, d.reason);
      util::log_warning(event.message);
      store.record_event(event);
    }
    auto& o = outcomes[outcome_index[name]];
    o.kind = TaskOutcome::Kind::skipped;
    o.result = TaskRunStatus::skipped;
    o.message = run.message;
  }

  // Run the rest, at most `concurrency` at once, on worker threads; record on this thread.
  std::atomic<bool> cancel{false};
  std::mutex mutex;
  std::vector<Finished> finished;
  std::size_t next = 0;
  std::vector<bool> started(to_run.size(), false);
  const TimePoint wall_start = now;
  const auto steady_start = SteadyClock::now();
  auto wall_at = [&](SteadyClock::time_point t) {
    return wall_start + std::chrono::duration_cast<Duration>(t - steady_start);
  };
  auto worker = [&] {
    for (;;) {
      std::size_t index = 0;
      Duration allowed{0};
      {
        std::lock_guard lock(mutex);
        const auto left = std::chrono::duration_cast<Duration>(options.cutoff - SteadyClock::now());
        if (next >= to_run.size() || cancel || left <= Duration(0)) {
          return;
        }
        index = next++;
        started[index] = true;
        allowed = std::min(by_name.at(to_run[index])->timeout, left);
      }
      const config::Schedule& s = *by_name.at(to_run[index]);
      util::ProcessSpec spec;
      spec.argv = s.command;
      spec.env = s.env;
      spec.working_dir = s.working_dir;
      spec.timeout = allowed;
      spec.cancel = &cancel;
      spec.output_cap = k_output_cap;
      spec.keep = util::ProcessSpec::Keep::tail;
      const auto begin = SteadyClock::now();
      Finished f;
      f.index = index;
      f.process = util::run_process(spec);
      // The output tail and message are stored and shown: no secret of the config (a spawn error
      // names a secret argv[0] or working_dir; the task may print what it was given).
      f.process.output = config.redactor.redact(std::move(f.process.output));
      f.process.error = config.redactor.redact(std::move(f.process.error));
      f.started_at = wall_at(begin);
      f.completed_at = wall_at(SteadyClock::now());
      f.allowed = allowed;
      std::lock_guard lock(mutex);
      finished.push_back(std::move(f));
    }
  };

  std::vector<std::thread> workers;
  const std::size_t count =
    std::min<std::size_t>(static_cast<std::size_t>(std::max(1, options.concurrency)), to_run.size());
  for (std::size_t i = 0; i < count; ++i) {
    workers.emplace_back(worker);
  }

  std::size_t recorded = 0;
  auto record_finished = [&] {
    std::vector<Finished> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(finished);
    }
    for (auto& f : batch) {
      const std::string& name = to_run[f.index];
      const config::Schedule& s = *by_name.at(name);
      const auto& d = decisions[name];
      TaskRun run;
      run.schedule = name;
      run.fire_at = d.fire;
      run.started_at = f.started_at;
      run.completed_at = f.completed_at;
      run.attempt = d.attempt;
      run.pulse_id = options.pulse_id;
      run.output_tail = util::tail_lines(f.process.output, k_tail_lines, k_tail_bytes);
      const Duration took = f.completed_at - f.started_at;
      // One judgement of how a process ended, shared with hb-beat's job wrapper.
      const util::ProcessOutcome outcome = util::outcome_of(f.process);
      run.exit_code = outcome.exit_code;
      // The message ends with the task's last output line: its escape sequences and bidi
      // controls must not reach a terminal through hb-pulse or hb-status.
      run.message = checks::sanitize_text(outcome.message, checks::KeepNewlines::no);
      using Kind = util::ProcessOutcome::Kind;
      switch (outcome.kind) {
      case Kind::succeeded:
        run.status = TaskRunStatus::succeeded;
        break;
      case Kind::failed:
        run.status = TaskRunStatus::failed;
        break;
      case Kind::timed_out:
        run.status = TaskRunStatus::timed_out;
        if (f.allowed < s.timeout) {
          // Not the task's own timeout: the pulse ran out of time.
          run.message = fmt::format("cut off at the pulse deadline ({})",
                                    util::format_duration(options.deadline));
        }
        break;
      case Kind::cancelled: {
        run.status = TaskRunStatus::interrupted;
        const int signal = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
        run.message = signal != 0 ? fmt::format("interrupted by {}", util::signal_name(signal))
                                  : "cut off";
        break;
      }
      }

      ScheduleState state = state_of(name);
      state.last_run_at = run.started_at;
      state.last_status = run.status;
      state.last_exit_code = run.exit_code;
      state.last_message = run.message;
      if (run.status == TaskRunStatus::interrupted) {
        // Stopping heartbeat is not the task's failure: the fire time stays due, no attempt used.
        state.pending_fire = run.fire_at;
        state.attempts = run.attempt - 1;
        state.retry_at.reset();
      } else if (run.status == TaskRunStatus::succeeded || run.attempt > s.retries) {
        state.attempts = run.attempt;
        state.covered_fire = std::max(state.covered_fire.value_or(run.fire_at), run.fire_at);
        state.pending_fire.reset();
        state.retry_at.reset();
      } else {
        state.attempts = run.attempt;
        state.pending_fire = run.fire_at;
        state.retry_at = run.completed_at + schedule::retry_delay(s, run.attempt);
      }
      store.record_task_run(run, state, options.owner);
      states[name] = state;

      auto& o = outcomes[outcome_index[name]];
      o.kind = run.status == TaskRunStatus::succeeded     ? TaskOutcome::Kind::executed
               : run.status == TaskRunStatus::interrupted ? TaskOutcome::Kind::not_run
                                             : TaskOutcome::Kind::failed;
      o.result = run.status;
      o.message = run.message;
      o.exit_code = run.exit_code;
      o.attempt = run.attempt;
      o.duration = took;
      if (state.pending_fire && state.retry_at) {
        o.reason = fmt::format("attempt {} of {} at {}", run.attempt + 1, s.retries + 1,
                               util::format_rfc3339(*state.retry_at));
        o.next_run = state.retry_at;
      } else if (state.pending_fire) {
        o.reason = "interrupted; runs again at the next pulse";
      } else {
        o.reason.clear();
        o.next_run = s.cron->next_after(run.completed_at, schedule::locate_zone_or_utc(s.timezone));
      }
      ++recorded;
    }
  };

  // Workers must be joined on every path: a store failure while recording stops the others
  // (killing their process groups) before it propagates.
  auto stop_and_join = [&] {
    cancel = true;
    for (auto& w : workers) {
      if (w.joinable()) {
        w.join();
      }
    }
  };
  try {
    while (recorded < to_run.size()) {
      if (options.stop_signal != nullptr && options.stop_signal->load() != 0) {
        cancel = true;
      }
      record_finished();
      bool all_idle = false;
      {
        std::lock_guard lock(mutex);
        const std::size_t started_count = next;
        all_idle = finished.empty() && recorded == started_count
                   && (next >= to_run.size() || cancel || SteadyClock::now() >= options.cutoff);
      }
      if (all_idle) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& w : workers) {
      w.join();
    }
    record_finished();
  } catch (...) {
    stop_and_join();
    throw;
  }

  // Due tasks that never started stay due; their claims go with the pulse's.
  for (std::size_t i = 0; i < to_run.size(); ++i) {
    if (!started[i]) {
      auto& o = outcomes[outcome_index[to_run[i]]];
      o.kind = TaskOutcome::Kind::not_run;
      o.reason = options.stop_signal != nullptr && options.stop_signal->load() != 0
                   ? "not started: interrupted"
                   : "not started before the pulse deadline";
    }
  }
  return outcomes;
}

} // namespace hb::pulse
