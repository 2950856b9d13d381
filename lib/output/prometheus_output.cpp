// SPDX-License-Identifier: MIT
#include "output/prometheus_output.hpp"

#include "checks/perfdata.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace hb::output {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

// One metric family: printed with its # HELP and # TYPE when it has at least one sample, so
// that no family is announced empty.
class Family {
public:
  Family(std::string_view name, std::string_view type, std::string_view help)
    : m_name(name), m_type(type), m_help(help)
  {
  }

  void add(const Labels& labels, const std::string& value)
  {
    std::string line(m_name);
    if (!labels.empty()) {
      line += '{';
      bool first = true;
      for (const auto& [label, text] : labels) {
        line += fmt::format("{}{}=\"{}\"", first ? "" : ",", label, prometheus_label_value(text));
        first = false;
      }
      line += '}';
    }
    line += ' ';
    line += value;
    line += '\n';
    m_samples += line;
  }

  void print(std::string& out) const
  {
    if (m_samples.empty()) {
      return;
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", m_name, m_help, m_name, m_type);
    out += m_samples;
  }

private:
  std::string_view m_name;
  std::string_view m_type;
  std::string_view m_help;
  std::string m_samples;
};

std::string number(long long value) { return std::to_string(value); }

std::string number(double value) { return fmt::format("{}", value); }

// Unix time in seconds, to the millisecond the store keeps.
std::string seconds(TimePoint t)
{
  const std::int64_t ms = util::to_unix_ms(t);
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000);
  }
  return fmt::format("{}", static_cast<double>(ms) / 1000.0);
}

std::string seconds(Duration d) { return fmt::format("{}", static_cast<double>(d.count()) / 1000.0); }

// The state of a live target as the counts partition them: paused, then stale, then health.
std::string_view state_of(const status::TargetRow& row)
{
  if (row.info.paused) {
    return "paused";
  }
  if (row.stale) {
    return "stale";
  }
  return to_string(row.health);
}

// Nagios-style: 0 OK, 1 WARNING, 2 CRITICAL (alert), 3 UNKNOWN (the check could not run).
long long check_code(CheckStatus status)
{
  switch (status) {
  case CheckStatus::ok:
    return 0;
  case CheckStatus::warning:
    return 1;
  case CheckStatus::alert:
    return 2;
  case CheckStatus::error:
    return 3;
  }
  return 3;
}

bool has_check(const TargetInfo& info, const std::string& name)
{
  for (const auto& check : info.checks) {
    if (check.name == name) {
      return true;
    }
  }
  return false;
}

} // namespace

std::string prometheus_label_value(std::string_view value)
{
  const std::string clean = checks::sanitize_text(value, checks::KeepNewlines::yes);
  std::string out;
  out.reserve(clean.size());
  for (const char c : clean) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += ' ';
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string status_to_prometheus(const status::StatusReport& report)
{
  Family build("hb_build_info", "gauge", "Version of hb-status that wrote these metrics (always 1).");
  build.add({{"version", HB_VERSION}}, "1");

  Family exit_code("hb_status_exit_code", "gauge",
                   "What hb-status exits with, Nagios convention: 0 ok, 1 warning, 2 critical, 3 "
                   "unknown.");
  exit_code.add({}, number(static_cast<long long>(report.exit_code)));
  Family now("hb_status_timestamp_seconds", "gauge", "Unix time the status was computed at.");
  now.add({}, seconds(report.now));

  Family pulse_state("hb_pulse_state", "gauge",
                     "The system pulse state (alive, warning, error, unknown): 1 for the current one.");
  pulse_state.add({{"state", std::string(pulse::to_string(report.pulse.state))}}, "1");
  Family pulse_run("hb_pulse_last_run_timestamp_seconds", "gauge",
                   "Unix time the last scheduled hb-pulse run started.");
  Family pulse_success("hb_pulse_last_success_timestamp_seconds", "gauge",
                       "Unix time the last scheduled hb-pulse run completed, when it succeeded.");
  if (const auto& last = report.pulse.last) {
    pulse_run.add({}, seconds(last->started_at));
    if (last->status == PulseStatus::ok) {
      pulse_success.add({}, seconds(last->completed_at.value_or(last->started_at)));
    }
  }
  Family skew("hb_clock_skew_seconds", "gauge",
              "How far the latest stored time is ahead of the clock (0 without clock skew).");
  skew.add({}, report.clock_skew ? seconds(report.clock_skew->ahead) : "0");

  const auto& c = report.counts;
  Family targets("hb_targets", "gauge",
                 "Live targets by state (healthy, warning, failing, unknown, stale, paused); each "
                 "target counts once.");
  for (const auto& [state, n] : {std::pair<std::string, int>{"healthy", c.healthy},
                                 {"warning", c.warning},
                                 {"failing", c.failing},
                                 {"unknown", c.unknown},
                                 {"stale", c.stale},
                                 {"paused", c.paused}}) {
    targets.add({{"state", state}}, number(static_cast<long long>(n)));
  }
  Family agents("hb_agents", "gauge", "Agents (not paused) by state.");
  for (const auto& [state, n] : {std::pair<std::string, int>{"online", c.agents_online},
                                 {"degraded", c.agents_degraded},
                                 {"offline", c.agents_offline},
                                 {"unknown", c.agents_unknown}}) {
    agents.add({{"state", state}}, number(static_cast<long long>(n)));
  }
  Family jobs("hb_jobs", "gauge", "Jobs (not paused) by state; failing is failed, late or hung.");
  for (const auto& [state, n] : {std::pair<std::string, int>{"ok", c.jobs_ok},
                                 {"running", c.jobs_running},
                                 {"failing", c.jobs_failing},
                                 {"unknown", c.jobs_unknown}}) {
    jobs.add({{"state", state}}, number(static_cast<long long>(n)));
  }

  Family info("hb_target_info", "gauge", "A live target with its name (always 1).");
  Family state("hb_target_state", "gauge",
               "The target's state (healthy, warning, failing, unknown, stale, paused): 1 for the "
               "current one.");
  Family up("hb_target_up", "gauge",
            "1 if the target is healthy or warning, 0 if failing or stale; absent while unknown "
            "or paused.");
  Family last_run("hb_target_last_run_timestamp_seconds", "gauge",
                  "Unix time the target's last execution started.");
  Family last_beat("hb_target_last_beat_timestamp_seconds", "gauge",
                   "Unix time an agent or job was last heard from.");
  Family score("hb_target_health_score", "gauge",
               "The target's health score, 0-100 (docs/health.md); absent without data.");
  Family uptime("hb_target_uptime_ratio", "gauge",
                "Fraction (0-1) of the target's observations that were up over the window.");
  Family check("hb_check_status", "gauge",
               "Status of the check's last result: 0 ok, 1 warning, 2 critical, 3 unknown (could "
               "not run).");
  Family latency("hb_check_latency_seconds", "gauge",
                 "How long the check's last observed run took, in seconds.");
  Family agent_state("hb_agent_state", "gauge",
                     "The agent's state (online, degraded, offline, unknown): 1 for the current one.");
  Family job_state("hb_job_state", "gauge",
                   "The job's state (ok, running, failed, late, hung, unknown): 1 for the current "
                   "one.");

  for (const auto& row : report.targets) {
    if (row.retired_at) {
      continue;
    }
    const std::string kind(to_string(row.info.kind));
    const Labels target{{"target", row.info.id}, {"kind", kind}};
    info.add({{"target", row.info.id}, {"kind", kind}, {"name", row.info.name}}, "1");
    const std::string_view current = state_of(row);
    state.add({{"target", row.info.id}, {"kind", kind}, {"state", std::string(current)}}, "1");
    if (current == "healthy" || current == "warning") {
      up.add(target, "1");
    } else if (current == "failing" || current == "stale") {
      up.add(target, "0");
    }
    if (row.last_run) {
      last_run.add(target, seconds(*row.last_run));
    }
    if (row.beat && row.beat->last_seen) {
      last_beat.add(target, seconds(*row.beat->last_seen));
    }
    if (row.figures.score) {
      score.add(target, number(row.figures.score->value));
    }
    for (const auto& [window, value] : {std::pair<std::string, std::optional<double>>{
                                          "24h", row.figures.uptime.day},
                                        {"7d", row.figures.uptime.week},
                                        {"30d", row.figures.uptime.month}}) {
      if (value) {
        uptime.add({{"target", row.info.id}, {"kind", kind}, {"window", window}}, number(*value));
      }
    }
    for (const auto& cs : row.checks) {
      // A check removed from the config keeps its stored state until the target runs again.
      if (has_check(row.info, cs.check_name)) {
        check.add({{"target", row.info.id}, {"check", cs.check_name}},
                  number(check_code(cs.last_status)));
        latency.add({{"target", row.info.id}, {"check", cs.check_name}},
                    number(static_cast<double>(cs.last_latency.count()) / 1000));
      }
    }
    if (row.beat && !row.info.paused) {
      (row.beat->job ? job_state : agent_state)
        .add({{"target", row.info.id}, {"state", row.beat->state}}, "1");
    }
  }

  Family fleet_score("hb_health_score", "gauge",
                     "Mean health score (0-100) of the live targets that have one.");
  if (report.overall.score) {
    fleet_score.add({}, number(report.overall.score->value));
  }
  Family fleet_uptime("hb_uptime_ratio", "gauge",
                      "Fraction (0-1) of all live targets' observations that were up over the "
                      "window.");
  for (const auto& [window, value] :
       {std::pair<std::string, std::optional<double>>{"24h", report.overall.uptime.day},
        {"7d", report.overall.uptime.week},
        {"30d", report.overall.uptime.month}}) {
    if (value) {
      fleet_uptime.add({{"window", window}}, number(*value));
    }
  }

  Family pending("hb_notifications_pending", "gauge",
                 "Notifications waiting for delivery or a retry, per channel.");
  Family held("hb_notifications_held", "gauge", "Notifications held in quiet hours, per channel.");
  Family sent("hb_notifications_sent_24h", "gauge",
              "Notifications delivered in the last 24 hours, per channel (a sliding window, not a "
              "counter).");
  Family failed_total("hb_notifications_failed_total", "counter",
                      "Notifications given up on since the database was created, per channel.");
  Family failed("hb_notifications_failed_24h", "gauge",
                "Notifications given up on in the last 24 hours, per channel (a sliding window, "
                "not a counter).");
  for (const auto& ch : report.channels) {
    const Labels channel{{"channel", ch.channel}};
    pending.add(channel, number(static_cast<long long>(ch.pending)));
    held.add(channel, number(static_cast<long long>(ch.held)));
    sent.add(channel, number(static_cast<long long>(ch.sent)));
    failed.add(channel, number(static_cast<long long>(ch.failed)));
    failed_total.add(channel, number(ch.failed_total));
  }

  Family recover_state("hb_recover_state", "gauge",
                       "Whether the scheduler still runs hb-recover (alive, stale, error, unknown: "
                       "never ran): 1 for the current one.");
  Family recover_run("hb_recover_last_run_timestamp_seconds", "gauge",
                     "Unix time the last hb-recover run started.");
  Family recover_success("hb_recover_last_success_timestamp_seconds", "gauge",
                         "Unix time the last hb-recover run completed, when it succeeded.");
  Family recover_pending("hb_recover_pending_targets", "gauge",
                         "Targets hb-recover will try again after a backoff.");
  Family recover_suspended("hb_recover_suspended_targets", "gauge",
                           "Targets whose restart budget is spent.");
  Family escalations("hb_recover_open_escalations", "gauge", "Escalations not yet resolved.");
  Family attempts("hb_recover_attempts_24h", "gauge",
                  "hb-recover attempts that ended in the last 24 hours, by outcome (a sliding "
                  "window, not a counter).");
  const auto& recovery = report.recovery;
  recover_state.add(
    {{"state", std::string(health::to_string(recovery ? recovery->runs.state
                                                      : health::RecoverRunsState::unknown))}},
    "1");
  if (recovery && recovery->runs.last) {
    const auto& last = *recovery->runs.last;
    recover_run.add({}, seconds(last.started_at));
    if (last.status == RecoveryRunStatus::ok) {
      recover_success.add({}, seconds(last.completed_at.value_or(last.started_at)));
    }
  }
  recover_pending.add({}, number(static_cast<long long>(recovery ? recovery->pending : 0)));
  recover_suspended.add({}, number(static_cast<long long>(recovery ? recovery->suspended : 0)));
  escalations.add({}, number(static_cast<long long>(
                        recovery ? recovery->open_escalations.size() : 0)));
  const RecoveryCounts counts = recovery ? recovery->last_24h : RecoveryCounts{};
  attempts.add({{"outcome", "succeeded"}}, number(static_cast<long long>(counts.succeeded)));
  attempts.add({{"outcome", "failed"}}, number(static_cast<long long>(counts.failed)));
  attempts.add({{"outcome", "interrupted"}}, number(static_cast<long long>(counts.interrupted)));

  std::string out;
  for (const Family* family :
       {&build, &exit_code, &now, &pulse_state, &pulse_run, &pulse_success, &skew, &targets,
        &agents, &jobs, &info, &state, &up, &last_run, &last_beat, &score, &uptime, &check, &latency,
        &agent_state, &job_state, &fleet_score, &fleet_uptime, &pending, &held, &sent, &failed_total, &failed,
        &recover_state, &recover_run, &recover_success, &recover_pending, &recover_suspended,
        &escalations, &attempts}) {
    family->print(out);
  }
  return out;
}

void write_metrics_file(const std::filesystem::path& path, std::string_view text)
{
  // node_exporter runs as its own user: the file must be readable by others.
  const std::string error = util::write_file_atomically(path, text, 0644);
  if (!error.empty()) {
    throw IoError(fmt::format("cannot write metrics file {}: {}", path.string(), error));
  }
}

} // namespace hb::output
