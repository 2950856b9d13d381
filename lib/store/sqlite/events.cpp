// SPDX-License-Identifier: MIT
#include "store/sqlite/events.hpp"

#include "store/sqlite/codecs.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>

namespace hb::store::sqlite {

EventWriter::EventWriter(SQLite::Database& db)
  : m_db(db),
    m_insert(db, R"sql(
      INSERT INTO events (target_id, at, type, old_state, new_state, message, in_grace)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql")
{
}

void EventWriter::write(const SQLite::Transaction& /*transaction*/, Event& event)
{
  m_insert.bind(1, event.target_id);
  bind_time(m_insert, 2, event.at);
  m_insert.bind(3, std::string(to_string(event.type)));
  m_insert.bind(4, event.old_state);
  m_insert.bind(5, event.new_state);
  m_insert.bind(6, event.message);
  m_insert.bind(7, event.in_grace ? 1 : 0);
  m_insert.exec();
  m_insert.reset();
  event.id = m_db.getLastInsertRowid();
}

std::vector<Event> read_recent_events(SQLite::Database& db, const std::string& target_id,
                                      int limit)
{
  std::vector<Event> out;
  // Two statements rather than "?1 = '' OR target_id = ?1", which would keep SQLite from
  // using events_by_target; the id breaks ties between events of the same instant.
  SQLite::Statement q(db, target_id.empty() ? R"sql(
    SELECT id, target_id, at, type, old_state, new_state, message, in_grace FROM events
    ORDER BY at DESC, id DESC LIMIT :limit)sql"
                                            : R"sql(
    SELECT id, target_id, at, type, old_state, new_state, message, in_grace FROM events
    WHERE target_id = :target ORDER BY at DESC, id DESC LIMIT :limit)sql");
  if (!target_id.empty()) {
    q.bind(":target", target_id);
  }
  q.bind(":limit", limit);
  while (q.executeStep()) {
    Event e;
    e.id = q.getColumn(0).getInt64();
    e.target_id = q.getColumn(1).getString();
    e.at = util::from_unix_ms(q.getColumn(2).getInt64());
    e.type = parse_or(parse_event_type(q.getColumn(3).getString()), EventType::warning);
    e.old_state = q.getColumn(4).getString();
    e.new_state = q.getColumn(5).getString();
    e.message = q.getColumn(6).getString();
    e.in_grace = q.getColumn(7).getInt() != 0;
    out.push_back(std::move(e));
  }
  return out;
}

std::map<std::string, int> read_event_counts(SQLite::Database& db, TimePoint since,
                                             const std::vector<EventType>& types)
{
  std::map<std::string, int> out;
  // "+target_id", as in execution_stats: read the window through events_by_time rather than
  // the whole history through events_by_target.
  SQLite::Statement q(db, R"sql(
    SELECT target_id, count(*) FROM events
    WHERE at >= ?1 AND type IN (SELECT value FROM json_each(?2)) AND old_state <> 'unknown'
    GROUP BY +target_id)sql");
  bind_time(q, 1, since);
  nlohmann::json names = nlohmann::json::array();
  for (const EventType type : types) {
    names.push_back(to_string(type));
  }
  q.bind(2, names.dump());
  while (q.executeStep()) {
    out[q.getColumn(0).getString()] = q.getColumn(1).getInt();
  }
  return out;
}

} // namespace hb::store::sqlite
