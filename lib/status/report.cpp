// SPDX-License-Identifier: MIT
#include "status/report.hpp"

#include "core/errors.hpp"

#include <map>

namespace hb::status {

Report collect_report(store::Store& store, TimePoint now, Duration window)
{
  if (window <= Duration(0)) {
    throw UsageError("--window: expected a positive duration like \"7d\"");
  }
  Report report;
  report.now = now;
  report.window = window;
  report.since = now - window;
  const auto tallies = store.tallies(report.since, now);
  std::map<std::string, std::vector<health::IncidentTimeline>> incidents;
  for (auto& incident : store.incidents(report.since, now)) {
    incidents[incident.target_id].push_back(std::move(incident));
  }
  const auto attempts = store.recovery_counts_by_target(report.since);

  health::Tally all;
  std::vector<health::IncidentTimeline> every;
  int recovered = 0;
  int failed = 0;
  for (const auto& record : store.targets(store::IncludeRetired::no)) {
    ReportTarget row;
    row.info = record.info;
    if (const auto it = tallies.find(record.info.id); it != tallies.end()) {
      row.uptime = health::uptime_of(it->second);
      row.observations = it->second.runs;
      row.down = it->second.down;
      all += it->second;
    }
    if (const auto it = incidents.find(record.info.id); it != incidents.end()) {
      row.incidents = it->second;
      every.insert(every.end(), it->second.begin(), it->second.end());
    }
    row.figures = health::incident_figures(row.incidents);
    if (const auto it = attempts.find(record.info.id); it != attempts.end()) {
      health::add_recovery_attempts(row.figures, it->second.succeeded, it->second.failed);
      recovered += it->second.succeeded;
      failed += it->second.failed;
    }
    report.targets.push_back(std::move(row));
  }
  report.uptime = health::uptime_of(all);
  report.figures = health::incident_figures(every);
  health::add_recovery_attempts(report.figures, recovered, failed);
  report.channels = store.channel_health(report.since);
  return report;
}

} // namespace hb::status
