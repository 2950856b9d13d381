// SPDX-License-Identifier: MIT
#include "output/figures_output.hpp"

#include "output/table.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <cmath>

namespace hb::output {
namespace {

nlohmann::json optional_number(const std::optional<double>& value)
{
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json optional_ms(const std::optional<Duration>& value)
{
  return value ? nlohmann::json(value->count()) : nlohmann::json(nullptr);
}

nlohmann::json optional_time(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

std::string optional_duration(const std::optional<Duration>& d)
{
  return d ? human_duration(*d) : std::string("-");
}

} // namespace

Tone tone_of(health::Band band)
{
  switch (band) {
  case health::Band::excellent:
  case health::Band::good:
    return Tone::good;
  case health::Band::fair:
  case health::Band::poor:
    return Tone::warn;
  case health::Band::critical:
    return Tone::bad;
  }
  return Tone::plain;
}

std::string human_duration(Duration d)
{
  if (d >= Duration(60'000)) {
    d = Duration((d.count() + 500) / 1000 * 1000);
  }
  return util::format_duration(d);
}

std::string score_cell(const std::optional<health::Score>& score, const Style& style)
{
  if (!score) {
    return "-";
  }
  return style.paint(fmt::format("{:.0f} {}", std::floor(score->value), to_string(score->band)),
                     tone_of(score->band));
}

std::string uptime_text(const std::optional<double>& uptime)
{
  if (!uptime) {
    return "-";
  }
  if (*uptime >= 1.0) {
    return "100%";
  }
  // Rounded down, so that 99.96% never reads as a perfect 100.0%.
  return fmt::format("{:.1f}%", std::floor(*uptime * 1000) / 10);
}

void print_figures_summary(const health::Figures& figures, std::ostream& out, const Style& style)
{
  const auto& u = figures.uptime;
  if (!figures.score && !u.day && !u.week && !u.month) {
    return;
  }
  std::string line = "health: ";
  line += figures.score ? score_cell(figures.score, style) : std::string("no score yet");
  line += fmt::format("; uptime {} 24h, {} 7d, {} 30d", uptime_text(u.day), uptime_text(u.week),
                      uptime_text(u.month));
  out << line << '\n';
  const auto& i = figures.incidents;
  if (i.incidents == 0 && i.recovery_recovered + i.recovery_failed == 0) {
    return;
  }
  std::string incidents = fmt::format("incidents 7d: {}", i.incidents);
  if (i.open > 0) {
    incidents += fmt::format(" ({} open)", i.open);
  }
  incidents += fmt::format("; MTTD {}, MTTR {}", optional_duration(i.mttd), optional_duration(i.mttr));
  if (i.false_positive_rate) {
    incidents += fmt::format("; false positives {:.0f}%", *i.false_positive_rate * 100);
  }
  if (i.recovery_success) {
    incidents += fmt::format("; recovery {}/{} succeeded", i.recovery_recovered,
                             i.recovery_recovered + i.recovery_failed);
  }
  out << incidents << '\n';
}

void print_incidents(const std::vector<health::IncidentTimeline>& incidents, TimePoint now,
                     std::ostream& out)
{
  if (incidents.empty()) {
    return;
  }
  out << "\nincidents (last 7 days):\n";
  Table table({"STARTED", "DETECTED AFTER", "REPAIRED AFTER", "CAUSE"});
  for (const auto& incident : incidents) {
    const std::string detected =
        incident.first_notified ? human_duration(*incident.first_notified -
                                                 incident.first_failure)
                                : std::string("not notified");
    const std::string repaired =
        incident.recovered_at
            ? human_duration(*incident.recovered_at - incident.first_failure) +
                  (health::is_false_positive(incident) ? " (by itself)" : "")
            : fmt::format("open for {}", human_duration(now - incident.first_failure));
    table.add({util::format_rfc3339(incident.first_failure), detected, repaired, incident.cause});
  }
  table.print(out, "  ");
}

nlohmann::json figures_json(const health::Figures& figures)
{
  nlohmann::json out;
  if (figures.score) {
    const auto& c = figures.score->components;
    out["score"] = figures.score->value;
    out["band"] = to_string(figures.score->band);
    // A target's score has at least one component; the fleet's, a mean of the targets' scores,
    // has none: null, as for no score, rather than five nulls that read as "no data yet".
    const bool any = c.consistency || c.performance || c.error_rate || c.resources || c.impact;
    out["components"] = any ? nlohmann::json{{"consistency", optional_number(c.consistency)},
                                             {"performance", optional_number(c.performance)},
                                             {"errorRate", optional_number(c.error_rate)},
                                             {"resources", optional_number(c.resources)},
                                             {"impact", optional_number(c.impact)}}
                            : nlohmann::json(nullptr);
  } else {
    out["score"] = nullptr;
    out["band"] = nullptr;
    out["components"] = nullptr;
  }
  out["uptime"] = {{"24h", optional_number(figures.uptime.day)},
                   {"7d", optional_number(figures.uptime.week)},
                   {"30d", optional_number(figures.uptime.month)}};
  out["incidents7d"] = incident_figures_json(figures.incidents);
  return out;
}

nlohmann::json incident_figures_json(const health::IncidentFigures& i)
{
  return {{"count", i.incidents},
          {"open", i.open},
          {"notified", i.notified},
          {"falsePositives", i.false_positives},
          {"mttdMs", optional_ms(i.mttd)},
          {"mttrMs", optional_ms(i.mttr)},
          {"falsePositiveRate", optional_number(i.false_positive_rate)},
          {"recoveryRecovered", i.recovery_recovered},
          {"recoveryFailed", i.recovery_failed},
          {"recoverySuccess", optional_number(i.recovery_success)}};
}

nlohmann::json incident_json(const health::IncidentTimeline& incident)
{
  return {{"target", incident.target_id},
          {"firstFailure", util::format_rfc3339(incident.first_failure)},
          {"failingAt", util::format_rfc3339(incident.failing_at)},
          {"firstNotified", optional_time(incident.first_notified)},
          {"recoveredAt", optional_time(incident.recovered_at)},
          {"firstRecoveryAction", optional_time(incident.first_recovery_action)},
          {"falsePositive", health::is_false_positive(incident)},
          {"cause", incident.cause}};
}

} // namespace hb::output
