// SPDX-License-Identifier: MIT
// Findings about targets: why each unhealthy one is unhealthy, causes shared by several, latency
// against the target's own baseline, flapping.
#include "diagnose/causes.hpp"
#include "diagnose/parts.hpp"
#include "pulse/system_state.hpp"
#include "recovery/assess.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

namespace hb::diagnose::parts {
namespace {

// How many failing results of one check a diagnosis groups by cause at most (the newest).
constexpr int k_failures_read = 500;

bool live(const status::TargetRow& row) { return !row.retired_at && !row.info.paused; }

std::string shown(Duration d) { return util::format_duration(d); }

// One check's failures in the window, grouped by cause.
struct CheckHistory {
  int runs = 0;
  int failures = 0;
  int classified = 0;  // the failures grouped: the newest k_failures_read
  std::map<CauseKind, int> causes;
  std::map<CauseKind, std::string> labels;
  std::optional<CheckResultRecord> last_failure;  // the newest
  std::optional<TimePoint> last_failure_at;       // its execution's start
};

std::map<std::string, CheckHistory> histories(const std::vector<store::CheckFailures>& checks)
{
  std::map<std::string, CheckHistory> out;
  for (const store::CheckFailures& check : checks) {
    CheckHistory& history = out[check.check_name];
    history.runs = check.runs;
    history.failures = check.failures;
    for (const auto& [at, result] : check.newest) {
      const Cause cause = classify(result);
      ++history.causes[cause.kind];
      ++history.classified;
      history.labels.emplace(cause.kind, cause.label);
      if (!history.last_failure) {
        history.last_failure = result;
        history.last_failure_at = at;
      }
    }
  }
  return out;
}

std::string beat_advice(const agents::BeatView& beat)
{
  if (!beat.job) {
    if (beat.state == "degraded") {
      return "The agent says it is degraded: read its last message and metrics (hb-status ID).";
    }
    return "The agent stopped sending beats: check that it runs on its host (systemctl status, "
           "its logs) and that it can still reach heartbeat (hb-beat's exit code in its log).";
  }
  if (beat.state == "late") {
    return "The job did not start on schedule: check the scheduler that runs it (crontab, timer) "
           "and that its host is up.";
  }
  if (beat.state == "hung") {
    return "The job is still running past its max_runtime: look at the process (ps, its log) "
           "and kill it if it is stuck.";
  }
  return "The job's last run failed: read its output tail (hb-status ID) and run it by hand.";
}

void beat_finding(const Context& context, const status::TargetRow& row, Findings& out)
{
  const agents::BeatView& beat = *row.beat;
  if (beat.health != Health::failing && beat.health != Health::warning) {
    return;
  }
  const TimePoint now = context.inputs.now;
  Finding f;
  // The state names the finding (agent.offline, job.late, ...); an issue the beats report while
  // the state itself is fine is agent.issue or job.issue.
  const bool bad_state = beat.job ? (beat.state == "failed" || beat.state == "late" ||
                                     beat.state == "hung")
                                  : (beat.state == "offline" || beat.state == "degraded");
  f.id = fmt::format("{}.{}", beat.job ? "job" : "agent", bad_state ? beat.state : "issue");
  f.severity = beat.health == Health::failing ? Level::critical : Level::warning;
  f.target = row.info.id;
  f.title = fmt::format("{} \"{}\" is {}", beat.job ? "Job" : "Agent", row.info.id, beat.state);
  if (beat.since) {
    f.evidence.push_back(fmt::format("{} since {}", beat.state, when(*beat.since, now)));
  }
  f.evidence.push_back(beat.last_seen ? fmt::format("last beat {}", when(*beat.last_seen, now))
                                      : std::string("no beat ever received"));
  if (beat.missed > 0) {
    f.evidence.push_back(fmt::format("{} expected beats missed", beat.missed));
  }
  if (beat.last_run) {
    f.evidence.push_back(fmt::format(
      "last run started {}: {}{}", when(beat.last_run->started_at, now),
      to_string(beat.last_run->status),
      beat.last_run->exit_code ? fmt::format(", exit code {}", *beat.last_run->exit_code) : ""));
  }
  if (!beat.last_message.empty()) {
    f.evidence.push_back(fmt::format("last message: {}", beat.last_message));
  }
  for (const agents::Issue& issue : beat.issues) {
    f.evidence.push_back(fmt::format("{}: {}", issue.type, issue.message));
  }
  f.recommendation = beat_advice(beat);
  out.push_back(std::move(f));
}

void stale_finding(const Context& context, const status::TargetRow& row, Findings& out)
{
  const TimePoint now = context.inputs.now;
  Finding f{"target.stale", Level::critical, row.info.id, "",
            fmt::format("Target \"{}\" has not been checked for too long", row.info.id), {}, {}};
  f.evidence.push_back(row.last_run ? fmt::format("last execution {}", when(*row.last_run, now))
                                    : std::string("never executed"));
  f.evidence.push_back(fmt::format("stale after {} (stale_after); interval {}",
                                   shown(row.info.stale_after), shown(row.info.interval)));
  if (!row.info.active_hours.empty()) {
    f.evidence.push_back(fmt::format("active hours {} ({})", row.info.active_hours,
                                     row.info.timezone));
  }
  const bool pulse_alive = context.overview.pulse.state == pulse::PulseState::alive;
  f.recommendation =
    pulse_alive ? "The pulse runs but does not run this target: check its interval and active "
                  "hours, and whether its checks keep being cut off (hb-pulse --target ID "
                  "--force -v runs it now)."
                : "The pulse is not running (see scheduler.*): fix the scheduler first.";
  out.push_back(std::move(f));
}

void check_findings(const Context& context, const status::TargetRow& row, Findings& out)
{
  const TimePoint now = context.inputs.now;
  std::vector<const CheckState*> bad;
  for (const CheckState& state : row.checks) {
    if (state.last_status != CheckStatus::ok || state.confirmed != CheckStatus::ok) {
      bad.push_back(&state);
    }
  }
  // A last execution that did not come out clear while every check state is: its results were
  // not observations (cut off at the pulse deadline, an error on our side). Its checks are
  // explained too, as warnings.
  const bool unclear_last = row.last_status && *row.last_status != ExecStatus::all_clear;
  if (bad.empty() && !unclear_last) {
    return;
  }
  const auto by_check =
    histories(context.store.check_failures(row.info.id, context.since, k_failures_read));
  if (unclear_last && row.last_run) {
    for (const CheckState& state : row.checks) {
      const auto found = by_check.find(state.check_name);
      if (std::find(bad.begin(), bad.end(), &state) == bad.end() && found != by_check.end() &&
          found->second.last_failure_at == row.last_run) {
        bad.push_back(&state);
      }
    }
  }
  for (const CheckState* state : bad) {
    const auto found = by_check.find(state->check_name);
    CheckHistory history = found != by_check.end() ? found->second : CheckHistory{};
    // The main cause: the most frequent in the window; the last result's when none was kept.
    CauseKind kind = CauseKind::other;
    std::string label = "failed";
    if (!history.causes.empty()) {
      const auto top = std::max_element(history.causes.begin(), history.causes.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
      kind = top->first;
      label = history.labels[kind];
    }
    const bool critical = state->confirmed == CheckStatus::alert ||
                          state->confirmed == CheckStatus::error;
    Finding f;
    f.id = check_finding_id(kind);
    f.severity = critical ? Level::critical : Level::warning;
    f.target = row.info.id;
    f.check = state->check_name;
    f.title = fmt::format("{}: check \"{}\" fails: {}", row.info.id, state->check_name, label);
    if (state->bad_since) {
      f.evidence.push_back(fmt::format("failing since {}; {} in a row",
                                       when(*state->bad_since, now), state->consecutive_failures));
    }
    f.evidence.push_back(fmt::format("{} runs failed in the last {}",
                                     percent(history.failures, history.runs),
                                     shown(context.inputs.window)));
    if (!history.causes.empty()) {
      std::string causes;
      for (const auto& [cause, count] : history.causes) {
        causes += fmt::format("{}{}× {}", causes.empty() ? "" : ", ", count, history.labels[cause]);
      }
      f.evidence.push_back(history.classified < history.failures
                             ? fmt::format("causes of the newest {}: {}", history.classified,
                                           causes)
                             : fmt::format("causes: {}", causes));
    }
    const std::string& message =
      history.last_failure ? history.last_failure->message : state->last_message;
    if (!message.empty()) {
      f.evidence.push_back(fmt::format("{}: {}", kind == CauseKind::exit_code ? "the plugin said"
                                                                              : "last message",
                                       message));
    }
    for (const CheckInfo& info : row.info.checks) {
      if (info.name == state->check_name && !info.description.empty()) {
        f.evidence.push_back(fmt::format("probe: {}", info.description));
      }
    }
    if (kind == CauseKind::deadline && context.overview.pulse.last) {
      f.evidence.push_back(fmt::format("pulse deadline {}",
                                       shown(context.overview.pulse.last->deadline)));
    }
    f.recommendation = advice_for(kind);
    out.push_back(std::move(f));
  }
}

// Median of `values` (not empty); reorders them.
double median(std::vector<double>& values)
{
  const std::size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle),
                   values.end());
  double m = values[middle];
  if (values.size() % 2 == 0) {
    m = (m + *std::max_element(values.begin(), values.begin() +
                                                 static_cast<std::ptrdiff_t>(middle))) / 2.0;
  }
  return m;
}

} // namespace

void failing_targets(const Context& context, Findings& out)
{
  for (const status::TargetRow& row : context.overview.targets) {
    if (!live(row) || !context.wanted(row.info.id)) {
      continue;
    }
    if (row.stale) {
      stale_finding(context, row, out);
    }
    if (row.beat) {
      beat_finding(context, row, out);
    }
    check_findings(context, row, out);
  }
}

void shared_causes(const Context& context, Findings& out)
{
  const int minimum =
    context.inputs.config != nullptr ? context.inputs.config->recovery.shared_cause_min : 3;
  struct Group {
    std::vector<std::string> targets;
    std::string endpoint;
    std::string example;
    std::optional<TimePoint> since;
  };
  std::map<std::string, Group> groups;
  for (const status::TargetRow& row : context.overview.targets) {
    if (!live(row) || row.health != Health::failing || row.checks.empty()) {
      continue;
    }
    // The first failing check in config order decides the target's cause, as hb-recover does.
    for (const CheckState& state : row.checks) {
      if (state.confirmed == CheckStatus::ok) {
        continue;
      }
      const auto last = context.store.recent_executions(row.info.id, 1, store::WithResults::yes);
      if (last.empty()) {
        break;
      }
      for (const CheckResultRecord& result : last.front().results) {
        if (result.check_name != state.check_name) {
          continue;
        }
        std::string endpoint;
        for (const CheckInfo& info : row.info.checks) {
          if (info.name == result.check_name) {
            endpoint = recovery::endpoint_of(info.description);
          }
        }
        const std::string key = recovery::cause_key(result.phase, result.message, endpoint);
        if (key.empty()) {
          break;
        }
        Group& group = groups[key];
        group.targets.push_back(row.info.id);
        group.endpoint = endpoint;
        group.example = result.message;
        if (state.bad_since && (!group.since || *state.bad_since < *group.since)) {
          group.since = state.bad_since;
        }
      }
      break;
    }
  }
  for (const auto& [key, group] : groups) {
    if (static_cast<int>(group.targets.size()) < minimum ||
        (!context.inputs.target.empty() &&
         std::find(group.targets.begin(), group.targets.end(), context.inputs.target) ==
           group.targets.end())) {
      continue;
    }
    const std::string dependency = group.endpoint.empty() ? key : group.endpoint;
    Finding f{"shared.cause", Level::critical, "", "",
              fmt::format("{} targets fail alike: a shared dependency ({}) is down",
                          group.targets.size(), dependency),
              {}, {}};
    f.evidence.push_back(fmt::format("failing alike: {}", fmt::join(group.targets, ", ")));
    f.evidence.push_back(fmt::format("common cause: {}", key));
    f.evidence.push_back(fmt::format("e.g. {}", group.example));
    if (group.since) {
      f.evidence.push_back(fmt::format("first failure {}", when(*group.since, context.inputs.now)));
    }
    f.recommendation = fmt::format(
      "Do not restart the targets one by one: they all depend on {}. Fix that dependency; "
      "hb-recover escalates a shared cause once (recovery.shared_cause_min = {}) instead of "
      "restarting each target.",
      dependency, minimum);
    out.push_back(std::move(f));
  }
}

void latency(const Context& context, Findings& out)
{
  const TimePoint now = context.inputs.now;
  const TimePoint this_hour = util::from_unix_ms(util::to_unix_ms(now) / 3'600'000 * 3'600'000);
  const TimePoint recent_from = this_hour - std::chrono::hours(1);
  // The last two hourly roll-ups first (cheap): an anomaly needs the last hour's median at least
  // 100 ms over the baseline, and a median is at most twice the mean (Markov), so a target whose
  // recent mean is under 50 ms cannot have one. The 7-day baseline is read only when some
  // target is a candidate.
  struct Recent {
    long long runs = 0;
    long long sum_ms = 0;
  };
  std::map<std::string, Recent> candidates;
  for (const auto& [id, hours] : context.store.hourly_tallies(recent_from, now)) {
    Recent recent;
    for (const auto& [hour, tally] : hours) {
      recent.runs += tally.runs;
      recent.sum_ms += tally.latency_sum_ms;
    }
    if (recent.runs >= 3 && recent.sum_ms >= 50 * recent.runs) {
      candidates.emplace(id, recent);
    }
  }
  if (candidates.empty()) {
    return;
  }
  const auto hourly = context.store.hourly_tallies(now - std::chrono::hours(24 * 7), recent_from);
  for (const status::TargetRow& row : context.overview.targets) {
    if (!live(row) || row.beat || !context.wanted(row.info.id)) {
      continue;
    }
    const auto candidate = candidates.find(row.info.id);
    const auto found = hourly.find(row.info.id);
    if (candidate == candidates.end() || found == hourly.end()) {
      continue;
    }
    std::vector<double> baseline;  // log of each hour's mean wall time
    for (const auto& [hour, tally] : found->second) {
      if (tally.runs > 0) {
        baseline.push_back(std::log(std::max(1.0, static_cast<double>(tally.latency_sum_ms) /
                                                     static_cast<double>(tally.runs))));
      }
    }
    // Enough samples: a day of hourly means for the baseline.
    if (baseline.size() < 24) {
      continue;
    }
    const double center = median(baseline);
    std::vector<double> deviations;
    for (const double v : baseline) {
      deviations.push_back(std::fabs(v - center));
    }
    const double mad = std::max(median(deviations), 0.05);
    const double typical_ms = std::exp(center);
    const Recent& recent = candidate->second;
    if (static_cast<double>(recent.sum_ms) / static_cast<double>(recent.runs) < 1.5 * typical_ms) {
      continue;
    }
    std::vector<double> last_hour;
    for (const ExecutionRecord& e :
         context.store.recent_executions(row.info.id, 240, store::WithResults::no)) {
      if (e.started_at < now - std::chrono::hours(1)) {
        break;
      }
      last_hour.push_back(static_cast<double>((e.completed_at - e.started_at).count()));
    }
    if (last_hour.size() < 3) {
      continue;
    }
    const std::size_t samples = last_hour.size();
    const double recent_ms = std::max(1.0, median(last_hour));
    const double z = 0.6745 * (std::log(recent_ms) - center) / mad;
    if (z < 3.5 || recent_ms < 1.5 * typical_ms || recent_ms - typical_ms < 100.0) {
      continue;
    }
    Finding f{"latency.anomaly", Level::warning, row.info.id, "",
              fmt::format("{} is {:.1f}× slower than its usual", row.info.id,
                          recent_ms / typical_ms),
              {}, {}};
    f.evidence.push_back(fmt::format("last hour: median {} over {} runs",
                                     shown(Duration(static_cast<Duration::rep>(recent_ms))),
                                     samples));
    f.evidence.push_back(fmt::format("7-day baseline: median {} of {} hourly means",
                                     shown(Duration(static_cast<Duration::rep>(typical_ms))),
                                     baseline.size()));
    f.evidence.push_back(fmt::format("robust z-score {:.1f} on log latency (anomaly at 3.5)", z));
    f.recommendation = "Slower than usual, though its checks may still pass: look at the "
                       "service's load, its own dependencies and recent deployments before it "
                       "crosses its timeout.";
    out.push_back(std::move(f));
  }
}

void flapping(const Context& context, Findings& out)
{
  const std::vector<EventType> types = {
    EventType::failing,      EventType::warning,        EventType::recovered,
    EventType::agent_online, EventType::agent_degraded, EventType::agent_offline,
    EventType::job_ok,       EventType::job_recovered,  EventType::job_failed,
    EventType::job_late,     EventType::job_hung};
  const auto counts = context.store.count_events(context.since, types);
  for (const status::TargetRow& row : context.overview.targets) {
    // Flapping is many changes close together: the agent's own rule (flapping_transitions
    // within flapping_window), and for checks the same default, 5 changes within an hour.
    const int needed = row.info.heartbeat ? row.info.heartbeat->flapping_transitions : 5;
    const Duration span = row.info.heartbeat ? row.info.heartbeat->flapping_window
                                             : Duration(3'600'000);
    const auto found = counts.find(row.info.id);
    if (!live(row) || !context.wanted(row.info.id) || found == counts.end() ||
        found->second < needed || needed < 2) {
      continue;
    }
    std::vector<Event> changes;  // newest first
    // The changes counted, and room for the other events of the window (reminders).
    for (Event& event : context.store.recent_events(row.info.id, 2 * found->second + 20)) {
      if (event.at < context.since) {
        break;
      }
      if (std::find(types.begin(), types.end(), event.type) != types.end() &&
          event.old_state != "unknown") {
        changes.push_back(std::move(event));
      }
    }
    // The densest stretch: most changes within `span`.
    int densest = 0;
    std::size_t densest_from = 0;
    for (std::size_t i = 0, j = 0; i < changes.size(); ++i) {
      while (changes[j].at - changes[i].at > span) {
        ++j;
      }
      if (static_cast<int>(i - j + 1) > densest) {
        densest = static_cast<int>(i - j + 1);
        densest_from = j;
      }
    }
    if (densest < needed) {
      continue;
    }
    Finding f{row.beat ? "agent.flapping" : "target.flapping", Level::warning, row.info.id, "",
              fmt::format("{} is flapping: {} changes of state within {}", row.info.id, densest,
                          shown(span)),
              {}, {}};
    std::string listed;
    for (std::size_t k = densest_from; k < densest_from + static_cast<std::size_t>(densest) &&
                                       k < densest_from + 12;
         ++k) {
      listed += fmt::format("{}{} {}", listed.empty() ? "" : ", ",
                            util::format_rfc3339(changes[k].at), to_string(changes[k].type));
    }
    f.evidence.push_back(fmt::format("{} changes of state in the last {}", changes.size(),
                                     shown(context.inputs.window)));
    f.evidence.push_back(fmt::format("densest (newest first): {}", listed));
    f.recommendation =
      row.beat ? "The agent comes and goes: look at its host's network and restarts; a longer "
                 "\"grace\" or \"offline_after\" rides out short gaps."
               : "The target alternates between failing and healthy: look for an intermittent "
                 "cause (load peaks, a flaky dependency); \"confirm\" and \"recover_after\" on "
                 "the check smooth out single blips.";
    out.push_back(std::move(f));
  }
}

} // namespace hb::diagnose::parts
