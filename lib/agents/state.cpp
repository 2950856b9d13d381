// SPDX-License-Identifier: MIT
#include "agents/state.hpp"

#include "core/clock.hpp"
#include "health/judgement.hpp"
#include "health/windows.hpp"
#include "schedule/cron.hpp"
#include "schedule/zone.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hb::agents {
namespace {

// A run that starts up to this long (or its grace, when shorter) before its fire time counts for
// it: clocks on different hosts disagree a little.
constexpr Duration k_early_start{30'000};

bool is_job(const BeatContext& context)
{
  return context.target.info.kind == TargetKind::job;
}

const HeartbeatInfo& settings(const BeatContext& context)
{
  static const HeartbeatInfo k_none{};
  return context.target.info.heartbeat ? *context.target.info.heartbeat : k_none;
}

bool in_grace(const BeatContext& context, TimePoint now)
{
  return health::in_grace(context.target.first_seen, settings(context).new_target_grace, now);
}

// The event a transition is recorded as. A job back to ok after failing, being late or hung has
// recovered; an agent's event names the state it moved to.
EventType event_type(const Transition& t)
{
  if (const auto* to = std::get_if<JobState>(&t.to)) {
    const auto* from = std::get_if<JobState>(&t.from);
    const bool was_bad = from && (*from == JobState::failed || *from == JobState::late
                                  || *from == JobState::hung);
    switch (*to) {
    case JobState::ok:
      return was_bad ? EventType::job_recovered : EventType::job_ok;
    case JobState::failed:
      return EventType::job_failed;
    case JobState::late:
      return EventType::job_late;
    case JobState::hung:
    case JobState::unknown:  // never a transition's target
      return EventType::job_hung;
    }
  }
  switch (std::get<AgentState>(t.to)) {
  case AgentState::online:
  case AgentState::unknown:  // never a transition's target
    return EventType::agent_online;
  case AgentState::degraded:
    return EventType::agent_degraded;
  case AgentState::offline:
    return EventType::agent_offline;
  }
  return EventType::agent_online;
}

Event make_event(const BeatContext& context, const Transition& t, TimePoint now)
{
  Event e;
  e.target_id = context.target.info.id;
  e.at = t.at;
  e.type = event_type(t);
  e.old_state = std::string(to_string(t.from));
  e.new_state = std::string(to_string(t.to));
  e.message = t.message;
  e.in_grace = in_grace(context, now);
  return e;
}

// Appends the events of `transitions` to `write` and moves its state to the last one.
void apply_transitions(const BeatContext& context, const std::vector<Transition>& transitions,
                       BeatWrite& write, TimePoint now)
{
  for (const auto& t : transitions) {
    write.events.push_back(make_event(context, t, now));
    write.state.state = t.to;
    write.state.since = t.at;
  }
}

AgentState agent_state(const BeatState& state)
{
  const auto* s = std::get_if<AgentState>(&state.state);
  return s ? *s : AgentState::unknown;
}

JobState job_state(const BeatState& state)
{
  const auto* s = std::get_if<JobState>(&state.state);
  return s ? *s : JobState::unknown;
}

} // namespace

BeatContext without_future(const BeatContext& context, TimePoint now,
                           std::optional<TimePoint>* skewed)
{
  BeatContext out = context;
  std::optional<TimePoint> latest;
  auto fix = [&](std::optional<TimePoint>& t) {
    if (from_the_future(t, now)) {
      latest = std::max(latest.value_or(*t), *t);
      t = now;
    }
  };
  fix(out.state.last_seen);
  fix(out.state.since);
  // The last run's row is not part of the state a refresh writes: moved in memory only, and
  // not reported again on every refresh.
  if (out.last_run && from_the_future(out.last_run->started_at, now)) {
    out.last_run->started_at = now;
  }
  if (out.last_run && from_the_future(out.last_run->completed_at, now)) {
    out.last_run->completed_at = now;
  }
  if (skewed != nullptr) {
    *skewed = latest;
  }
  return out;
}

bool is_beat_event(const BeatContext& context, EventType type)
{
  return is_job(context) ? is_job_event(type) : is_agent_event(type);
}

// --- Agents ----------------------------------------------------------------------------------

AgentEval evaluate_agent(const BeatContext& raw, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  const auto& hb = settings(context);
  AgentEval eval;
  eval.state = agent_state(context.state);
  eval.since = context.state.since;
  const auto& last_seen = context.state.last_seen;
  if (!last_seen || context.target.info.paused || hb.every.count() <= 0) {
    return eval;
  }
  // Outside active hours nothing is expected, and the timer restarts when the window opens.
  const auto window = health::active_window_start(ActiveHours::parse(hb.active_hours),
                                                  hb.timezone, now, *last_seen);
  if (!window) {
    return eval;
  }
  const TimePoint reference =
      std::max({*last_seen, *window, context.excused_until.value_or(*last_seen)});
  const Duration silent = now - reference - hb.grace;
  if (silent < hb.every) {
    return eval;
  }
  eval.missed = static_cast<int>(silent / hb.every);

  auto missed_at = [&](int k) { return reference + hb.every * k + hb.grace; };
  auto move = [&](AgentState to, int k) {
    Transition t;
    t.at = std::max(missed_at(k), eval.since.value_or(missed_at(k)));
    t.from = eval.state;
    t.to = to;
    t.message = fmt::format("{} (every {}), last beat {}", "missed " + util::plural(k, "beat"),
                            util::format_duration(hb.every), util::format_age(*last_seen, t.at));
    eval.transitions.push_back(std::move(t));
    eval.state = to;
    eval.since = eval.transitions.back().at;
  };
  if (eval.state == AgentState::online && eval.missed >= hb.degraded_after
      && hb.degraded_after < hb.offline_after) {
    move(AgentState::degraded, hb.degraded_after);
  }
  if ((eval.state == AgentState::online || eval.state == AgentState::degraded)
      && eval.missed >= hb.offline_after) {
    move(AgentState::offline, hb.offline_after);
  }
  return eval;
}

BeatWrite apply_agent_beat(const BeatContext& raw, const BeatInput& beat, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  const auto& hb = settings(context);
  BeatWrite write;
  write.state = context.state;
  AgentEval eval = evaluate_agent(context, now);
  apply_transitions(context, eval.transitions, write, now);

  AgentState state = eval.state;
  // A missed beat breaks a run of healthy beats.
  int healthy = eval.missed > 0 ? 0 : context.state.consecutive_healthy;
  std::optional<Transition> change;
  auto move = [&](AgentState to, std::string message) {
    change = Transition{now, state, to, std::move(message)};
    state = to;
  };
  const std::string said = beat.message.empty() ? std::string() : ": " + beat.message;
  switch (beat.status) {
  case BeatStatus::healthy:
    ++healthy;
    if (state == AgentState::unknown) {
      move(AgentState::online, "first beat" + said);
    } else if (state != AgentState::online && healthy >= hb.recover_after) {
      move(AgentState::online,
           fmt::format("{} in a row{}", util::plural(healthy, "healthy beat"), said));
    }
    break;
  case BeatStatus::degraded:
    healthy = 0;
    if (state != AgentState::degraded) {
      move(AgentState::degraded, "agent reports degraded" + said);
    }
    break;
  case BeatStatus::failing:
    healthy = 0;
    if (state != AgentState::offline) {
      move(AgentState::offline, "agent reports failing" + said);
    }
    break;
  }
  if (change) {
    apply_transitions(context, {*change}, write, now);
  }
  write.state.consecutive_healthy = healthy;
  write.state.last_seen = now;
  write.state.last_status = beat.status;
  write.state.last_message = beat.message;
  write.state.last_metrics = beat.metrics;
  write.state.beats = context.state.beats + 1;

  Beat record;
  record.target_id = context.target.info.id;
  record.at = now;
  record.status = beat.status;
  record.message = beat.message;
  record.metrics = beat.metrics;
  write.beat = std::move(record);
  return write;
}

// --- Jobs ------------------------------------------------------------------------------------

JobEval evaluate_job(const BeatContext& raw, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  const auto& hb = settings(context);
  JobEval eval;
  const JobState stored = job_state(context.state);
  eval.state = stored;
  eval.since = context.state.since;
  const auto& run = context.last_run;
  eval.running = run && !run->completed_at;
  if (eval.running) {
    eval.running_since = run->started_at;
  }

  const auto& last_start = context.state.last_seen;
  if (hb.every.count() > 0) {
    eval.next_expected = last_start.value_or(context.target.first_seen) + hb.every;
  } else if (!hb.schedule.empty()) {
    std::string error;
    if (auto cron = schedule::CronExpr::parse(hb.schedule, error)) {
      const TimePoint base = last_start ? *last_start + std::min(k_early_start, hb.grace)
                                        : context.target.first_seen;
      eval.next_expected = cron->next_after(base, schedule::locate_zone_or_utc(hb.timezone));
    }
  }
  if (context.target.info.paused) {
    return eval;
  }

  std::optional<Transition> change;
  auto settle = [&](JobState to, TimePoint at, std::string message) {
    if (to != stored) {
      change = Transition{std::max(at, eval.since.value_or(at)), stored, to, std::move(message)};
    }
    eval.state = to;
  };
  if (eval.running && hb.max_runtime.count() > 0 && now - run->started_at >= hb.max_runtime) {
    eval.hung = true;
    settle(JobState::hung, run->started_at + hb.max_runtime,
           fmt::format("run started {} has not finished (max_runtime {})",
                       util::format_age(run->started_at, now),
                       util::format_duration(hb.max_runtime)));
  } else if (eval.next_expected && now >= *eval.next_expected + hb.grace) {
    eval.late = true;
    settle(JobState::late, *eval.next_expected + hb.grace,
           last_start ? fmt::format("expected a run by {} (grace {}); last run started {}",
                                    util::format_rfc3339(*eval.next_expected),
                                    util::format_duration(hb.grace),
                                    util::format_age(*last_start, now))
                      : fmt::format("expected a run by {} (grace {}); it has never run",
                                    util::format_rfc3339(*eval.next_expected),
                                    util::format_duration(hb.grace)));
  } else if (!eval.running && run && run->completed_at) {
    const bool ok = run->status == JobRunStatus::succeeded;
    settle(ok ? JobState::ok : JobState::failed, *run->completed_at,
           ok ? "last run succeeded"
              : fmt::format("last run {}{}", to_string(run->status),
                            run->message.empty() ? "" : ": " + run->message));
  }
  // Otherwise (a run in progress, or nothing known yet) the job keeps its state: a late or
  // failed job is only ok again once a run succeeds.
  if (change) {
    eval.since = change->at;
    eval.transitions.push_back(std::move(*change));
  }
  return eval;
}

BeatWrite start_job_run(const BeatContext& raw, const std::string& command,
                        const std::string& host, int pid, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  BeatWrite write;
  write.state = context.state;
  write.state.last_seen = now;
  write.state.beats = context.state.beats + 1;
  JobRun run;
  run.target_id = context.target.info.id;
  run.started_at = now;
  run.status = JobRunStatus::running;
  run.command = command;
  run.host = host;
  run.pid = pid;
  write.run = std::move(run);
  return write;
}

BeatWrite finish_job_run(const BeatContext& raw, std::int64_t run_id, TimePoint started_at,
                         const RunEnd& end, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  BeatWrite write;
  write.state = context.state;
  JobRun run;
  run.id = run_id;
  run.target_id = context.target.info.id;
  run.started_at = started_at;
  run.completed_at = now;
  run.status = end.status;
  run.exit_code = end.exit_code;
  run.message = end.message;
  run.output_tail = end.output_tail;
  write.run = run;

  // With overlapping runs the job follows its most recently started one (as evaluate_job does):
  // an older run that ends later is recorded, but does not overrule the newer one.
  if (run_id != 0 && context.state.last_run_id && *context.state.last_run_id != run_id) {
    return write;
  }
  const JobState stored = job_state(context.state);
  const bool ok = end.status == JobRunStatus::succeeded;
  const JobState to = ok ? JobState::ok : JobState::failed;
  write.state.last_message = end.message;
  if (to != stored) {
    Transition t{now, stored, to,
                 ok ? "run succeeded"
                    : fmt::format("run {}{}", to_string(end.status),
                                  end.message.empty() ? "" : ": " + end.message)};
    apply_transitions(context, {t}, write, now);
  }
  return write;
}

BeatWrite apply_job_beat(const BeatContext& context, const BeatInput& beat,
                                TimePoint now)
{
  // A run that starts and ends at `now`: run id 0 makes the store insert it already finished.
  BeatContext started = context;
  started.state = start_job_run(context, "", "", 0, now).state;
  RunEnd end;
  end.status = beat.status == BeatStatus::failing ? JobRunStatus::failed : JobRunStatus::succeeded;
  end.message = beat.message;
  BeatWrite write = finish_job_run(started, 0, now, end, now);
  write.state.last_status = beat.status;
  write.state.last_metrics = beat.metrics;
  return write;
}

// --- Both ------------------------------------------------------------------------------------

std::optional<BeatWrite> refresh(const BeatContext& raw, TimePoint now)
{
  std::optional<TimePoint> skewed;
  const BeatContext context = without_future(raw, now, &skewed);
  std::vector<Transition> transitions;
  if (is_job(context)) {
    transitions = evaluate_job(context, now).transitions;
  } else {
    transitions = evaluate_agent(context, now).transitions;
  }
  if (transitions.empty() && !skewed) {
    return std::nullopt;
  }
  BeatWrite write;
  write.state = context.state;
  if (skewed) {
    // Recorded, so that silence counts from now on, and said once.
    Event e;
    e.target_id = context.target.info.id;
    e.at = now;
    e.type = EventType::clock_skew;
    e.old_state = std::string(to_string(context.state.state));
    e.new_state = e.old_state;
    e.message = fmt::format("{}: last {} {}; silence counts from now", context.target.info.id,
                            is_job(context) ? "run" : "beat", skew_text(*skewed, now));
    e.in_grace = in_grace(context, now);
    write.events.push_back(std::move(e));
  }
  if (transitions.empty()) {
    return write;
  }
  if (!is_job(context)) {
    write.state.consecutive_healthy = 0;  // silence breaks a run of healthy beats
  }
  apply_transitions(context, transitions, write, now);
  return write;
}

BeatView view(const BeatContext& raw, int recent_transitions, TimePoint now)
{
  const BeatContext context = without_future(raw, now);
  const auto& hb = settings(context);
  BeatView v;
  v.job = is_job(context);
  v.last_seen = raw.state.last_seen;  // as stored: hb-status says when it is ahead of the clock
  v.last_status = context.state.last_status;
  v.last_message = context.state.last_message;
  v.metrics = context.state.last_metrics;
  v.beats = context.state.beats;
  const bool paused = context.target.info.paused;

  if (v.job) {
    const JobEval eval = evaluate_job(context, now);
    v.state = std::string(to_string(eval.state));
    v.since = eval.since;
    v.health = health::health_of(eval.state);
    v.next_expected = eval.next_expected;
    v.last_run = context.last_run;
    if (eval.running && !eval.hung && !eval.late) {
      v.state = "running";
      if (v.health != Health::healthy && v.health != Health::unknown && !paused) {
        // A run has started since the job went bad: not ok until it succeeds.
        v.health = Health::warning;
        v.issues.push_back({"recovering", Severity::warning,
                            fmt::format("a run is in progress (started {}) after the job was {}",
                                        util::format_age(*eval.running_since, now),
                                        to_string(eval.state))});
      }
    }
    if (!paused) {
      if (eval.late) {
        v.issues.push_back({"late", Severity::alert,
                            eval.transitions.empty() ? "no run started within its grace"
                                                     : eval.transitions.back().message});
      } else if (eval.hung) {
        v.issues.push_back({"hung", Severity::alert,
                            fmt::format("run started {} has not finished (max_runtime {})",
                                        util::format_age(*eval.running_since, now),
                                        util::format_duration(hb.max_runtime))});
      } else if (eval.state == JobState::failed && !eval.running) {
        v.issues.push_back({"failed", Severity::alert,
                            context.last_run && !context.last_run->message.empty()
                              ? context.last_run->message
                              : "last run failed"});
      }
    }
  } else {
    const AgentEval eval = evaluate_agent(context, now);
    v.state = std::string(to_string(eval.state));
    v.since = eval.since;
    v.missed = eval.missed;
    v.health = health::health_of(eval.state);
    if (!paused && hb.every.count() > 0) {
      const auto staleness = health::beat_staleness(context.target, context.state, now);
      if (staleness.stale) {
        v.issues.push_back(
          {"stale", Severity::alert,
           v.last_seen ? fmt::format("no beat for {} (offline_after {} × every {})",
                                     util::format_duration(staleness.silent), hb.offline_after,
                                     util::format_duration(hb.every))
                       : fmt::format("no beat since it appeared {}",
                                     util::format_age(staleness.reference, now))});
      }
      if (eval.state == AgentState::offline && eval.since
          && now - *eval.since >= hb.extended_offline_after) {
        v.issues.push_back({"extended_offline", Severity::alert,
                            fmt::format("offline for {}", util::format_duration(now - *eval.since))});
      }
      if (v.last_status == BeatStatus::degraded) {
        v.issues.push_back({"degraded_performance", Severity::warning,
                            v.last_message.empty() ? "agent reports degraded"
                                                   : "agent reports degraded: " + v.last_message});
      }
    }
  }
  if (!paused && recent_transitions >= hb.flapping_transitions && hb.flapping_transitions > 0) {
    v.issues.push_back({"flapping", Severity::warning,
                        fmt::format("{} state changes within {}", recent_transitions,
                                    util::format_duration(hb.flapping_window))});
  }
  return v;
}

} // namespace hb::agents
