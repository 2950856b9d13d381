// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/event.hpp"
#include "core/model/notify.hpp"
#include "core/types.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <string>
#include <vector>

namespace hb::store::sqlite {

// The one writer of events: executions, beats, beat refreshes and system events all write their
// events through it, inside the transaction of the change each event records, and it writes the
// event's notifications (notify::route over the policy in `meta` and the facts it reads here)
// into the outbox in that same transaction: a crash can delay a notification, never lose it.
class EventWriter {
public:
  explicit EventWriter(SQLite::Database& db);

  // Inserts `event` and its outbox rows and assigns event.id. `transaction` is the open
  // transaction of the change the event records (it is only a witness: the event commits or
  // rolls back with it). Throws SQLite::Exception.
  void write(const SQLite::Transaction& transaction, Event& event);

private:
  const NotifyPolicy& policy();

  SQLite::Database& m_db;
  SQLite::Statement m_insert;
  std::optional<NotifyPolicy> m_policy;  // read on the first event
};

// Returns up to `limit` events, newest first; of all targets when `target_id` is empty.
std::vector<Event> read_recent_events(SQLite::Database& db, const std::string& target_id,
                                      int limit);

// Returns per target the number of events since `since` whose type is one of `types`, not
// counting a first state (a change from "unknown").
std::map<std::string, int> read_event_counts(SQLite::Database& db, TimePoint since,
                                             const std::vector<EventType>& types);

} // namespace hb::store::sqlite
