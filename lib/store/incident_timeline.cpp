// SPDX-License-Identifier: MIT
#include "store/incident_timeline.hpp"

#include "notify/route.hpp"

#include <algorithm>
#include <utility>

namespace hb::store {

std::optional<bool> opens(EventType type)
{
  if (type == EventType::still_failing) {
    return std::nullopt;
  }
  if (notify::is_bad(type)) {
    return true;
  }
  if (notify::is_recovery(type)) {
    return false;
  }
  return std::nullopt;
}

void IncidentTimelines::add_target(const TargetInfo& target)
{
  m_intervals[target.id] = target.heartbeat && target.heartbeat->every > Duration(0)
                               ? target.heartbeat->every
                               : target.interval;
}

std::vector<std::string> IncidentTimelines::targets(const std::string& target_id) const
{
  std::vector<std::string> ids;
  for (const auto& [id, interval] : m_intervals) {
    if (target_id.empty() || id == target_id) {
      ids.push_back(id);
    }
  }
  return ids;
}

void IncidentTimelines::set_last_before(const std::string& target_id,
                                        std::optional<EventType> type)
{
  m_open_before[target_id] = type && opens(*type).value_or(false);
}

void IncidentTimelines::add_event(bool opening, IncidentEvent event)
{
  const auto it = m_current.find(event.target_id);
  if (!opening) {
    m_open_before[event.target_id] = false;
    if (it != m_current.end()) {
      m_incidents[it->second].recovered_at = event.at;
      m_current.erase(it);
    }
    return;
  }
  if (it != m_current.end() || m_open_before[event.target_id]) {
    return;  // part of the incident already open
  }
  health::IncidentTimeline incident;
  incident.target_id = event.target_id;
  incident.failing_at = event.at;
  incident.first_failure = event.since ? std::min(event.at, *event.since) : event.at;
  incident.cause = std::move(event.message);
  incident.interval = m_intervals[event.target_id];
  m_current[event.target_id] = m_incidents.size();
  m_opening_ids.push_back(event.id);
  m_incidents.push_back(std::move(incident));
}

TimePoint IncidentTimelines::earliest(TimePoint since) const
{
  TimePoint earliest = since;
  for (const auto& incident : m_incidents) {
    earliest = std::min(earliest, incident.first_failure);
  }
  return earliest;
}

std::vector<health::IncidentTimeline>
IncidentTimelines::finish(const std::map<std::int64_t, TimePoint>& first_sent,
                          const std::map<std::string, std::vector<TimePoint>>& actions,
                          TimePoint now)
{
  for (std::size_t i = 0; i < m_incidents.size(); ++i) {
    health::IncidentTimeline& incident = m_incidents[i];
    if (const auto it = first_sent.find(m_opening_ids[i]); it != first_sent.end()) {
      incident.first_notified = it->second;
    }
    if (const auto it = actions.find(incident.target_id); it != actions.end()) {
      const auto first = std::lower_bound(it->second.begin(), it->second.end(),
                                          incident.first_failure);
      if (first != it->second.end() && *first <= incident.recovered_at.value_or(now)) {
        incident.first_recovery_action = *first;
      }
    }
  }
  return std::move(m_incidents);
}

} // namespace hb::store
