// SPDX-License-Identifier: MIT
#include "status/status.hpp"

#include "agents/beats.hpp"
#include "core/clock.hpp"
#include "core/config_node.hpp"
#include "health/judgement.hpp"
#include "schedule/cron.hpp"
#include "schedule/zone.hpp"
#include "status/figures.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

#include <map>

namespace hb::status {
namespace {

constexpr Duration k_day{24 * 3600'000};

// The exit-code level of a beat view: its health and its issues.
int beat_level(const agents::BeatView& view)
{
  int level = view.health == Health::failing ? 2 : view.health == Health::warning ? 1 : 0;
  for (const auto& issue : view.issues) {
    level = std::max(level, issue.severity == Severity::alert ? 2 : 1);
  }
  return level;
}

std::string beat_message(const agents::BeatView& view)
{
  std::string out;
  for (const auto& issue : view.issues) {
    out += (out.empty() ? "" : "; ") + issue.type + ": " + issue.message;
  }
  if (out.empty() && view.health != Health::healthy && !view.last_message.empty()) {
    out = view.last_message;
  }
  return out;
}

TargetRow make_row(const TargetRecord& record, const TargetState* state,
                   const ExecutionStats* stats, const agents::BeatView* beat, TimePoint now)
{
  TargetRow row;
  row.info = record.info;
  row.retired_at = record.retired_at;
  health::BeatHealth beat_health;
  if (beat != nullptr) {
    beat_health = {beat->health, beat->since};
  }
  const health::Judgement judged =
    health::judge(record, state, beat != nullptr ? &beat_health : nullptr, now);
  row.health = judged.health;
  row.since = judged.since;
  row.stale = judged.staleness.stale;
  if (state != nullptr) {
    row.last_run = state->last_execution_at;
    row.last_status = state->last_status;
    if (state->health != Health::healthy) {
      row.message = state->last_message;
    }
    row.checks = state->checks;
  }
  if (stats != nullptr) {
    row.executions_24h = stats->executions;
    row.failures_24h = stats->failures;
    if (stats->executions > 0) {
      row.failure_rate_24h = static_cast<double>(stats->failures) / stats->executions;
    }
  }
  if (row.stale) {
    const Duration stale_after = judged.staleness.limit;
    const std::string stale_message =
      row.last_run ? fmt::format("stale: last run {} (stale_after {})",
                                 util::format_age(*row.last_run, now),
                                 util::format_duration(stale_after))
                   : fmt::format("stale: never ran since it appeared {} (stale_after {})",
                                 util::format_age(record.first_seen, now),
                                 util::format_duration(stale_after));
    row.message = row.message.empty() ? stale_message : stale_message + "; " + row.message;
  }
  if (beat != nullptr) {
    row.beat = *beat;
    const std::string said = beat_message(*beat);
    if (!said.empty()) {
      row.message = row.message.empty() ? said : said + "; " + row.message;
    }
  }
  return row;
}

// Counts the agent or job of `row` into `counts`.
void count_beat(const TargetRow& row, Counts& counts)
{
  if (!row.beat || row.info.paused) {
    return;
  }
  const auto& v = *row.beat;
  if (v.job) {
    ++counts.jobs;
    if (v.state == "running") {
      ++counts.jobs_running;
    } else if (v.health == Health::failing) {
      ++counts.jobs_failing;
    } else if (v.health == Health::healthy) {
      ++counts.jobs_ok;
    } else {
      ++counts.jobs_unknown;
    }
    return;
  }
  ++counts.agents;
  switch (parse_agent_state(v.state).value_or(AgentState::unknown)) {
  case AgentState::online:
    ++counts.agents_online;
    break;
  case AgentState::degraded:
    ++counts.agents_degraded;
    break;
  case AgentState::offline:
    ++counts.agents_offline;
    break;
  case AgentState::unknown:
    ++counts.agents_unknown;
    break;
  }
}

} // namespace

ExitCode exit_code_for(Health health)
{
  switch (health) {
  case Health::healthy:
    return ExitCode::ok;
  case Health::warning:
    return ExitCode::warning;
  case Health::failing:
    return ExitCode::critical;
  case Health::unknown:
    return ExitCode::unknown;
  }
  return ExitCode::unknown;
}

int problem_level(const TargetRow& row)
{
  if (row.info.paused || row.retired_at) {
    return 0;
  }
  int level = row.stale || row.health == Health::failing ? 2 : row.health == Health::warning ? 1 : 0;
  if (row.beat) {
    level = std::max(level, beat_level(*row.beat));
  }
  return level;
}

namespace {

// What of `report` is dated in the future: the last pulse, the live targets' last runs and
// beats, the tasks' fire times.
std::optional<ClockSkew> find_clock_skew(const StatusReport& report, TimePoint now)
{
  ClockSkew skew;
  auto note = [&](const std::optional<TimePoint>& t) {
    if (!from_the_future(t, now)) {
      return false;
    }
    skew.ahead = std::max(skew.ahead, *t - now);
    return true;
  };
  if (report.pulse.last && note(report.pulse.last->started_at)) {
    skew.found.push_back("the last pulse");
  }
  long long runs = 0;
  long long beats = 0;
  for (const auto& row : report.targets) {
    if (row.retired_at) {
      continue;
    }
    runs += note(row.last_run) ? 1 : 0;
    beats += row.beat && note(row.beat->last_seen) ? 1 : 0;
  }
  long long tasks = 0;
  for (const auto& row : report.schedules) {
    if (row.state) {
      const bool covered = note(row.state->covered_fire);
      const bool pending = note(row.state->pending_fire);
      tasks += covered || pending ? 1 : 0;
    }
  }
  if (runs > 0) {
    skew.found.push_back(runs == 1 ? std::string("1 target's last run")
                                   : fmt::format("{} targets' last runs", runs));
  }
  if (beats > 0) {
    skew.found.push_back(beats == 1 ? std::string("1 agent's or job's last beat")
                                    : fmt::format("{} agents' and jobs' last beats", beats));
  }
  if (tasks > 0) {
    skew.found.push_back(tasks == 1 ? std::string("1 task's fire time")
                                    : fmt::format("{} tasks' fire times", tasks));
  }
  if (skew.found.empty()) {
    return std::nullopt;
  }
  return skew;
}

} // namespace

namespace {

std::optional<RecoveryStatus> collect_recovery(store::Store& store, TimePoint now)
{
  const auto last = store.last_recovery_run();
  const auto states = store.recovery_states();
  if (!last && states.empty()) {
    return std::nullopt;
  }
  RecoveryStatus status;
  status.runs = health::judge_recover_runs(last, now);
  for (const auto& [id, state] : states) {
    if (state.suspended_at) {
      ++status.suspended;
    } else if (state.next_attempt_at || state.failed_attempts > 0) {
      ++status.pending;
    }
  }
  status.last_24h = store.recovery_counts(now - std::chrono::hours(24));
  status.open_escalations = store.open_escalations();
  return status;
}

} // namespace

StatusReport collect(store::Store& store, TimePoint now, std::string database,
                     store::IncludeRetired include_retired)
{
  StatusReport report;
  report.now = now;
  report.database = std::move(database);
  report.pulse = pulse::system_pulse(store, now);

  const auto records = store.targets(include_retired);
  const auto states = store.target_states();
  std::map<std::string, ExecutionStats> stats;
  for (auto& s : store.execution_stats(now - k_day)) {
    stats[s.target_id] = s;
  }
  const auto beats = agents::views(store, now);
  const FigureSources figures(store, now);

  std::vector<TargetRow> retired;
  bool any_data = false;
  bool beat_data = false;
  int worst = 0;
  for (const auto& record : records) {
    auto state_it = states.find(record.info.id);
    auto stats_it = stats.find(record.info.id);
    auto beat_it = beats.find(record.info.id);
    TargetRow row = make_row(record, state_it == states.end() ? nullptr : &state_it->second,
                             stats_it == stats.end() ? nullptr : &stats_it->second,
                             beat_it == beats.end() ? nullptr : &beat_it->second, now);
    row.figures = figures.of(record, row);
    if (row.retired_at) {
      retired.push_back(std::move(row));
      continue;
    }
    count_beat(row, report.counts);
    if (row.beat && !row.info.paused) {
      worst = std::max(worst, beat_level(*row.beat));
      if (row.beat->beats > 0 || row.beat->state != "unknown") {
        any_data = true;
        beat_data = true;
      }
    }
    // The counts are a partition: each target once, paused before stale before its health.
    ++report.counts.targets;
    if (row.info.paused) {
      ++report.counts.paused;
    } else if (row.stale) {
      ++report.counts.stale;
      worst = std::max(worst, 2);
    } else {
      switch (row.health) {
      case Health::healthy:
        ++report.counts.healthy;
        break;
      case Health::warning:
        ++report.counts.warning;
        worst = std::max(worst, 1);
        break;
      case Health::failing:
        ++report.counts.failing;
        worst = std::max(worst, 2);
        break;
      case Health::unknown:
        ++report.counts.unknown;
        break;
      }
    }
    if (row.health != Health::unknown) {
      any_data = true;
    }
    report.targets.push_back(std::move(row));
  }

  report.overall = figures.overall(report.targets);
  for (auto& row : retired) {
    report.targets.push_back(std::move(row));
  }

  const auto schedule_states = store.schedule_states();
  for (const auto& record : store.schedules(store::IncludeRetired::no)) {
    ScheduleRow row;
    row.info = record.info;
    if (auto it = schedule_states.find(record.info.name); it != schedule_states.end()) {
      row.state = it->second;
      const auto& s = it->second;
      // A disabled schedule never runs again, so its last failure no longer counts.
      row.retrying = record.info.enabled && s.pending_fire.has_value();
      row.failing = record.info.enabled && !s.pending_fire
                    && (s.last_status == TaskRunStatus::failed || s.last_status == TaskRunStatus::timed_out);
      if (s.last_status) {
        any_data = true;
      }
    }
    std::string error;
    if (record.info.enabled) {
      if (auto cron = schedule::CronExpr::parse(record.info.cron, error)) {
        const auto* zone = schedule::locate_zone_or_utc(record.info.timezone);
        row.next_run = cron->next_after(now, zone);
        // The rule hb-pulse runs tasks by (schedule::decide_task): the latest fire time is due
        // when it is newer than the last one dealt with and than the schedule itself.
        const auto latest = cron->last_at_or_before(now, zone);
        const TimePoint covered =
          std::max(row.state ? row.state->covered_fire.value_or(record.created_at)
                             : record.created_at,
                   record.created_at);
        const Duration interval =
          report.pulse.last ? report.pulse.last->interval : Duration(5 * 60'000);
        if (!row.retrying && latest && *latest > covered
            && now - *latest > interval + interval / 2) {
          row.overdue_since = latest;
          row.missed_without_pulse =
            !report.pulse.last || report.pulse.last->started_at < *latest;
        }
        if (row.retrying && row.state->retry_at
            && (!row.next_run || *row.state->retry_at < *row.next_run)) {
          row.next_run = row.state->retry_at;
        }
      }
    }
    if (row.failing) {
      worst = std::max(worst, 2);
    } else if (row.retrying) {
      worst = std::max(worst, 1);
    }
    report.schedules.push_back(std::move(row));
  }

  report.clock_skew = find_clock_skew(report, now);
  report.channels = store.channel_health(now - std::chrono::hours(24));
  report.recovery = collect_recovery(store, now);
  // hb-recover ran, and the scheduler stopped running it (or its last run failed): a warning.
  if (report.recovery && (report.recovery->runs.state == health::RecoverRunsState::stale
                          || report.recovery->runs.state == health::RecoverRunsState::error)) {
    worst = std::max(worst, 1);
  }

  if (report.pulse.state == pulse::PulseState::warning
      || report.pulse.state == pulse::PulseState::error) {
    worst = std::max(worst, 2);
  }
  // Beats arrive without any pulse; everything else is only known once hb-pulse has run (a
  // narrowed or forced pulse leaves the system pulse unknown, but its results count).
  if (report.pulse.state == pulse::PulseState::unknown && !report.pulse.running && !beat_data
      && !store.last_pulse(store::PulseScope::any)) {
    report.exit_code = ExitCode::unknown;
  } else if (!any_data && worst == 0) {
    report.exit_code = ExitCode::unknown;
  } else {
    report.exit_code = static_cast<ExitCode>(worst);
  }
  return report;
}

TargetDetail collect_target(store::Store& store, const std::string& target_id, TimePoint now,
                            int recent_limit)
{
  const auto records = store.targets(store::IncludeRetired::yes);
  const TargetRecord* record = nullptr;
  std::vector<std::string_view> ids;
  for (const auto& r : records) {
    ids.push_back(r.info.id);
    if (r.info.id == target_id) {
      record = &r;
    }
  }
  if (record == nullptr) {
    const std::string suggestion = closest_match(target_id, ids);
    throw DataError(fmt::format("unknown target \"{}\"{}", target_id,
                                suggestion.empty()
                                  ? std::string(" (hb-status lists the known targets)")
                                  : fmt::format(" (did you mean \"{}\"?)", suggestion)));
  }

  TargetDetail detail;
  detail.now = now;
  detail.first_seen = record->first_seen;
  const auto state = store.target_state(target_id);
  ExecutionStats stats;
  for (auto& s : store.execution_stats(now - k_day, target_id)) {
    stats = s;
  }
  const auto beats = record->retired_at ? std::map<std::string, agents::BeatView>()
                                         : agents::views(store, now);
  auto beat_it = beats.find(target_id);
  detail.row = make_row(*record, state ? &*state : nullptr, &stats,
                        beat_it == beats.end() ? nullptr : &beat_it->second, now);
  const FigureSources figures(store, now, target_id);
  detail.row.figures = figures.of(*record, detail.row);
  detail.incidents = figures.incidents_of(target_id);
  detail.recent = store.recent_executions(target_id, recent_limit, store::WithResults::yes);
  detail.events = store.recent_events(target_id, 10);
  detail.notifications = store.recent_notifications(target_id, 10);
  if (const auto states = store.recovery_states(); states.count(target_id)) {
    detail.recovery = states.at(target_id);
  }
  detail.attempts = store.recent_recovery_attempts(target_id, recent_limit);
  detail.escalations = store.recent_escalations(target_id, 5);
  if (detail.row.beat) {
    if (detail.row.beat->job) {
      detail.runs = store.recent_job_runs(target_id, recent_limit);
    } else {
      detail.beats = store.recent_beats(target_id, recent_limit);
    }
  }

  for (const auto& info : record->info.checks) {
    CheckDetail check;
    check.info = info;
    if (state) {
      for (const auto& cs : state->checks) {
        if (cs.check_name == info.name) {
          check.state = cs;
        }
      }
    }
    for (const auto& execution : detail.recent) {
      for (const auto& result : execution.results) {
        if (result.check_name == info.name) {
          check.last_result = result;
          check.last_run = execution.started_at;
          break;
        }
      }
      if (check.last_result) {
        break;
      }
    }
    detail.checks.push_back(std::move(check));
  }
  if (record->retired_at) {
    // No longer monitored: nothing to alert on, and no health to vouch for.
    detail.exit_code = ExitCode::unknown;
    return detail;
  }
  detail.exit_code = detail.row.stale ? ExitCode::critical : exit_code_for(detail.row.health);
  if (detail.row.beat && !detail.row.info.paused && detail.exit_code != ExitCode::critical) {
    const int level = beat_level(*detail.row.beat);
    if (level > 0 && (detail.exit_code == ExitCode::unknown
                      || level > static_cast<int>(detail.exit_code))) {
      detail.exit_code = static_cast<ExitCode>(level);
    }
  }
  return detail;
}

} // namespace hb::status
