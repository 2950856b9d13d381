// SPDX-License-Identifier: MIT
#include "output/recover_output.hpp"

#include "output/delivery_output.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hb::output {
namespace {

// docs/schema/hb-recover.schema.json; changes only when a field changes meaning or disappears.
constexpr int k_recover_json_schema = 1;

nlohmann::json time_or_null(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

Tone tone_of(AttemptResult result)
{
  switch (result) {
  case AttemptResult::recovered: return Tone::good;
  case AttemptResult::failed: return Tone::bad;
  case AttemptResult::interrupted: return Tone::warn;
  case AttemptResult::running: return Tone::muted;
  }
  return Tone::plain;
}

std::string first_line(const std::string& text)
{
  const auto nl = text.find_last_not_of("\n");
  std::string trimmed = nl == std::string::npos ? "" : text.substr(0, nl + 1);
  const auto last = trimmed.rfind('\n');
  return last == std::string::npos ? trimmed : trimmed.substr(last + 1);
}

} // namespace

nlohmann::json attempt_to_json(const RecoveryAttempt& attempt)
{
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : attempt.steps) {
    steps.push_back({{"kind", step.kind},
                     {"what", step.what},
                     {"exit_code", step.exit_code ? nlohmann::json(*step.exit_code) : nlohmann::json(nullptr)},
                     {"output", step.output},
                     {"duration_ms", step.duration.count()},
                     {"result", step.result}});
  }
  return {{"id", attempt.id},
          {"run_id", attempt.run_id},
          {"target", attempt.target_id},
          {"issue", to_string(attempt.issue)},
          {"check", attempt.check_name},
          {"phase", attempt.phase},
          {"action", attempt.action},
          {"started_at", util::format_rfc3339(attempt.started_at)},
          {"completed_at", time_or_null(attempt.completed_at)},
          {"result", to_string(attempt.result)},
          {"message", attempt.message},
          {"steps", std::move(steps)}};
}

nlohmann::json escalation_to_json(const Escalation& escalation)
{
  nlohmann::json summary = nlohmann::json::parse(escalation.summary, nullptr, false);
  if (summary.is_discarded()) {
    summary = nullptr;
  }
  return {{"id", escalation.id},
          {"target", escalation.target_id},
          {"cause", escalation.cause},
          {"targets", escalation.targets},
          {"opened_at", util::format_rfc3339(escalation.opened_at)},
          {"resolved_at", time_or_null(escalation.resolved_at)},
          {"failed_attempts", escalation.failed_attempts},
          {"command_result", escalation.command_result},
          {"summary", std::move(summary)}};
}

void print_recover(const recovery::RecoverReport& report, std::ostream& out, const Style& style,
                   bool verbose)
{
  using recovery::Plan;
  using recovery::Verdict;
  for (const auto& t : report.targets) {
    const auto& a = t.assessment;
    const bool acted = t.attempt.has_value() || t.reset || t.held;
    const bool interesting = a.verdict == Verdict::unhealthy || acted;
    if (!interesting && !verbose) {
      continue;
    }
    std::string head;
    switch (a.verdict) {
    case Verdict::healthy:
      head = t.reset ? style.paint("recovered", Tone::good) + "  counters reset (healthy again)"
                     : style.paint("healthy", Tone::good);
      break;
    case Verdict::left_alone:
      head = style.paint("left alone", Tone::muted) + "  " + a.reason;
      break;
    case Verdict::warning:
      head = style.paint("warning", Tone::warn) + "  " + a.reason;
      break;
    case Verdict::unhealthy:
      head = style.paint(std::string(to_string(a.issue)), Tone::bad) + "  " + a.reason;
      break;
    }
    out << fmt::format("{:<20} {}\n", a.target_id, head);
    if (a.verdict != Verdict::unhealthy) {
      continue;
    }
    if (t.attempt) {
      const auto& attempt = *t.attempt;
      for (const auto& step : attempt.steps) {
        std::string line = fmt::format("  {:<7} {}", step.kind, step.what);
        if (step.exit_code) {
          line += fmt::format(" (exit {})", *step.exit_code);
        }
        line += fmt::format(" -> {} in {}", step.result, util::format_duration(step.duration));
        out << line << "\n";
        if (step.kind == "action" && !step.output.empty()) {
          out << "          " << style.paint(first_line(step.output), Tone::muted) << "\n";
        }
      }
      out << "  " << style.paint(std::string(to_string(attempt.result)), tone_of(attempt.result))
          << "  " << attempt.message << "\n";
    } else if (t.held) {
      out << "  " << style.paint("held", Tone::muted) << "  " << a.plan_reason << "\n";
    } else if (a.plan == Plan::attempt) {
      out << "  " << (report.dry_run ? "would: " : "")
          << (t.action.empty() ? "re-check (no action configured)"
                               : fmt::format("re-check, then {} ({})", t.action, t.action_key))
          << "\n";
    } else if (!a.plan_reason.empty()) {
      out << "  " << style.paint(std::string(to_string(a.plan)), Tone::warn) << "  " << a.plan_reason
          << "\n";
    }
  }
  for (const auto& e : report.escalations_opened) {
    out << style.paint("escalated", Tone::bad) << "  #" << e.id << " "
        << (e.target_id.empty() ? fmt::format("shared cause \"{}\": {}", e.cause, fmt::join(e.targets, ", "))
                                : e.target_id)
        << fmt::format(" ({})", e.command_result.empty() ? "delivered through the outbox" : e.command_result)
        << "\n";
  }
  for (const auto& e : report.escalations_resolved) {
    out << style.paint("resolved", Tone::good) << "   escalation #" << e.id << " "
        << (e.target_id.empty() ? e.cause : e.target_id) << "\n";
  }
  const int unhealthy = report.run.unhealthy;
  std::string totals = fmt::format(
      "{}{} assessed, {} unhealthy, {} attempted, {} recovered, {} failed, {} escalated",
      report.dry_run ? "dry run: " : "", util::plural(report.run.assessed, "target"), unhealthy,
      report.run.attempted, report.run.recovered, report.run.failed, report.run.escalated);
  out << totals << "\n";
  if (const std::string line = delivery_line(report.delivery, style); !line.empty()) {
    out << line << "\n";
  }
}

nlohmann::json recover_to_json(const recovery::RecoverReport& report)
{
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : report.targets) {
    const auto& a = t.assessment;
    nlohmann::json row{{"id", a.target_id},
                       {"verdict", to_string(a.verdict)},
                       {"reason", a.reason},
                       {"plan", to_string(a.plan)},
                       {"plan_reason", a.plan_reason},
                       {"next_attempt_at", time_or_null(a.next_attempt_at)},
                       {"action", t.action},
                       {"action_key", t.action_key},
                       {"held", t.held},
                       {"reset", t.reset},
                       {"attempt", t.attempt ? attempt_to_json(*t.attempt) : nlohmann::json(nullptr)}};
    if (a.verdict == recovery::Verdict::unhealthy) {
      row["issue"] = to_string(a.issue);
      row["check"] = a.check_name;
      row["phase"] = a.phase;
      row["cause"] = a.cause;
      row["since"] = time_or_null(a.since);
    }
    targets.push_back(std::move(row));
  }
  nlohmann::json shared = nlohmann::json::array();
  for (const auto& s : report.shared_causes) {
    shared.push_back({{"cause", s.cause}, {"targets", s.targets}});
  }
  nlohmann::json opened = nlohmann::json::array();
  for (const auto& e : report.escalations_opened) {
    opened.push_back(escalation_to_json(e));
  }
  nlohmann::json resolved = nlohmann::json::array();
  for (const auto& e : report.escalations_resolved) {
    resolved.push_back(escalation_to_json(e));
  }
  const auto& run = report.run;
  return {{"schema", k_recover_json_schema},
          {"dry_run", report.dry_run},
          {"run",
           {{"id", run.id},
            {"started_at", util::format_rfc3339(run.started_at)},
            {"completed_at", time_or_null(run.completed_at)},
            {"status", report.dry_run ? "dry_run" : std::string(to_string(run.status))},
            {"assessed", run.assessed},
            {"unhealthy", run.unhealthy},
            {"attempted", run.attempted},
            {"recovered", run.recovered},
            {"failed", run.failed},
            {"escalated", run.escalated},
            {"message", run.message}}},
          {"targets", std::move(targets)},
          {"shared_causes", std::move(shared)},
          {"escalations_opened", std::move(opened)},
          {"escalations_resolved", std::move(resolved)},
          {"delivery", delivery_to_json(report.delivery)}};
}

void print_recovery_status(const status::RecoveryStatus& recovery, TimePoint now, std::ostream& out,
                           const Style& style)
{
  const auto& runs = recovery.runs;
  const Tone tone = runs.state == health::RecoverRunsState::alive ? Tone::good
                    : runs.state == health::RecoverRunsState::unknown ? Tone::muted
                                                                       : Tone::warn;
  std::string line = fmt::format("recovery: {}  {}", style.paint(health::to_string(runs.state), tone),
                                 runs.reason);
  line += fmt::format("; {} pending, {} suspended; 24h: {} recovered, {} failed", recovery.pending,
                      recovery.suspended, recovery.last_24h.succeeded, recovery.last_24h.failed);
  const auto open = recovery.open_escalations.size();
  line += "; " + (open > 0 ? style.paint(util::plural(static_cast<long long>(open), "open escalation"), Tone::bad)
                           : std::string("no open escalation"));
  out << line << '\n';
  for (const auto& e : recovery.open_escalations) {
    out << fmt::format("  escalation #{} {} since {} ({})\n", e.id,
                       e.target_id.empty() ? fmt::format("shared cause \"{}\": {}", e.cause, fmt::join(e.targets, ", "))
                                           : e.target_id,
                       util::format_rfc3339(e.opened_at), util::format_age(e.opened_at, now));
  }
}

nlohmann::json reset_to_json(const std::string& target_id, bool had_counters)
{
  return {{"schema", k_recover_json_schema}, {"reset", target_id}, {"had_counters", had_counters}};
}

nlohmann::json recovery_status_to_json(const status::RecoveryStatus& recovery)
{
  nlohmann::json open = nlohmann::json::array();
  for (const auto& e : recovery.open_escalations) {
    open.push_back(escalation_to_json(e));
  }
  const auto& last = recovery.runs.last;
  return {{"state", health::to_string(recovery.runs.state)},
          {"reason", recovery.runs.reason},
          {"lastRun",
           last ? nlohmann::json{{"id", last->id},
                                 {"startedAt", util::format_rfc3339(last->started_at)},
                                 {"completedAt", time_or_null(last->completed_at)},
                                 {"status", to_string(last->status)},
                                 {"assessed", last->assessed},
                                 {"attempted", last->attempted},
                                 {"recovered", last->recovered},
                                 {"failed", last->failed},
                                 {"escalated", last->escalated}}
                : nlohmann::json(nullptr)},
          {"pending", recovery.pending},
          {"suspended", recovery.suspended},
          {"succeeded24h", recovery.last_24h.succeeded},
          {"failed24h", recovery.last_24h.failed},
          {"openEscalations", std::move(open)}};
}

void print_target_recovery(const status::TargetDetail& d, std::ostream& out, const Style& style)
{
  if (!d.recovery && d.attempts.empty() && d.escalations.empty()) {
    return;
  }
  out << "\nrecovery:\n";
  if (const auto& r = d.recovery) {
    std::string line = fmt::format("  {} since the last verified recovery",
                                   util::plural(r->failed_attempts, "failed attempt"));
    if (r->suspended_at) {
      line += fmt::format("; {} since {} (hb-recover --reset {})", style.paint("suspended", Tone::bad),
                          util::format_rfc3339(*r->suspended_at), d.row.info.id);
    } else if (r->next_attempt_at && *r->next_attempt_at > d.now) {
      line += fmt::format("; next attempt {}", util::format_age(*r->next_attempt_at, d.now));
    }
    out << line << '\n';
  }
  for (const auto& e : d.escalations) {
    out << fmt::format("  escalation #{} {} {}{}\n", e.id,
                       e.resolved_at ? style.paint("resolved", Tone::good) : style.paint("open", Tone::bad),
                       util::format_rfc3339(e.opened_at),
                       e.target_id.empty() ? fmt::format(" (shared cause \"{}\")", e.cause) : "");
  }
  for (const auto& a : d.attempts) {
    out << fmt::format("  {} {:<11} {}: {}\n", util::format_rfc3339(a.started_at),
                       style.paint(std::string(to_string(a.result)), tone_of(a.result)),
                       to_string(a.issue), a.message);
    for (const auto& step : a.steps) {
      out << fmt::format("      {:<7} {}{} -> {} in {}\n", step.kind, step.what,
                         step.exit_code ? fmt::format(" (exit {})", *step.exit_code) : "",
                         step.result, util::format_duration(step.duration));
    }
  }
}

nlohmann::json target_recovery_to_json(const status::TargetDetail& d)
{
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& a : d.attempts) {
    attempts.push_back(attempt_to_json(a));
  }
  nlohmann::json escalations = nlohmann::json::array();
  for (const auto& e : d.escalations) {
    escalations.push_back(escalation_to_json(e));
  }
  nlohmann::json state = nullptr;
  if (const auto& r = d.recovery) {
    state = {{"failedAttempts", r->failed_attempts},
             {"lastAttemptAt", time_or_null(r->last_attempt_at)},
             {"nextAttemptAt", time_or_null(r->next_attempt_at)},
             {"suspendedAt", time_or_null(r->suspended_at)},
             {"resetAt", time_or_null(r->reset_at)}};
  }
  return {{"state", std::move(state)}, {"attempts", std::move(attempts)},
          {"escalations", std::move(escalations)}};
}

} // namespace hb::output
