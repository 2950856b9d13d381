// SPDX-License-Identifier: MIT
#pragma once

// Routing (SPEC §2 "Notification", DESIGN "events and routing"): which channels hear of an event
// and in what state its outbox rows start. Pure functions over the policy and the facts the store
// reads inside the event's own transaction; the store writes what they return, in that
// transaction, so an event and its notifications commit together or not at all.
//
// The rules, in order:
//  - An event inside the new-target grace is heard by nobody.
//  - A recovery (recovered, agent_online, job_recovered) goes to exactly the channels whose last
//    word about the target was bad, whatever the rules say now and through maintenance and a
//    failing dependency: what people were told is always corrected, and nobody hears "recovered"
//    of an incident they were never told about.
//  - Any other event goes to the channels of every `notify` rule it matches. Its row is
//    suppressed (kept for the record, never sent) inside a maintenance window of the target,
//    while one of its depends_on targets is failing (the cause is upstream), and for a flapping
//    target when the channel already heard something bad about it within the flapping window.
//  - A row that would be sent is held in quiet hours (the channel's or the target's, in their
//    timezones) until they end, unless the event is critical.
//  - Dashboard rows are delivered by being written: they start sent.
//  - An escalation (escalated, escalation_resolved) goes to recovery.escalation.channels (the
//    policy's escalation_channels), whatever the rules say, at critical priority: never held by
//    quiet hours, never suppressed (hb-recover already left alone what maintenance or a failing
//    dependency covers).

#include "core/model/event.hpp"
#include "core/model/notify.hpp"
#include "core/model/target.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::notify {

// An event that opens or continues an incident: failing, warning, agent_degraded, agent_offline,
// job_failed, job_late, job_hung, still_failing.
bool is_bad(EventType type);
// An event that ends one: recovered, agent_online, job_recovered.
bool is_recovery(EventType type);
// An event that closes what PagerDuty and the like opened: a recovery or escalation_resolved.
bool ends_incident(EventType type);
// The level an event has by its type: pulse_stale critical; failing, agent_offline, job_failed,
// job_late, job_hung, discovery_failed alert; warning, agent_degraded, clock_skew warning; the
// rest info. Recoveries and reminders take their incident's level instead (route()).
EventLevel base_level(EventType type);

// What the store knows, inside the event's transaction, about the event's target.
struct RouteFacts {
  std::optional<TargetRecord> target;     // std::nullopt: a system event, or a target unknown
  std::vector<std::string> failing_dependencies;  // depends_on targets that are failing now
  bool flapping = false;                  // changes of state in the flapping window reached the limit
  Duration flapping_window{3'600'000};
  std::int64_t incident_id = 0;           // the event that opened the current incident
  EventLevel incident_level = EventLevel::info;  // the highest level of the incident's events
  // Per channel, the last word it was given about this target (rows not suppressed).
  struct Told {
    bool bad = false;
    TimePoint at;
  };
  std::map<std::string, Told> told;
};

// Returns the outbox rows for `event` (which has its id), in the order of policy.channels.
std::vector<Notification> route(const NotifyPolicy& policy, const Event& event,
                                const RouteFacts& facts);

// Returns the later end of the quiet hours `now` falls in, the channel's or the target's (nullptr:
// none), if it falls in any.
std::optional<TimePoint> quiet_end(const ChannelPolicy& channel,
                                   const TargetNotifySettings* target, TimePoint now);

// Returns true when `rule` matches `event` at `level` about `target` (nullptr: a system event,
// which only rules without target filters match).
bool matches(const NotifyRule& rule, const Event& event, EventLevel level,
             const TargetRecord* target);

// Returns true when a target that has been failing since `failing_since` (nullopt: not failing)
// is due a still_failing reminder at `now`: repeat_every is set, and nothing bad about the
// incident was said for repeat_every (or ever, when its events were all suppressed or in grace),
// and no reminder was written for repeat_every. The caller leaves out targets in grace, in
// maintenance or behind a failing dependency (their reminder would only be suppressed).
bool reminder_due(const TargetNotifySettings& settings, std::optional<TimePoint> failing_since,
                  const NoticeMarks& marks, TimePoint now);

} // namespace hb::notify
