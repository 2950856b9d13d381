// SPDX-License-Identifier: MIT
#include "output/status_output.hpp"

#include "output/events.hpp"
#include "output/figures_output.hpp"
#include "output/notifications_output.hpp"
#include "output/recover_output.hpp"

#include "output/table.hpp"

#include "checks/perfdata.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hb::output {
namespace {

constexpr int k_json_schema = 1;

nlohmann::json optional_time(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

std::string percent(std::optional<double> rate)
{
  return rate ? fmt::format("{:.0f}%", *rate * 100.0) : "-";
}

std::string metrics_text(const std::vector<Metric>& metrics)
{
  std::string out;
  for (const auto& m : metrics) {
    out += fmt::format("{}{}={:g}{}", out.empty() ? "" : " ", m.name, m.value, m.unit);
  }
  return out;
}

nlohmann::json metrics_json(const std::vector<Metric>& metrics)
{
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : metrics) {
    out[m.name] = m.unit.empty() ? nlohmann::json(m.value)
                                 : nlohmann::json{{"value", m.value}, {"unit", m.unit}};
  }
  return out;
}

nlohmann::json run_json(const JobRun& r)
{
  return {{"id", r.id},
          {"startedAt", util::format_rfc3339(r.started_at)},
          {"completedAt", optional_time(r.completed_at)},
          {"durationMs", r.completed_at ? nlohmann::json((*r.completed_at - r.started_at).count())
                                        : nlohmann::json(nullptr)},
          {"status", to_string(r.status)},
          {"exitCode", r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr)},
          {"message", r.message},
          {"command", r.command},
          {"host", r.host},
          {"outputTail", r.output_tail}};
}

nlohmann::json beat_json(const agents::BeatView& v)
{
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& i : v.issues) {
    issues.push_back(
      {{"type", i.type}, {"severity", to_string(i.severity)}, {"message", i.message}});
  }
  nlohmann::json out{{"state", v.state},
                     {"since", optional_time(v.since)},
                     {"issues", std::move(issues)}};
  if (v.job) {
    out["lastStart"] = optional_time(v.last_seen);
    out["nextExpected"] = optional_time(v.next_expected);
    out["runs"] = v.beats;
    out["lastRun"] = v.last_run ? run_json(*v.last_run) : nlohmann::json(nullptr);
  } else {
    out["lastSeen"] = optional_time(v.last_seen);
    out["missedBeats"] = v.missed;
    out["lastStatus"] = v.last_status ? nlohmann::json(to_string(*v.last_status)) : nullptr;
    out["lastMessage"] = v.last_message;
    out["metrics"] = metrics_json(v.metrics);
    out["beats"] = v.beats;
  }
  return out;
}

// "42s ago" for a time in the past; a time ahead of the clock by more than a second cannot have
// been seen yet: the sender's clock (or HB_NOW) is off, and the line says so.
std::string format_seen(TimePoint then, TimePoint now)
{
  if (then - now > Duration(1000)) {
    return fmt::format("{} ahead of this clock (clock skew?)", util::format_duration(then - now));
  }
  return util::format_age(then, now);
}

} // namespace

Tone pulse_tone(pulse::PulseState state)
{
  switch (state) {
  case pulse::PulseState::alive:
    return Tone::good;
  case pulse::PulseState::warning:
    return Tone::warn;
  case pulse::PulseState::error:
    return Tone::bad;
  case pulse::PulseState::unknown:
    return Tone::muted;
  }
  return Tone::plain;
}

std::string state_word(const status::TargetRow& row)
{
  if (row.retired_at) {
    return "retired";
  }
  if (row.info.paused) {
    return "paused";
  }
  if (row.stale) {
    return "stale";
  }
  if (row.beat && row.info.checks.empty()) {
    return row.beat->state;
  }
  return std::string(to_string(row.health));
}

Tone state_tone(const status::TargetRow& row)
{
  if (row.retired_at || row.info.paused) {
    return Tone::muted;
  }
  if (row.stale) {
    return Tone::bad;
  }
  if (row.beat && row.info.checks.empty() && row.beat->state == "running") {
    return Tone::plain;
  }
  return tone_of(row.health);
}

std::string last_cell(const status::TargetRow& row, TimePoint now)
{
  if (row.beat && (row.info.checks.empty() || !row.last_run)) {
    const auto& v = *row.beat;
    if (!v.last_seen) {
      return v.job ? "never ran" : "never seen";
    }
    return fmt::format("{} {}", v.job ? "started" : "seen", format_seen(*v.last_seen, now));
  }
  return row.last_run ? format_seen(*row.last_run, now) : "never";
}

std::string row_message(const status::TargetRow& row)
{
  if (!row.beat || row.beat->job) {
    return row.message;
  }
  std::string out;
  if (row.beat->missed > 0) {
    out = fmt::format("missed {} beat{}", row.beat->missed, row.beat->missed == 1 ? "" : "s");
  }
  const std::string metrics = metrics_text(row.beat->metrics);
  if (!metrics.empty()) {
    out += (out.empty() ? "" : "; ") + metrics;
  }
  if (!row.message.empty()) {
    out += (out.empty() ? "" : "; ") + row.message;
  }
  return out;
}

namespace {

nlohmann::json row_json(const status::TargetRow& row)
{
  nlohmann::json out = {
    {"id", row.info.id},
    {"name", row.info.name},
    {"kind", to_string(row.info.kind)},
    {"tags", row.info.tags},
    {"paused", row.info.paused},
    {"health", to_string(row.health)},
    {"since", optional_time(row.since)},
    {"lastRun", optional_time(row.last_run)},
    {"lastStatus", row.last_status ? nlohmann::json(to_string(*row.last_status)) : nullptr},
    {"executions24h", row.executions_24h},
    {"failures24h", row.failures_24h},
    {"failureRate24h", row.failure_rate_24h ? nlohmann::json(*row.failure_rate_24h) : nullptr},
    {"message", row.message},
    {"stale", row.stale},
    {"retiredAt", optional_time(row.retired_at)},
    {"figures", figures_json(row.figures)},
  };
  if (row.beat) {
    out[row.beat->job ? "job" : "agent"] = beat_json(*row.beat);
  }
  return out;
}

nlohmann::json pulse_json(const pulse::SystemPulse& p)
{
  nlohmann::json out{{"state", to_string(p.state)},
                     {"reason", p.reason},
                     {"running", p.running},
                     {"nextExpected", optional_time(p.next_expected)}};
  if (p.last) {
    const auto& l = *p.last;
    out["last"] = {{"id", l.id},
                   {"startedAt", util::format_rfc3339(l.started_at)},
                   {"completedAt", optional_time(l.completed_at)},
                   {"status", to_string(l.status)},
                   {"intervalMs", l.interval.count()},
                   {"targetsDue", l.targets_due},
                   {"targetsRun", l.targets_run},
                   {"checksRun", l.checks_run},
                   {"errors", l.errors},
                   {"message", l.message}};
  } else {
    out["last"] = nullptr;
  }
  return out;
}

std::string health_cell(const status::TargetRow& row, const Style& style)
{
  return style.paint(state_word(row), state_tone(row));
}

void print_events(const status::TargetDetail& d, std::ostream& out)
{
  if (d.events.empty()) {
    return;
  }
  out << "\nrecent events:\n";
  Table events({"AT", "EVENT", "CHANGE", "MESSAGE"});
  for (const auto& e : d.events) {
    events.add({util::format_rfc3339(e.at), std::string(to_string(e.type)) + (e.in_grace ? " (grace)" : ""),
                fmt::format("{} {} {}", e.old_state, symbol(Symbol::arrow), e.new_state), truncate(e.message, 70)});
  }
  events.print(out, "  ");
}

void print_beat_section(const status::TargetDetail& d, std::ostream& out, const Style& style)
{
  const auto& v = *d.row.beat;
  const Tone tone = v.state == "running" ? Tone::plain : tone_of(v.health);
  out << fmt::format("\n{}: {}", v.job ? "job" : "agent", style.paint(v.state, tone));
  if (v.since) {
    out << fmt::format(" since {} ({})", util::format_rfc3339(*v.since),
                       util::format_age(*v.since, d.now));
  }
  out << '\n';
  if (v.job) {
    out << fmt::format("  last start: {}; {} recorded\n",
                       v.last_seen ? format_seen(*v.last_seen, d.now) : "never",
                       util::plural(v.beats, "run"));
    if (v.next_expected) {
      out << fmt::format("  next run expected: {} ({})\n", util::format_rfc3339(*v.next_expected),
                         util::format_age(*v.next_expected, d.now));
    }
  } else {
    out << fmt::format("  last seen: {}; missed beats: {}; {} recorded\n",
                       v.last_seen ? format_seen(*v.last_seen, d.now) : "never", v.missed,
                       util::plural(v.beats, "beat"));
    if (v.last_status) {
      out << fmt::format("  last beat: {}{}\n", to_string(*v.last_status),
                         v.last_message.empty() ? "" : ": " + truncate(v.last_message, 100));
    }
    if (!v.metrics.empty()) {
      out << "  metrics: " << metrics_text(v.metrics) << '\n';
    }
  }
  for (const auto& issue : v.issues) {
    out << fmt::format("  issue {}: {}\n",
                       style.paint(issue.type, issue.severity == Severity::alert ? Tone::bad : Tone::warn),
                       issue.message);
  }
  if (!d.runs.empty()) {
    out << "\nrecent runs:\n";
    Table runs({"STARTED", "STATUS", "TIME", "EXIT", "MESSAGE"});
    for (const auto& r : d.runs) {
      const Tone run_tone = r.status == JobRunStatus::succeeded ? Tone::good
                            : r.status == JobRunStatus::running  ? Tone::plain
                                                                 : Tone::bad;
      runs.add({util::format_rfc3339(r.started_at), style.paint(to_string(r.status), run_tone),
                r.completed_at ? util::format_duration(*r.completed_at - r.started_at)
                               : util::format_age(r.started_at, d.now),
                r.exit_code ? std::to_string(*r.exit_code) : "-", truncate(r.message, 60)});
    }
    runs.print(out, "  ");
    const auto& last = d.runs.front();
    if (!last.output_tail.empty()) {
      out << "\nlast output (" << util::format_rfc3339(last.started_at) << "):\n";
      // The job's own bytes: escape sequences must not reach the operator's terminal.
      const std::string tail = checks::sanitize_text(last.output_tail, checks::KeepNewlines::yes);
      std::string line;
      for (char c : tail) {
        if (c == '\n') {
          out << "  | " << line << '\n';
          line.clear();
        } else {
          line += c;
        }
      }
      if (!line.empty()) {
        out << "  | " << line << '\n';
      }
    }
  }
  if (!d.beats.empty()) {
    out << "\nrecent beats:\n";
    Table beats({"AT", "STATUS", "MESSAGE", "METRICS"});
    for (const auto& b : d.beats) {
      const Tone beat_tone = b.status == BeatStatus::healthy    ? Tone::good
                             : b.status == BeatStatus::degraded ? Tone::warn
                                                                : Tone::bad;
      beats.add({util::format_rfc3339(b.at), style.paint(to_string(b.status), beat_tone),
                 truncate(b.message, 50), truncate(metrics_text(b.metrics), 40)});
    }
    beats.print(out, "  ");
  }
}

} // namespace

void print_status(const status::StatusReport& report, std::ostream& out, const Style& style)
{
  const auto& p = report.pulse;
  std::string pulse_line = fmt::format("pulse: {}  {}", style.paint(to_string(p.state), pulse_tone(p.state)), p.reason);
  if (p.running) {
    pulse_line += " (a pulse is running now)";
  }
  if (p.next_expected && p.state != pulse::PulseState::unknown) {
    // Alive lasts until 1.5 intervals: past the next expected start it is due, not "expected
    // 1m ago" beside "alive".
    pulse_line += *p.next_expected > report.now
                    ? fmt::format("; next expected {}", util::format_age(*p.next_expected, report.now))
                    : std::string("; next pulse due now");
  }
  out << pulse_line << '\n';
  if (report.recovery) {
    print_recovery_status(*report.recovery, report.now, out, style);
  }
  if (const auto& skew = report.clock_skew) {
    out << fmt::format("clock: {} ahead of this clock by up to {} (clock skew?); the next hb-pulse "
                       "re-anchors them to now\n",
                       style.paint(fmt::format("{}", fmt::join(skew->found, ", ")), Tone::warn),
                       util::format_duration(skew->ahead));
  }
  const auto& c = report.counts;
  std::string counts = fmt::format("targets: {} total, {} healthy", c.targets,
                                   style.paint(std::to_string(c.healthy), c.healthy ? Tone::good : Tone::plain));
  if (c.warning) {
    counts += fmt::format(", {} warning", style.paint(std::to_string(c.warning), Tone::warn));
  }
  counts += fmt::format(", {} failing", style.paint(std::to_string(c.failing), c.failing ? Tone::bad : Tone::plain));
  if (c.unknown) {
    // Unknown health is "not yet run" only for targets that never ran: one whose runs were all
    // cut off (the pulse deadline) or could not decide (errors) ran, and says so.
    int never_ran = 0;
    for (const auto& row : report.targets) {
      const bool counted_unknown = !row.retired_at && !row.info.paused && !row.stale
                                   && row.health == Health::unknown;
      never_ran += counted_unknown && !row.last_run ? 1 : 0;
    }
    if (never_ran > 0) {
      counts += fmt::format(", {} not yet run", never_ran);
    }
    if (c.unknown - never_ran > 0) {
      counts += fmt::format(", {} unknown (ran without a result)", c.unknown - never_ran);
    }
  }
  if (c.stale) {
    counts += fmt::format(", {} stale", style.paint(std::to_string(c.stale), Tone::bad));
  }
  if (c.paused) {
    counts += fmt::format(", {} paused", c.paused);
  }
  out << counts << '\n';
  print_figures_summary(report.overall, out, style);
  if (c.agents > 0) {
    std::string agents = fmt::format("agents: {} total, {} online", c.agents,
                                     style.paint(std::to_string(c.agents_online), c.agents_online ? Tone::good : Tone::plain));
    agents += fmt::format(", {} degraded", style.paint(std::to_string(c.agents_degraded), c.agents_degraded ? Tone::warn : Tone::plain));
    agents += fmt::format(", {} offline", style.paint(std::to_string(c.agents_offline), c.agents_offline ? Tone::bad : Tone::plain));
    if (c.agents_unknown) {
      agents += fmt::format(", {} never seen", c.agents_unknown);
    }
    out << agents << '\n';
  }
  if (c.jobs > 0) {
    std::string jobs = fmt::format("jobs: {} total, {} ok", c.jobs,
                                   style.paint(std::to_string(c.jobs_ok), c.jobs_ok ? Tone::good : Tone::plain));
    if (c.jobs_running) {
      jobs += fmt::format(", {} running", c.jobs_running);
    }
    jobs += fmt::format(", {} failing", style.paint(std::to_string(c.jobs_failing), c.jobs_failing ? Tone::bad : Tone::plain));
    if (c.jobs_unknown) {
      jobs += fmt::format(", {} not yet run", c.jobs_unknown);
    }
    out << jobs << '\n';
  }
  if (report.targets.empty() && report.schedules.empty()) {
    out << "no targets yet: hb-pulse records the configured targets when it runs\n";
    return;
  }
  if (!report.targets.empty()) {
    out << '\n';
    Table table({"TARGET", "STATE", "SCORE", "UP 24H", "UP 30D", "LAST RUN", "MESSAGE"});
    for (const auto& row : report.targets) {
      table.add({row.info.id, health_cell(row, style), score_cell(row.figures.score, style),
                 uptime_text(row.figures.uptime.day), uptime_text(row.figures.uptime.month),
                 last_cell(row, report.now), row_message(row)});
    }
    table.print(out, "", style.width());
  }

  if (!report.schedules.empty()) {
    out << '\n';
    Table schedules({"SCHEDULE", "CRON", "LAST RUN", "RESULT", "NEXT RUN", "MESSAGE"});
    for (const auto& row : report.schedules) {
      const auto& s = row.state;
      std::string result = "-";
      if (s && s->last_status) {
        const Tone tone = s->last_status == TaskRunStatus::succeeded ? Tone::good
                          : s->last_status == TaskRunStatus::skipped ? Tone::warn
                                                                     : Tone::bad;
        result = style.paint(to_string(*s->last_status), tone);
      }
      std::string next = row.info.enabled ? "-" : style.paint("disabled", Tone::muted);
      if (row.overdue_since) {
        next = style.paint(fmt::format("overdue since {} ({})", util::format_rfc3339(*row.overdue_since),
                                       row.missed_without_pulse ? "missed while no pulse ran"
                                                                : "not run by the pulses since"),
                           Tone::warn);
      } else if (row.next_run) {
        next = util::format_rfc3339(*row.next_run) + " (" + util::format_age(*row.next_run, report.now) + ")";
      }
      std::string message = s ? s->last_message : "";
      if (row.retrying && s->last_status == TaskRunStatus::interrupted) {
        message = fmt::format("interrupted, runs again at the next pulse: {}", message);
      } else if (row.retrying) {
        message = fmt::format("retrying (attempt {} failed): {}", s->attempts, message);
      }
      schedules.add({row.info.name, fmt::format("{} {}", row.info.cron, row.info.timezone),
                     s && s->last_run_at ? util::format_age(*s->last_run_at, report.now) : "never",
                     result, next, truncate(message, 60)});
    }
    schedules.print(out);
  }
  print_channel_health(report.channels, report.now, out, style);
  if (report.exit_code == ExitCode::warning || report.exit_code == ExitCode::critical) {
    out << '\n'
        << style.paint("why: hb-diagnose explains each problem and what to do about it", Tone::muted)
        << '\n';
  }
}

void print_target(const status::TargetDetail& d, std::ostream& out, const Style& style)
{
  const auto& row = d.row;
  out << fmt::format("{} ({}, {}): {}", style.paint(row.info.id, Tone::bold), row.info.name,
                     to_string(row.info.kind), health_cell(row, style));
  if (row.since) {
    out << fmt::format(" since {} ({})", util::format_rfc3339(*row.since),
                       util::format_age(*row.since, d.now));
  }
  out << '\n';
  if (row.retired_at) {
    out << fmt::format("retired {} ({}): no longer in the config; history kept, not monitored\n",
                       util::format_rfc3339(*row.retired_at), util::format_age(*row.retired_at, d.now));
  }
  // Agents and jobs without checks are never run by hb-pulse: no pull-check line for them.
  if (!row.beat || !d.checks.empty() || !d.recent.empty()) {
    out << fmt::format("last run: {}; {} in 24h, {} failed ({})\n",
                       row.last_run ? format_seen(*row.last_run, d.now) : "never",
                       util::plural(row.executions_24h, "run"), row.failures_24h,
                       percent(row.failure_rate_24h));
  }
  if (!row.info.tags.empty()) {
    std::string tags;
    for (const auto& t : row.info.tags) {
      tags += tags.empty() ? t : ", " + t;
    }
    out << "tags: " << tags << '\n';
  }
  print_figures_summary(row.figures, out, style);

  if (row.beat) {
    print_beat_section(d, out, style);
  }
  if (row.beat && d.checks.empty() && d.recent.empty()) {
    print_events(d, out);
    print_incidents(d.incidents, d.now, out);
    print_notifications(d.notifications, out, style);
    print_target_recovery(d, out, style);
    return;
  }

  out << "\nchecks:\n";
  Table checks({"CHECK", "TYPE", "LAST", "LATENCY", "MESSAGE"});
  for (const auto& c : d.checks) {
    const auto& r = c.last_result;
    checks.add({c.info.name, c.info.type,
                r ? style.paint(to_string(r->status), tone_of(r->status)) : style.paint("-", Tone::muted),
                r ? util::format_duration(r->latency) : "",
                r ? truncate(r->message, 70) : truncate(c.info.description, 70)});
  }
  checks.print(out, "  ");

  out << "\nrecent executions:\n";
  if (d.recent.empty()) {
    out << "  none yet\n";
  } else {
    Table recent({"STARTED", "STATUS", "TIME", "TRIGGER", "FAILING"});
    for (const auto& e : d.recent) {
      std::string failing;
      for (const auto& r : e.results) {
        if (r.status != CheckStatus::ok) {
          failing += failing.empty() ? r.check_name : ", " + r.check_name;
        }
      }
      recent.add({util::format_rfc3339(e.started_at), style.paint(to_string(e.status), tone_of(e.status)),
                  util::format_duration(e.completed_at - e.started_at),
                  std::string(to_string(e.trigger)) + (e.forced ? " (forced)" : ""), failing});
    }
    recent.print(out, "  ");
  }

  print_events(d, out);
  print_incidents(d.incidents, d.now, out);
  print_notifications(d.notifications, out, style);
  print_target_recovery(d, out, style);
  if (status::problem_level(row) > 0) {
    out << '\n'
        << style.paint(fmt::format("why: hb-diagnose {} explains it and what to do", row.info.id),
                       Tone::muted)
        << '\n';
  }
}

nlohmann::json status_to_json(const status::StatusReport& report)
{
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& row : report.targets) {
    targets.push_back(row_json(row));
  }
  nlohmann::json schedules = nlohmann::json::array();
  for (const auto& row : report.schedules) {
    const auto& s = row.state;
    schedules.push_back({
      {"name", row.info.name},
      {"cron", row.info.cron},
      {"timezone", row.info.timezone},
      {"target", row.info.target_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.info.target_id)},
      {"enabled", row.info.enabled},
      {"command", row.info.description},
      {"lastRun", s ? optional_time(s->last_run_at) : nullptr},
      {"lastResult", s && s->last_status ? nlohmann::json(to_string(*s->last_status)) : nullptr},
      {"lastExitCode", s && s->last_exit_code ? nlohmann::json(*s->last_exit_code) : nullptr},
      {"lastMessage", s ? s->last_message : ""},
      {"attempts", s ? s->attempts : 0},
      {"retrying", row.retrying},
      {"nextRun", optional_time(row.next_run)},
      {"overdueSince", optional_time(row.overdue_since)},
    });
  }
  const auto& c = report.counts;
  return {
    {"schema", k_json_schema},
    {"generatedAt", util::format_rfc3339(report.now)},
    {"database", report.database},
    {"pulse", pulse_json(report.pulse)},
    {"clockSkew", report.clock_skew
                    ? nlohmann::json{{"aheadMs", report.clock_skew->ahead.count()},
                                     {"found", report.clock_skew->found}}
                    : nlohmann::json(nullptr)},
    {"channels", channel_health_to_json(report.channels)},
    {"recovery", report.recovery ? recovery_status_to_json(*report.recovery) : nlohmann::json(nullptr)},
    {"overall", figures_json(report.overall)},
    {"counts",
     {{"targets", c.targets},
      {"healthy", c.healthy},
      {"warning", c.warning},
      {"failing", c.failing},
      {"unknown", c.unknown},
      {"paused", c.paused},
      {"stale", c.stale},
      {"agents",
       {{"total", c.agents},
        {"online", c.agents_online},
        {"degraded", c.agents_degraded},
        {"offline", c.agents_offline},
        {"unknown", c.agents_unknown}}},
      {"jobs",
       {{"total", c.jobs},
        {"ok", c.jobs_ok},
        {"running", c.jobs_running},
        {"failing", c.jobs_failing},
        {"unknown", c.jobs_unknown}}}}},
    {"targets", std::move(targets)},
    {"schedules", std::move(schedules)},
    {"exitCode", static_cast<int>(report.exit_code)},
  };
}

nlohmann::json target_to_json(const status::TargetDetail& d)
{
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : d.checks) {
    nlohmann::json item{{"name", c.info.name},
                        {"type", c.info.type},
                        {"severity", to_string(c.info.severity)},
                        {"description", c.info.description}};
    if (c.last_result) {
      item["last"] = {{"status", to_string(c.last_result->status)},
                      {"message", c.last_result->message},
                      {"latencyMs", c.last_result->latency.count()},
                      {"phase", c.last_result->phase},
                      {"at", optional_time(c.last_run)}};
    } else {
      item["last"] = nullptr;
    }
    // null before the check's first run, like `last`: the key is always there.
    item["counts"] = c.state ? nlohmann::json{{"consecutiveFailures", c.state->consecutive_failures},
                                              {"consecutiveSuccesses", c.state->consecutive_successes},
                                              {"confirmed", to_string(c.state->confirmed)},
                                              {"badSince", optional_time(c.state->bad_since)}}
                             : nlohmann::json(nullptr);
    checks.push_back(std::move(item));
  }
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& e : d.recent) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& r : e.results) {
      results.push_back({{"check", r.check_name},
                         {"status", to_string(r.status)},
                         {"message", r.message},
                         {"latencyMs", r.latency.count()}});
    }
    recent.push_back({{"id", e.id},
                      {"startedAt", util::format_rfc3339(e.started_at)},
                      {"completedAt", util::format_rfc3339(e.completed_at)},
                      {"status", to_string(e.status)},
                      {"trigger", to_string(e.trigger)},
                      {"forced", e.forced},
                      {"results", std::move(results)}});
  }
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : d.events) {
    nlohmann::json item = event_to_json(e);
    item["grace"] = e.in_grace;
    events.push_back(std::move(item));
  }
  nlohmann::json out = row_json(d.row);
  out["schema"] = k_json_schema;
  out["generatedAt"] = util::format_rfc3339(d.now);
  out["firstSeen"] = optional_time(d.first_seen);
  out["checks"] = std::move(checks);
  out["recent"] = std::move(recent);
  out["events"] = std::move(events);
  out["notifications"] = notifications_to_json(d.notifications);
  out["recovery"] = target_recovery_to_json(d);
  nlohmann::json incidents = nlohmann::json::array();
  for (const auto& incident : d.incidents) {
    incidents.push_back(incident_json(incident));
  }
  out["incidents"] = std::move(incidents);
  if (d.row.beat) {
    if (d.row.beat->job) {
      nlohmann::json runs = nlohmann::json::array();
      for (const auto& r : d.runs) {
        runs.push_back(run_json(r));
      }
      out["runs"] = std::move(runs);
    } else {
      nlohmann::json beats = nlohmann::json::array();
      for (const auto& b : d.beats) {
        beats.push_back({{"at", util::format_rfc3339(b.at)},
                         {"status", to_string(b.status)},
                         {"message", b.message},
                         {"metrics", metrics_json(b.metrics)}});
      }
      out["beats"] = std::move(beats);
    }
  }
  out["exitCode"] = static_cast<int>(d.exit_code);
  return out;
}

} // namespace hb::output
