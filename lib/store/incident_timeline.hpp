// SPDX-License-Identifier: MIT
#pragma once

// How read_incidents turns the events, notifications and recovery actions it reads into incident
// timelines, shared by every backend so that both draw the same incidents from the same history:
// only the SQL that reads the rows differs between them.

#include "core/model/target.hpp"
#include "core/types.hpp"
#include "health/figures.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store {

// Whether an event of `type` starts (bad) or ends (recovery) an incident; std::nullopt for the
// events that do neither.
std::optional<bool> opens(EventType type);

// An event of the window that starts or ends an incident, as read from the events table.
struct IncidentEvent {
  std::int64_t id = 0;
  std::string target_id;
  TimePoint at;
  std::string message;
  std::optional<TimePoint> since;  // the first failing result of its streak, when recorded
};

// Assembles the incidents from what a backend reads, in the order it reads it: the targets, the
// last event of each before the window, the window's events in time order, then the first
// notifications sent and the recovery actions.
class IncidentTimelines {
public:
  // Notes the expected interval of `target` (its beat interval when it pushes beats): what
  // "cleared within one interval" measures.
  void add_target(const TargetInfo& target);

  // Returns the ids of the targets added, in order, or only `target_id` when it is not empty:
  // those whose last event before the window is to be read.
  std::vector<std::string> targets(const std::string& target_id) const;

  // Notes the type of `target_id`'s last event before the window that starts or ends an
  // incident: whether the target was already in one when the window began.
  void set_last_before(const std::string& target_id, std::optional<EventType> type);

  // Takes the window's next event, in time order, that starts (`opening`) or ends an incident.
  // A bad event of a target already in an incident is part of that one.
  void add_event(bool opening, IncidentEvent event);

  // Whether the window holds no incident.
  bool empty() const { return m_incidents.empty(); }

  // Returns the earliest of `since` and the incidents' first failures: from when the recovery
  // actions are to be read.
  TimePoint earliest(TimePoint since) const;

  // Returns the incidents in the order they started, each with its first notification sent
  // (`first_sent`, by the id of the event that opened the incident) and its first recovery
  // action from its first failure until it ended or `now` (`actions`, by target, in time order).
  // Called last: it hands the incidents over.
  std::vector<health::IncidentTimeline>
  finish(const std::map<std::int64_t, TimePoint>& first_sent,
         const std::map<std::string, std::vector<TimePoint>>& actions, TimePoint now);

private:
  std::map<std::string, Duration> m_intervals;
  std::map<std::string, bool> m_open_before;
  std::vector<health::IncidentTimeline> m_incidents;
  std::map<std::string, std::size_t> m_current;  // target → index of its open incident
  std::vector<std::int64_t> m_opening_ids;        // per incident, the id of its opening event
};

} // namespace hb::store
