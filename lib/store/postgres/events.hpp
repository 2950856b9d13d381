// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/event.hpp"
#include "core/model/notify.hpp"
#include "core/types.hpp"
#include "store/postgres/connection.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// The one writer of events on PostgreSQL: executions, beats, beat refreshes, recovery and system
// events all write their events through it, inside the transaction of the change each event
// records, and it writes the event's notifications (notify::route over the policy in `meta` and
// the facts it reads here) into the outbox in that same transaction: a crash can delay a
// notification, never lose it. The same routing as SQLite's EventWriter.
class EventWriter {
public:
  explicit EventWriter(Connection& db) : m_db(db) {}

  // Inserts `event` and its outbox rows and assigns event.id, inside the caller's open
  // transaction (the event commits or rolls back with it). Throws PgError.
  void write(Event& event);

private:
  const NotifyPolicy& policy();

  Connection& m_db;
  std::optional<NotifyPolicy> m_policy;  // read on the first event
};

// Returns up to `limit` events, newest first; of all targets when `target_id` is empty.
std::vector<Event> read_recent_events(Connection& db, const std::string& target_id, int limit);

// Returns per target the number of events since `since` whose type is one of `types`, not
// counting a first state (a change from "unknown").
std::map<std::string, int> read_event_counts(Connection& db, TimePoint since,
                                             const std::vector<EventType>& types);

} // namespace hb::store::postgres
