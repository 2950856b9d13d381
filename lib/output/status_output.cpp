// SPDX-License-Identifier: MIT
#include "output/status_output.hpp"

#include "output/table.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

constexpr int k_json_schema = 1;

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

nlohmann::json optional_time(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

std::string percent(std::optional<double> rate)
{
  return rate ? fmt::format("{:.0f}%", *rate * 100.0) : "-";
}

nlohmann::json row_json(const status::TargetRow& row)
{
  return {
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
  };
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
                   {"status", l.status},
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
  if (row.info.paused) {
    return style.paint("paused", Tone::muted);
  }
  if (row.stale) {
    return style.paint("stale", Tone::bad);
  }
  return style.paint(to_string(row.health), tone_of(row.health));
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
    pulse_line += fmt::format("; next expected {}", util::format_age(*p.next_expected, report.now));
  }
  out << pulse_line << '\n';
  const auto& c = report.counts;
  std::string counts = fmt::format("targets: {} total, {} healthy", c.targets,
                                   style.paint(std::to_string(c.healthy), c.healthy ? Tone::good : Tone::plain));
  if (c.warning) {
    counts += fmt::format(", {} warning", style.paint(std::to_string(c.warning), Tone::warn));
  }
  counts += fmt::format(", {} failing", style.paint(std::to_string(c.failing), c.failing ? Tone::bad : Tone::plain));
  if (c.unknown) {
    counts += fmt::format(", {} not yet run", c.unknown);
  }
  if (c.stale) {
    counts += fmt::format(", {} stale", style.paint(std::to_string(c.stale), Tone::bad));
  }
  if (c.paused) {
    counts += fmt::format(", {} paused", c.paused);
  }
  out << counts << '\n';
  if (report.targets.empty() && report.schedules.empty()) {
    out << "no targets yet: hb-pulse records the configured targets when it runs\n";
    return;
  }
  if (!report.targets.empty()) {
    out << '\n';
    Table table({"TARGET", "STATE", "LAST RUN", "RUNS 24H", "FAILED", "MESSAGE"});
    for (const auto& row : report.targets) {
      table.add({row.info.id, health_cell(row, style),
                 row.last_run ? util::format_age(*row.last_run, report.now) : "never",
                 std::to_string(row.executions_24h), percent(row.failure_rate_24h),
                 truncate(row.message, 70)});
    }
    table.print(out);
  }

  if (!report.schedules.empty()) {
    out << '\n';
    Table schedules({"SCHEDULE", "CRON", "LAST RUN", "RESULT", "NEXT RUN", "MESSAGE"});
    for (const auto& row : report.schedules) {
      const auto& s = row.state;
      std::string result = "-";
      if (s && !s->last_status.empty()) {
        const Tone tone = s->last_status == "succeeded" ? Tone::good
                          : s->last_status == "skipped" ? Tone::warn
                                                        : Tone::bad;
        result = style.paint(s->last_status, tone);
      }
      std::string next = row.info.enabled ? "-" : style.paint("disabled", Tone::muted);
      if (row.next_run) {
        next = util::format_rfc3339(*row.next_run) + " (" + util::format_age(*row.next_run, report.now) + ")";
      }
      std::string message = s ? s->last_message : "";
      if (row.retrying) {
        message = fmt::format("retrying (attempt {} failed): {}", s->attempts, message);
      }
      schedules.add({row.info.name, fmt::format("{} {}", row.info.cron, row.info.timezone),
                     s && s->last_run_at ? util::format_age(*s->last_run_at, report.now) : "never",
                     result, next, truncate(message, 60)});
    }
    schedules.print(out);
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
  out << fmt::format("last run: {}; {} run(s) in 24h, {} failed ({})\n",
                     row.last_run ? util::format_age(*row.last_run, d.now) : "never",
                     row.executions_24h, row.failures_24h, percent(row.failure_rate_24h));
  if (!row.info.tags.empty()) {
    std::string tags;
    for (const auto& t : row.info.tags) {
      tags += tags.empty() ? t : ", " + t;
    }
    out << "tags: " << tags << '\n';
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

  if (!d.events.empty()) {
    out << "\nrecent events:\n";
    Table events({"AT", "EVENT", "CHANGE", "MESSAGE"});
    for (const auto& e : d.events) {
      events.add({util::format_rfc3339(e.at), e.type + (e.in_grace ? " (grace)" : ""),
                  fmt::format("{} → {}", e.old_state, e.new_state), truncate(e.message, 70)});
    }
    events.print(out, "  ");
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
      {"lastResult", s && !s->last_status.empty() ? nlohmann::json(s->last_status) : nullptr},
      {"lastExitCode", s && s->last_exit_code ? nlohmann::json(*s->last_exit_code) : nullptr},
      {"lastMessage", s ? s->last_message : ""},
      {"attempts", s ? s->attempts : 0},
      {"retrying", row.retrying},
      {"nextRun", optional_time(row.next_run)},
    });
  }
  const auto& c = report.counts;
  return {
    {"schema", k_json_schema},
    {"generatedAt", util::format_rfc3339(report.now)},
    {"database", report.database},
    {"pulse", pulse_json(report.pulse)},
    {"counts",
     {{"targets", c.targets},
      {"healthy", c.healthy},
      {"warning", c.warning},
      {"failing", c.failing},
      {"unknown", c.unknown},
      {"paused", c.paused},
      {"stale", c.stale}}},
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
    if (c.state) {
      item["counts"] = {{"consecutiveFailures", c.state->consecutive_failures},
                        {"consecutiveSuccesses", c.state->consecutive_successes},
                        {"confirmed", to_string(c.state->confirmed)},
                        {"badSince", optional_time(c.state->bad_since)}};
    }
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
    events.push_back({{"at", util::format_rfc3339(e.at)},
                      {"type", e.type},
                      {"from", e.old_state},
                      {"to", e.new_state},
                      {"message", e.message},
                      {"grace", e.in_grace}});
  }
  nlohmann::json out = row_json(d.row);
  out["schema"] = k_json_schema;
  out["generatedAt"] = util::format_rfc3339(d.now);
  out["firstSeen"] = optional_time(d.first_seen);
  out["checks"] = std::move(checks);
  out["recent"] = std::move(recent);
  out["events"] = std::move(events);
  out["exitCode"] = static_cast<int>(d.exit_code);
  return out;
}

} // namespace hb::output
