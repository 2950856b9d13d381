// SPDX-License-Identifier: MIT
#include "store/sqlite/events.hpp"

#include "store/encoding.hpp"
#include "store/event_routing.hpp"
#include "store/sqlite/codecs.hpp"
#include "store/sqlite/outbox.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace hb::store::sqlite {

namespace {

// Answers routing's questions (store/event_routing.hpp) inside the event's transaction.
class FactsReader final : public RouteFactsReader {
public:
  explicit FactsReader(SQLite::Database& db) : m_db(db) {}

  std::optional<TargetRecord> target(const std::string& id) override
  {
    SQLite::Statement q(m_db, "SELECT " + target_columns("") + " FROM targets WHERE id = ?1");
    q.bind(1, id);
    if (!q.executeStep()) {
      return std::nullopt;
    }
    return read_target(q, 0);
  }

  bool is_failing(const std::string& id) override
  {
    SQLite::Statement q(m_db, R"sql(
      SELECT 1 FROM target_states WHERE target_id = ?1 AND health = 'failing'
      UNION ALL
      SELECT 1 FROM beat_states WHERE target_id = ?1
        AND state IN ('offline', 'failed', 'late', 'hung'))sql");
    q.bind(1, id);
    return q.executeStep();
  }

  int changes_since(const std::string& id, TimePoint from) override
  {
    SQLite::Statement q(m_db, R"sql(
      SELECT count(*) FROM events
      WHERE target_id = ?1 AND at >= ?2 AND old_state <> 'unknown'
        AND type NOT IN ('escalated', 'escalation_resolved'))sql");
    q.bind(1, id);
    bind_time(q, 2, from);
    q.executeStep();
    return q.getColumn(0).getInt();
  }

  void newest_events(const std::string& id, int limit,
                     const std::function<bool(std::int64_t, std::string_view)>& visit) override
  {
    SQLite::Statement q(m_db, R"sql(
      SELECT id, type FROM events WHERE target_id = ?1 ORDER BY id DESC LIMIT ?2)sql");
    q.bind(1, id);
    q.bind(2, limit);
    while (q.executeStep()) {
      if (!visit(q.getColumn(0).getInt64(), q.getColumn(1).getString())) {
        break;
      }
    }
  }

  std::optional<std::int64_t> escalation_event(std::int64_t escalation_id,
                                               const std::string& id) override
  {
    SQLite::Statement q(m_db, R"sql(
      SELECT coalesce(nullif((SELECT event_id FROM escalations WHERE id = ?1), 0),
                      (SELECT max(id) FROM events WHERE target_id = ?2 AND type = 'escalated')))sql");
    q.bind(1, static_cast<int64_t>(escalation_id));
    q.bind(2, id);
    q.executeStep();
    return optional_int64(q.getColumn(0));
  }

  void last_told(const std::string& id,
                 const std::function<void(std::string, std::string_view, TimePoint)>& visit)
    override
  {
    SQLite::Statement q(m_db, R"sql(
      SELECT o.channel, e.type, o.created_at FROM outbox o JOIN events e ON e.id = o.event_id
      WHERE o.id IN (SELECT max(b.id) FROM outbox b JOIN events f ON f.id = b.event_id
                     WHERE b.target_id = ?1 AND b.state <> 'suppressed' AND b.fallback_of = 0
                       AND f.type NOT IN ('escalated', 'escalation_resolved')
                     GROUP BY b.channel))sql");
    q.bind(1, id);
    while (q.executeStep()) {
      visit(q.getColumn(0).getString(), q.getColumn(1).getString(),
            util::from_unix_ms(q.getColumn(2).getInt64()));
    }
  }

private:
  SQLite::Database& m_db;
};

} // namespace

EventWriter::EventWriter(SQLite::Database& db)
  : m_db(db),
    m_insert(db, R"sql(
      INSERT INTO events (target_id, at, type, old_state, new_state, message, in_grace, notice,
                          since)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql")
{
}

const NotifyPolicy& EventWriter::policy()
{
  if (!m_policy) {
    const auto text = read_meta(m_db, k_notify_policy_key);
    m_policy = text ? decode_notify_policy(*text).value_or(NotifyPolicy{}) : NotifyPolicy{};
  }
  return *m_policy;
}

void EventWriter::write(const SQLite::Transaction& /*transaction*/, Event& event)
{
  FactsReader facts(m_db);
  std::vector<Notification> rows = route_event(facts, policy(), event);
  m_insert.bind(1, event.target_id);
  bind_time(m_insert, 2, event.at);
  m_insert.bind(3, std::string(to_string(event.type)));
  m_insert.bind(4, event.old_state);
  m_insert.bind(5, event.new_state);
  m_insert.bind(6, event.message);
  m_insert.bind(7, event.in_grace ? 1 : 0);
  m_insert.bind(8, notice_of(event, rows));
  bind_optional_time(m_insert, 9, event.since);
  m_insert.exec();
  m_insert.reset();
  event.id = m_db.getLastInsertRowid();
  link_to_event(rows, event.id);
  for (Notification& row : rows) {
    insert_notification(m_db, row, event.target_id);
  }
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
