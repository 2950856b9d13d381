// SPDX-License-Identifier: MIT
#include "store/postgres/events.hpp"

#include "store/encoding.hpp"
#include "store/event_routing.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/outbox.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace hb::store::postgres {

namespace {

// Answers routing's questions (store/event_routing.hpp) inside the event's transaction.
class FactsReader final : public RouteFactsReader {
public:
  explicit FactsReader(Connection& db) : m_db(db) {}

  std::optional<TargetRecord> target(const std::string& id) override
  {
    const Result r =
      m_db.exec("SELECT " + target_columns("") + " FROM targets WHERE id = $1", Params(id));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    return read_target(r, 0, 0);
  }

  bool is_failing(const std::string& id) override
  {
    const Result r = m_db.exec(R"sql(
      SELECT 1 FROM target_states WHERE target_id = $1 AND health = 'failing'
      UNION ALL
      SELECT 1 FROM beat_states WHERE target_id = $1
        AND state IN ('offline', 'failed', 'late', 'hung')
      LIMIT 1)sql",
                               Params(id));
    return r.rows() > 0;
  }

  int changes_since(const std::string& id, TimePoint from) override
  {
    const Result r = m_db.exec(R"sql(
      SELECT count(*) FROM events
      WHERE target_id = $1 AND at >= $2 AND old_state <> 'unknown'
        AND type NOT IN ('escalated', 'escalation_resolved'))sql",
                               Params(id, from));
    return r.integer(0, 0);
  }

  void newest_events(const std::string& id, int limit,
                     const std::function<bool(std::int64_t, std::string_view)>& visit) override
  {
    const Result r = m_db.exec(R"sql(
      SELECT id, type FROM events WHERE target_id = $1 ORDER BY id DESC LIMIT $2)sql",
                               Params(id, limit));
    for (int i = 0; i < r.rows(); ++i) {
      if (!visit(r.int64(i, 0), r.view(i, 1))) {
        break;
      }
    }
  }

  std::optional<std::int64_t> escalation_event(std::int64_t escalation_id,
                                               const std::string& id) override
  {
    const Result r = m_db.exec(R"sql(
      SELECT coalesce(nullif((SELECT event_id FROM escalations WHERE id = $1), 0),
                      (SELECT max(id) FROM events WHERE target_id = $2 AND type = 'escalated')))sql",
                               Params(escalation_id, id));
    return r.optional_int64(0, 0);
  }

  void last_told(const std::string& id,
                 const std::function<void(std::string, std::string_view, TimePoint)>& visit)
    override
  {
    const Result r = m_db.exec(R"sql(
      SELECT o.channel, e.type, o.created_at FROM outbox o JOIN events e ON e.id = o.event_id
      WHERE o.id IN (SELECT max(b.id) FROM outbox b JOIN events f ON f.id = b.event_id
                     WHERE b.target_id = $1 AND b.state <> 'suppressed' AND b.fallback_of = 0
                       AND f.type NOT IN ('escalated', 'escalation_resolved')
                     GROUP BY b.channel))sql",
                               Params(id));
    for (int i = 0; i < r.rows(); ++i) {
      visit(r.text(i, 0), r.view(i, 1), r.time(i, 2));
    }
  }

private:
  Connection& m_db;
};

} // namespace

const NotifyPolicy& EventWriter::policy()
{
  if (!m_policy) {
    const auto text = read_meta(m_db, k_notify_policy_key);
    m_policy = text ? decode_notify_policy(*text).value_or(NotifyPolicy{}) : NotifyPolicy{};
  }
  return *m_policy;
}

void EventWriter::write(Event& event)
{
  FactsReader facts(m_db);
  std::vector<Notification> rows = route_event(facts, policy(), event);
  const Result inserted = m_db.exec(R"sql(
    INSERT INTO events (target_id, at, type, old_state, new_state, message, in_grace, notice,
                        since)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    RETURNING id)sql",
                                    Params(event.target_id, event.at, to_string(event.type),
                                           event.old_state, event.new_state, event.message,
                                           event.in_grace, notice_of(event, rows), event.since));
  event.id = inserted.int64(0, 0);
  link_to_event(rows, event.id);
  for (Notification& row : rows) {
    insert_notification(m_db, row, event.target_id);
  }
}

std::vector<Event> read_recent_events(Connection& db, const std::string& target_id, int limit)
{
  std::vector<Event> out;
  // Two statements rather than "$1 = '' OR target_id = $1", which would keep a prepared plan
  // from using events_by_target; the id breaks ties between events of the same instant.
  const Result r = target_id.empty() ? db.exec(R"sql(
    SELECT id, target_id, at, type, old_state, new_state, message, in_grace FROM events
    ORDER BY at DESC, id DESC LIMIT $1)sql",
                                               Params(limit))
                                     : db.exec(R"sql(
    SELECT id, target_id, at, type, old_state, new_state, message, in_grace FROM events
    WHERE target_id = $1 ORDER BY at DESC, id DESC LIMIT $2)sql",
                                               Params(target_id, limit));
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    Event e;
    e.id = r.int64(i, 0);
    e.target_id = r.text(i, 1);
    e.at = r.time(i, 2);
    e.type = parse_or(parse_event_type(r.view(i, 3)), EventType::warning);
    e.old_state = r.text(i, 4);
    e.new_state = r.text(i, 5);
    e.message = r.text(i, 6);
    e.in_grace = r.boolean(i, 7);
    out.push_back(std::move(e));
  }
  return out;
}

std::map<std::string, int> read_event_counts(Connection& db, TimePoint since,
                                             const std::vector<EventType>& types)
{
  std::map<std::string, int> out;
  std::vector<std::string> names;
  names.reserve(types.size());
  for (const EventType type : types) {
    names.emplace_back(to_string(type));
  }
  const Result r = db.exec(R"sql(
    SELECT target_id, count(*) FROM events
    WHERE at >= $1 AND type = ANY($2::text[]) AND old_state <> 'unknown'
    GROUP BY target_id)sql",
                           Params(since, names));
  for (int i = 0; i < r.rows(); ++i) {
    out[r.text(i, 0)] = r.integer(i, 1);
  }
  return out;
}

} // namespace hb::store::postgres
