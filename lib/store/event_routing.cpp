// SPDX-License-Identifier: MIT
#include "store/event_routing.hpp"

#include <algorithm>

namespace hb::store {
namespace {

// The events of a target read back to find where its current incident began: an incident of more
// events than this is dated from the oldest of them.
constexpr int k_incident_history_limit = 500;

} // namespace

notify::RouteFacts read_route_facts(RouteFactsReader& reader, const NotifyPolicy& policy,
                                    const Event& event)
{
  notify::RouteFacts facts;
  if (!event.target_id.empty()) {
    facts.target = reader.target(event.target_id);
    for (const std::string& upstream : policy.settings_of(event.target_id).depends_on) {
      if (reader.is_failing(upstream)) {
        facts.failing_dependencies.push_back(upstream);
      }
    }
  }
  // Flapping: the changes of state within the window, this one included, against the limit
  // (an agent's or job's heartbeat settings; the same defaults for every other target).
  HeartbeatInfo limits;
  if (facts.target && facts.target->info.heartbeat) {
    limits = *facts.target->info.heartbeat;
  }
  facts.flapping_window = limits.flapping_window;
  const int transitions = reader.changes_since(event.target_id, event.at - limits.flapping_window) +
                          (event.old_state != "unknown" ? 1 : 0);
  facts.flapping = limits.flapping_transitions > 0 && transitions >= limits.flapping_transitions;

  // The current incident: the bad events since the last recovery.
  reader.newest_events(event.target_id, k_incident_history_limit,
                       [&](std::int64_t id, std::string_view name) {
                         const auto type = parse_event_type(name);
                         if (!type || notify::is_recovery(*type)) {
                           return false;
                         }
                         if (notify::is_bad(*type)) {
                           facts.incident_id = id;
                           facts.incident_level =
                             std::max(facts.incident_level, notify::base_level(*type));
                         }
                         return true;
                       });
  if (notify::is_bad(event.type)) {
    facts.incident_level = std::max(facts.incident_level, notify::base_level(event.type));
  }
  // An escalation is an incident of its own (the people who act on it are told apart from the
  // target's failures): `escalated` opens it (incident 0: the writer makes it the event's own
  // id), and `escalation_resolved` ends the one its escalation's `escalated` event opened, so
  // that PagerDuty resolves the dedup key it triggered (two shared causes open at once are two
  // incidents, both of target "").
  if (event.type == EventType::escalated) {
    facts.incident_id = 0;
  } else if (event.type == EventType::escalation_resolved) {
    facts.incident_id = reader.escalation_event(event.escalation_id, event.target_id).value_or(0);
  }

  // What each channel was last told about this target's health (escalations are told apart:
  // an escalation after a failure leaves "failing" as the last word, owed a recovery).
  reader.last_told(event.target_id,
                   [&](std::string channel, std::string_view name, TimePoint at) {
                     const auto type = parse_event_type(name);
                     facts.told[std::move(channel)] =
                       notify::RouteFacts::Told{type && notify::is_bad(*type), at};
                   });
  return facts;
}

std::vector<Notification> route_event(RouteFactsReader& reader, const NotifyPolicy& policy,
                                      const Event& event)
{
  if (policy.channels.empty() || event.in_grace) {
    return {};
  }
  return notify::route(policy, event, read_route_facts(reader, policy, event));
}

std::string notice_of(const Event& event, const std::vector<Notification>& rows)
{
  if (event.in_grace) {
    return "grace";
  }
  if (rows.empty()) {
    return "unrouted";
  }
  const bool all_suppressed = std::all_of(rows.begin(), rows.end(), [](const Notification& n) {
    return n.state == OutboxState::suppressed;
  });
  return all_suppressed ? "suppressed" : "routed";
}

void link_to_event(std::vector<Notification>& rows, std::int64_t event_id)
{
  for (Notification& row : rows) {
    row.event_id = event_id;
    if (row.incident_id == 0) {
      row.incident_id = event_id;  // this event opens the incident
    }
  }
}

} // namespace hb::store
