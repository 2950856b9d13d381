// SPDX-License-Identifier: MIT
#include "output/report_output.hpp"

#include "output/figures_output.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

// A table cell: no line breaks, no column separators, no HTML.
std::string cell(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    switch (c) {
    case '|':
      out += "\\|";
      break;
    case '\n':
    case '\r':
    case '\t':
      out += ' ';
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string duration_or_dash(const std::optional<Duration>& d)
{
  return d ? human_duration(*d) : std::string("-");
}

std::string rate_or_dash(const std::optional<double>& rate)
{
  return rate ? fmt::format("{:.0f}%", *rate * 100) : std::string("-");
}

std::string recovery_cell(const health::IncidentFigures& f)
{
  const int attempts = f.recovery_recovered + f.recovery_failed;
  return attempts == 0 ? std::string("-")
                       : fmt::format("{}/{} ({})", f.recovery_recovered, attempts,
                                     rate_or_dash(f.recovery_success));
}

} // namespace

void print_report_markdown(const status::Report& report, std::ostream& out)
{
  out << fmt::format("# Heartbeat report: {} to {}\n\n", util::format_rfc3339(report.since),
                     util::format_rfc3339(report.now));
  const auto& f = report.figures;
  out << fmt::format("- Window: {}\n", util::format_duration(report.window));
  out << fmt::format("- Uptime: {} over {} targets\n", uptime_text(report.uptime),
                     report.targets.size());
  out << fmt::format("- Incidents: {} ({} still open)\n", f.incidents, f.open);
  out << fmt::format("- MTTD (first failure to first notification): {}\n",
                     duration_or_dash(f.mttd));
  out << fmt::format("- MTTR (first failure to recovery): {}\n", duration_or_dash(f.mttr));
  out << fmt::format("- Recovery success: {}\n", recovery_cell(f));
  out << fmt::format("- False positives: {} ({} of the incidents that ended)\n",
                     f.false_positives, rate_or_dash(f.false_positive_rate));
  out << "\nDefinitions: docs/health.md.\n";

  out << "\n## Targets\n\n";
  out << "| Target | Kind | Uptime | Observations | Down | Incidents | MTTD | MTTR | Recovery | "
         "False positives |\n";
  out << "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& t : report.targets) {
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", cell(t.info.id),
                       to_string(t.info.kind), uptime_text(t.uptime), t.observations, t.down,
                       t.figures.incidents, duration_or_dash(t.figures.mttd),
                       duration_or_dash(t.figures.mttr), recovery_cell(t.figures),
                       t.figures.false_positives);
  }

  out << "\n## Incidents\n\n";
  if (f.incidents == 0) {
    out << "None in this window.\n";
  } else {
    out << "| Target | Started | Duration | Detected after | Cause |\n";
    out << "|---|---|--:|--:|---|\n";
    for (const auto& t : report.targets) {
      for (const auto& i : t.incidents) {
        const std::string duration =
            i.recovered_at ? human_duration(*i.recovered_at - i.first_failure) +
                                 (health::is_false_positive(i) ? " (cleared by itself)" : "")
                           : fmt::format("open ({} so far)",
                                         human_duration(report.now - i.first_failure));
        const std::string detected =
            i.first_notified ? human_duration(*i.first_notified - i.first_failure)
                             : std::string("not notified");
        out << fmt::format("| {} | {} | {} | {} | {} |\n", cell(i.target_id),
                           util::format_rfc3339(i.first_failure), duration, detected,
                           cell(i.cause));
      }
    }
  }

  out << "\n## Notifications\n\n";
  if (report.channels.empty()) {
    out << "No notifications in this window.\n";
    return;
  }
  out << "| Channel | Sent | Failed | Pending | Last error |\n";
  out << "|---|--:|--:|--:|---|\n";
  for (const auto& ch : report.channels) {
    out << fmt::format("| {} | {} | {} | {} | {} |\n", cell(ch.channel), ch.sent, ch.failed,
                       ch.pending + ch.held, cell(ch.last_error));
  }
}

nlohmann::json report_to_json(const status::Report& report)
{
  auto number_or_null = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : report.targets) {
    nlohmann::json incidents = nlohmann::json::array();
    for (const auto& incident : t.incidents) {
      incidents.push_back(incident_json(incident));
    }
    targets.push_back({{"id", t.info.id},
                       {"name", t.info.name},
                       {"kind", to_string(t.info.kind)},
                       {"uptime", number_or_null(t.uptime)},
                       {"observations", t.observations},
                       {"down", t.down},
                       {"figures", incident_figures_json(t.figures)},
                       {"incidents", incidents}});
  }
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : report.channels) {
    channels.push_back({{"channel", c.channel},
                        {"sent", c.sent},
                        {"failed", c.failed},
                        {"pending", c.pending},
                        {"held", c.held},
                        {"lastError", c.last_error.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(c.last_error)}});
  }
  return {{"schema", 1},
          {"generatedAt", util::format_rfc3339(report.now)},
          {"since", util::format_rfc3339(report.since)},
          {"windowMs", report.window.count()},
          {"uptime", number_or_null(report.uptime)},
          {"figures", incident_figures_json(report.figures)},
          {"targets", targets},
          {"channels", channels}};
}

} // namespace hb::output
