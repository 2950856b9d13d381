// SPDX-License-Identifier: MIT
#include "status/dashboard.hpp"

#include <algorithm>

namespace hb::status {
namespace {

constexpr Duration k_hour{3'600'000};

OpenIncident open_incident(const TargetRow& row)
{
  OpenIncident incident;
  incident.target_id = row.info.id;
  incident.target_name = row.info.name;
  const bool by_beats = row.beat && row.info.checks.empty();
  incident.state = row.stale ? "stale" : by_beats ? row.beat->state : std::string(to_string(row.health));
  incident.since = by_beats ? row.beat->since : row.since;
  incident.cause = row.message;
  if (incident.cause.empty() && row.beat) {
    incident.cause = row.beat->last_message;
  }
  return incident;
}

} // namespace

Dashboard collect_dashboard(store::Store& store, TimePoint now, std::string database)
{
  Dashboard dashboard;
  dashboard.report = collect(store, now, std::move(database));
  // Whole hours, so that the strip's cells and the roll-ups' buckets line up.
  const auto hour_start = TimePoint(Duration(now.time_since_epoch().count() / k_hour.count() * k_hour.count()));
  dashboard.hours_since = hour_start - k_hour * (k_dashboard_hours - 1);
  dashboard.hours = store.hourly_tallies(dashboard.hours_since, now);

  for (const auto& row : dashboard.report.targets) {
    if (problem_level(row) >= 2) {
      dashboard.open_incidents.push_back(open_incident(row));
    }
  }
  std::stable_sort(dashboard.open_incidents.begin(), dashboard.open_incidents.end(),
                   [](const OpenIncident& a, const OpenIncident& b) {
                     return a.since.value_or(TimePoint::max()) < b.since.value_or(TimePoint::max());
                   });
  dashboard.notifications = store.recent_notifications("", k_dashboard_notifications);
  return dashboard;
}

} // namespace hb::status
