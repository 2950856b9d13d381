// SPDX-License-Identifier: MIT
#pragma once

// How an event is routed when it is written: what routing needs to know about its target (the
// facts notify::route decides on), which notifications it gets, and what is kept on it for
// reminders. Shared by every backend's EventWriter so that an event is told to the same channels
// whichever database records it; each backend only answers the questions of RouteFactsReader with
// its own SQL.

#include "core/model/event.hpp"
#include "core/model/notify.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"
#include "notify/route.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::store {

// What routing asks the database about an event's target, inside the event's transaction. Each
// backend implements it with its SQL; the answers are decided on in read_route_facts.
class RouteFactsReader {
public:
  virtual ~RouteFactsReader() = default;

  // Returns target `id` (without its checks), std::nullopt when there is no such target.
  virtual std::optional<TargetRecord> target(const std::string& id) = 0;
  // Returns whether target `id` is failing now: its checks, or its beats (offline, or a job
  // failed, late or hung), as the store last recorded them.
  virtual bool is_failing(const std::string& id) = 0;
  // Returns the number of events of target `id` at or after `from` that changed its state: not a
  // first state (from "unknown"), not an escalation.
  virtual int changes_since(const std::string& id, TimePoint from) = 0;
  // Calls `visit` with the id and stored type name of each of target `id`'s latest `limit`
  // events, newest first, until it returns false.
  virtual void newest_events(const std::string& id, int limit,
                             const std::function<bool(std::int64_t, std::string_view)>& visit) = 0;
  // Returns the id of the `escalated` event that opened escalation `escalation_id`; for an
  // escalation recorded before escalations kept it (or none given), target `id`'s latest
  // `escalated` event. std::nullopt when there is none.
  virtual std::optional<std::int64_t> escalation_event(std::int64_t escalation_id,
                                                       const std::string& id) = 0;
  // Calls `visit` with each channel, the stored type name of the event it was last told about
  // target `id` (the latest outbox row not suppressed and not a fallback, escalations left out)
  // and when that row was created.
  virtual void last_told(
    const std::string& id,
    const std::function<void(std::string channel, std::string_view type, TimePoint at)>& visit) = 0;
};

// Returns the facts routing needs about `event`'s target, read through `reader`.
notify::RouteFacts read_route_facts(RouteFactsReader& reader, const NotifyPolicy& policy,
                                    const Event& event);

// Returns the outbox rows for `event` under `policy` (none without channels, or in grace), the
// facts read through `reader` only when there is something to route.
std::vector<Notification> route_event(RouteFactsReader& reader, const NotifyPolicy& policy,
                                      const Event& event);

// Returns what routing said of `event` (its outbox rows `rows`), kept on it for reminders
// (notify::reminder_due): "grace", "unrouted", "suppressed" or "routed".
std::string notice_of(const Event& event, const std::vector<Notification>& rows);

// Ties `rows` to the event `event_id` they were routed for, which opens the incident of those
// that have none yet.
void link_to_event(std::vector<Notification>& rows, std::int64_t event_id);

} // namespace hb::store
