// SPDX-License-Identifier: MIT
#include "output/pulse_output.hpp"

#include "output/delivery_output.hpp"
#include "output/events.hpp"

#include "checks/metric_json.hpp"
#include "output/table.hpp"
#include "pulse/system_state.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

// docs/schema/hb-pulse.schema.json; changes only when a field changes meaning or disappears.
constexpr int k_pulse_json_schema = 1;

std::string_view kind_name(pulse::TargetOutcome::Kind kind)
{
  switch (kind) {
  case pulse::TargetOutcome::Kind::ran:
    return "ran";
  case pulse::TargetOutcome::Kind::would_run:
    return "due";
  case pulse::TargetOutcome::Kind::skipped:
    return "skipped";
  case pulse::TargetOutcome::Kind::held:
    return "held";
  case pulse::TargetOutcome::Kind::deadline:
  case pulse::TargetOutcome::Kind::not_run:
    return "not_run";
  }
  return "skipped";
}

std::string_view task_kind_name(pulse::TaskOutcome::Kind kind)
{
  switch (kind) {
  case pulse::TaskOutcome::Kind::executed:
    return "executed";
  case pulse::TaskOutcome::Kind::failed:
    return "failed";
  case pulse::TaskOutcome::Kind::skipped:
    return "skipped";
  case pulse::TaskOutcome::Kind::held:
    return "held";
  case pulse::TaskOutcome::Kind::would_run:
    return "due";
  case pulse::TaskOutcome::Kind::not_run:
    return "not_run";
  }
  return "skipped";
}

} // namespace

nlohmann::json pulse_to_json(const pulse::PulseReport& report)
{
  using Kind = pulse::TargetOutcome::Kind;
  const auto& p = report.pulse;
  nlohmann::json details = nlohmann::json::array();
  for (const auto& t : report.targets) {
    nlohmann::json item{{"id", t.id}, {"name", t.name}};
    if (t.kind == Kind::ran) {
      item["status"] = to_string(t.status);
      item["health"] = to_string(t.health);
      item["durationMs"] = t.duration.count();
      auto failing = nlohmann::json::array();
      auto checks = nlohmann::json::array();
      for (const auto& r : t.results) {
        nlohmann::json check{{"check", r.check_name},
                             {"status", to_string(r.status)},
                             {"message", r.message},
                             {"latencyMs", r.latency.count()}};
        if (!r.phase.empty()) {
          check["phase"] = r.phase;
        }
        if (!r.metrics.empty()) {
          check["metrics"] = checks::metrics_to_json(r.metrics);
        }
        if (r.status != CheckStatus::ok) {
          failing.push_back(check);
        }
        checks.push_back(std::move(check));
      }
      item["failing"] = std::move(failing);
      item["checks"] = std::move(checks);
      auto events = nlohmann::json::array();
      for (const auto& e : t.events) {
        events.push_back({{"type", to_string(e.type)}, {"from", e.old_state}, {"to", e.new_state},
                          {"message", e.message}});
      }
      item["events"] = std::move(events);
    } else {
      item["status"] = kind_name(t.kind);
      item["reason"] = t.reason;
      if (t.next_run) {
        item["nextRun"] = util::format_rfc3339(*t.next_run);
      }
    }
    if (t.in_grace) {
      item["grace"] = true;
    }
    details.push_back(std::move(item));
  }
  int tasks_ran = 0;
  for (const auto& t : report.tasks) {
    nlohmann::json item{{"id", t.name}, {"task", t.name}, {"status", task_kind_name(t.kind)}};
    if (!t.target.empty()) {
      item["target"] = t.target;
    }
    if (t.result) {
      item["result"] = to_string(*t.result);
    }
    if (t.kind == pulse::TaskOutcome::Kind::executed || t.kind == pulse::TaskOutcome::Kind::failed) {
      ++tasks_ran;
      item["attempt"] = t.attempt;
      item["durationMs"] = t.duration.count();
      item["exitCode"] = t.exit_code ? nlohmann::json(*t.exit_code) : nlohmann::json(nullptr);
    }
    if (!t.message.empty()) {
      item["message"] = t.message;
    }
    if (!t.reason.empty()) {
      item["reason"] = t.reason;
    }
    if (t.next_run) {
      item["nextRun"] = util::format_rfc3339(*t.next_run);
    }
    details.push_back(std::move(item));
  }

  nlohmann::json out;
  out["schema"] = k_pulse_json_schema;
  const bool ok = report.dry_run || p.status == PulseStatus::ok;
  out["success"] = ok;
  out["pulse"] = report.dry_run ? "dry_run" : (p.status == PulseStatus::ok ? "alive" : "error");
  out["processed"] = report.count(Kind::ran) + tasks_ran;
  out["details"] = std::move(details);
  out["heartbeat"] = {{"timestamp", util::format_rfc3339(p.started_at)},
                      {"nextExpected", util::format_rfc3339(p.next_expected)}};
  nlohmann::json summary{{"targets", p.targets_total},
                         {"due", p.targets_due},
                         {"ran", report.count(Kind::ran)},
                         {"skipped", report.count(Kind::skipped)},
                         {"held", report.count(Kind::held)},
                         {"notRun", report.count(Kind::deadline) + report.count(Kind::not_run)},
                         {"checks", p.checks_run},
                         {"tasks", tasks_ran},
                         {"tasksFailed", p.tasks_failed},
                         {"errors", p.errors}};
  if (report.dry_run) {
    summary["due"] = report.count(Kind::would_run);
  }
  out["summary"] = std::move(summary);
  nlohmann::json beat_events = nlohmann::json::array();
  for (const auto& e : report.beat_events) {
    nlohmann::json item = event_to_json(e);
    item["target"] = e.target_id;
    beat_events.push_back(std::move(item));
  }
  out["beatEvents"] = std::move(beat_events);
  nlohmann::json system_events = nlohmann::json::array();
  for (const auto& e : report.system_events) {
    system_events.push_back(event_to_json(e));
  }
  out["systemEvents"] = std::move(system_events);
  if (!report.dry_run) {
    nlohmann::json reminders = nlohmann::json::array();
    for (const auto& e : report.reminders) {
      nlohmann::json item = event_to_json(e);
      item["target"] = e.target_id;
      reminders.push_back(std::move(item));
    }
    out["reminders"] = std::move(reminders);
    out["notifications"] = delivery_to_json(report.delivery);
    out["pulseId"] = p.id;
    out["status"] = to_string(p.status);
    if (p.completed_at) {
      out["durationMs"] = (*p.completed_at - p.started_at).count();
    }
  }
  out["dryRun"] = report.dry_run;
  if (!p.message.empty()) {
    out["message"] = p.message;
  }
  return out;
}

void print_pulse(const pulse::PulseReport& report, std::ostream& out, const Style& style,
                 Detail detail)
{
  using Kind = pulse::TargetOutcome::Kind;
  const auto& p = report.pulse;
  Table table({"", "TARGET", "STATUS", "TIME", "DETAIL"});
  for (const auto& t : report.targets) {
    if (t.kind == Kind::ran) {
      const bool clear = t.status == ExecStatus::all_clear;
      std::string note;
      if (!t.events.empty()) {
        note = fmt::format("now {}", t.events.back().new_state);
      }
      if (t.in_grace) {
        note += note.empty() ? "new target (grace)" : ", new target (grace)";
      }
      table.add({style.paint(symbol(clear ? Symbol::ok : Symbol::bad), tone_of(t.status)), t.id,
                 style.paint(to_string(t.status), tone_of(t.status)),
                 util::format_duration(t.duration), note});
      for (const auto& r : t.results) {
        if (r.status != CheckStatus::ok) {
          table.add({"", "", "", "",
                     fmt::format("{} {}: {}", style.paint(to_string(r.status), tone_of(r.status)),
                                 r.check_name, truncate(r.message, 100))});
        }
      }
    } else if (t.kind == Kind::would_run) {
      table.add({std::string(symbol(Symbol::pending)), t.id, "due", "", t.reason});
    } else if (t.kind == Kind::held || t.kind == Kind::deadline || t.kind == Kind::not_run) {
      table.add({style.paint("!", Tone::warn), t.id, style.paint(kind_name(t.kind), Tone::warn),
                 "", t.reason});
    } else if (detail == Detail::verbose) {
      table.add({style.paint("-", Tone::muted), t.id, style.paint("skipped", Tone::muted), "",
                 style.paint(t.reason, Tone::muted)});
    }
  }
  for (const auto& t : report.tasks) {
    using TaskKind = pulse::TaskOutcome::Kind;
    const std::string label = "task " + t.name;
    switch (t.kind) {
    case TaskKind::executed:
      table.add({style.paint(symbol(Symbol::ok), Tone::good), label, style.paint(t.result ? to_string(*t.result) : "", Tone::good),
                 util::format_duration(t.duration), t.message});
      break;
    case TaskKind::failed:
      table.add({style.paint(symbol(Symbol::bad), Tone::bad), label, style.paint(t.result ? to_string(*t.result) : "", Tone::bad),
                 util::format_duration(t.duration),
                 t.reason.empty() ? t.message : t.message + " (" + t.reason + ")"});
      break;
    case TaskKind::would_run:
      table.add({std::string(symbol(Symbol::pending)), label, "due", "", t.reason});
      break;
    case TaskKind::held:
    case TaskKind::not_run:
      table.add({style.paint("!", Tone::warn), label, style.paint(task_kind_name(t.kind), Tone::warn),
                 "", t.reason});
      break;
    case TaskKind::skipped:
      if (t.result) {
        table.add({style.paint("-", Tone::warn), label, style.paint("skipped", Tone::warn), "",
                   t.message});
      } else if (detail == Detail::verbose) {
        table.add({style.paint("-", Tone::muted), label, style.paint("skipped", Tone::muted), "",
                   style.paint(t.reason, Tone::muted)});
      }
      break;
    }
  }
  for (const auto& e : report.beat_events) {
    const bool good = e.new_state == "online" || e.new_state == "ok";
    table.add({style.paint(symbol(good ? Symbol::ok : Symbol::bad), good ? Tone::good : Tone::bad), e.target_id,
               style.paint(e.new_state, good ? Tone::good : Tone::bad), "",
               fmt::format("{} {} {}: {}", e.old_state, symbol(Symbol::arrow), e.new_state, truncate(e.message, 80))});
  }
  if (!table.empty()) {
    table.print(out);
  }

  if (report.dry_run) {
    out << fmt::format("dry run: {} of {} due; nothing was run\n",
                       report.count(Kind::would_run), util::plural(p.targets_total, "target"));
    return;
  }
  const Duration took = p.completed_at ? *p.completed_at - p.started_at : Duration(0);
  std::string line = fmt::format(
    "pulse #{} {}: {} ran, {} skipped", p.id,
    style.paint(to_string(p.status), p.status == PulseStatus::ok ? Tone::good : Tone::bad),
    util::plural(report.count(Kind::ran), "target"), report.count(Kind::skipped));
  if (report.count(Kind::held) > 0) {
    line += fmt::format(", {} held by another pulse", report.count(Kind::held));
  }
  if (report.count(Kind::deadline) + report.count(Kind::not_run) > 0) {
    line += fmt::format(", {} not run", report.count(Kind::deadline) + report.count(Kind::not_run));
  }
  line += ", " + util::plural(p.checks_run, "check");
  if (p.tasks_run > 0) {
    line += fmt::format(", {} run", util::plural(p.tasks_run, "task"));
    if (p.tasks_failed > 0) {
      line += fmt::format(" ({} failed)", p.tasks_failed);
    }
  }
  line += fmt::format(" in {}", util::format_duration(took));
  out << line << '\n';
  if (const std::string notified = delivery_line(report.delivery, style); !notified.empty()) {
    out << notified << '\n';
  }
  if (!p.message.empty()) {
    out << style.paint(p.message, Tone::bad) << '\n';
  }
}

} // namespace hb::output
