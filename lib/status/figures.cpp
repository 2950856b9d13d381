// SPDX-License-Identifier: MIT
#include "status/figures.hpp"

#include "health/score.hpp"
#include "status/status.hpp"

#include <cmath>

namespace hb::status {
namespace {

constexpr Duration k_day{86'400'000};

health::Tally tally_of(const std::map<std::string, health::Tally>& tallies, const std::string& id)
{
  const auto it = tallies.find(id);
  return it == tallies.end() ? health::Tally{} : it->second;
}

} // namespace

FigureSources::FigureSources(store::Store& store, TimePoint now, const std::string& only_target)
    : m_now(now),
      m_day(store.tallies(now - k_day, now)),
      m_week(store.tallies(now - 7 * k_day, now)),
      m_month(store.tallies(now - 30 * k_day, now)),
      m_attempts(store.recovery_counts_by_target(now - k_incident_window)),
      m_policy(store.notify_policy())
{
  for (auto& incident : store.incidents(now - k_incident_window, now, only_target)) {
    m_incidents[incident.target_id].push_back(std::move(incident));
  }
}

health::Figures FigureSources::of(const TargetRecord& record, const TargetRow& row) const
{
  health::Figures figures;
  const std::string& id = record.info.id;
  figures.uptime.day = health::uptime_of(tally_of(m_day, id));
  figures.uptime.week = health::uptime_of(tally_of(m_week, id));
  figures.uptime.month = health::uptime_of(tally_of(m_month, id));
  if (const auto it = m_incidents.find(id); it != m_incidents.end()) {
    figures.incidents = health::incident_figures(it->second);
  }
  if (const auto it = m_attempts.find(id); it != m_attempts.end()) {
    health::add_recovery_attempts(figures.incidents, it->second.succeeded, it->second.failed);
  }
  if (record.info.paused || record.retired_at) {
    return figures;
  }
  health::ScoreInputs inputs;
  inputs.target = record;
  inputs.health = row.stale ? Health::failing : row.health;
  inputs.impact = m_policy ? m_policy->settings_of(id).impact : 1.0;
  inputs.day = tally_of(m_day, id);
  if (row.beat) {
    inputs.metrics = row.beat->metrics;
  }
  inputs.now = m_now;
  figures.score = health::score_of(health::components_of(inputs));
  return figures;
}

std::vector<health::IncidentTimeline> FigureSources::incidents_of(const std::string& target_id) const
{
  const auto it = m_incidents.find(target_id);
  return it == m_incidents.end() ? std::vector<health::IncidentTimeline>{} : it->second;
}

health::Figures FigureSources::overall(const std::vector<TargetRow>& rows) const
{
  health::Figures figures;
  health::Tally day;
  health::Tally week;
  health::Tally month;
  std::vector<health::IncidentTimeline> incidents;
  int recovered = 0;
  int failed = 0;
  double weighted = 0;
  double weights = 0;
  for (const auto& row : rows) {
    if (row.retired_at || row.info.paused) {
      continue;
    }
    const std::string& id = row.info.id;
    day += tally_of(m_day, id);
    week += tally_of(m_week, id);
    month += tally_of(m_month, id);
    if (const auto it = m_incidents.find(id); it != m_incidents.end()) {
      incidents.insert(incidents.end(), it->second.begin(), it->second.end());
    }
    if (const auto it = m_attempts.find(id); it != m_attempts.end()) {
      recovered += it->second.succeeded;
      failed += it->second.failed;
    }
    if (row.figures.score) {
      const double impact = m_policy ? std::max(0.0, m_policy->settings_of(id).impact) : 1.0;
      weighted += row.figures.score->value * impact;
      weights += impact;
    }
  }
  figures.uptime.day = health::uptime_of(day);
  figures.uptime.week = health::uptime_of(week);
  figures.uptime.month = health::uptime_of(month);
  figures.incidents = health::incident_figures(incidents);
  health::add_recovery_attempts(figures.incidents, recovered, failed);
  if (weights > 0) {
    health::Score score;
    score.value = std::round(weighted / weights * 10) / 10;
    score.band = health::band_of(score.value);
    figures.score = score;
  }
  return figures;
}

} // namespace hb::status
