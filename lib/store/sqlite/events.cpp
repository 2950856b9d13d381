// SPDX-License-Identifier: MIT
#include "store/sqlite/events.hpp"

#include "notify/route.hpp"
#include "store/encoding.hpp"
#include "store/sqlite/codecs.hpp"
#include "store/sqlite/outbox.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace hb::store::sqlite {

namespace {

// Whether target `id` is failing now: its checks, or its beats (offline, or a job failed, late
// or hung), as the store last recorded them.
bool is_failing(SQLite::Database& db, const std::string& id)
{
  SQLite::Statement q(db, R"sql(
    SELECT 1 FROM target_states WHERE target_id = ?1 AND health = 'failing'
    UNION ALL
    SELECT 1 FROM beat_states WHERE target_id = ?1
      AND state IN ('offline', 'failed', 'late', 'hung'))sql");
  q.bind(1, id);
  return q.executeStep();
}

// Reads what routing needs to know about `event`'s target, inside the event's transaction.
notify::RouteFacts read_facts(SQLite::Database& db, const NotifyPolicy& policy, const Event& event)
{
  notify::RouteFacts facts;
  if (!event.target_id.empty()) {
    SQLite::Statement target(db, "SELECT " + target_columns("") + " FROM targets WHERE id = ?1");
    target.bind(1, event.target_id);
    if (target.executeStep()) {
      facts.target = read_target(target, 0);
    }
    for (const std::string& upstream : policy.settings_of(event.target_id).depends_on) {
      if (is_failing(db, upstream)) {
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
  SQLite::Statement changes(db, R"sql(
    SELECT count(*) FROM events
    WHERE target_id = ?1 AND at >= ?2 AND old_state <> 'unknown'
      AND type NOT IN ('escalated', 'escalation_resolved'))sql");
  changes.bind(1, event.target_id);
  bind_time(changes, 2, event.at - limits.flapping_window);
  changes.executeStep();
  const int transitions = changes.getColumn(0).getInt() + (event.old_state != "unknown" ? 1 : 0);
  facts.flapping = limits.flapping_transitions > 0 && transitions >= limits.flapping_transitions;

  // The current incident: the bad events since the last recovery (bounded: an incident of more
  // than 500 events is dated from the oldest of them).
  SQLite::Statement history(db, R"sql(
    SELECT id, type FROM events WHERE target_id = ?1 ORDER BY id DESC LIMIT 500)sql");
  history.bind(1, event.target_id);
  while (history.executeStep()) {
    const auto type = parse_event_type(history.getColumn(1).getString());
    if (!type || notify::is_recovery(*type)) {
      break;
    }
    if (notify::is_bad(*type)) {
      facts.incident_id = history.getColumn(0).getInt64();
      facts.incident_level = std::max(facts.incident_level, notify::base_level(*type));
    }
  }
  if (notify::is_bad(event.type)) {
    facts.incident_level = std::max(facts.incident_level, notify::base_level(event.type));
  }
  // An escalation is an incident of its own (the people who act on it are told apart from the
  // target's failures): `escalated` opens it (incident 0: the writer makes it the event's own
  // id), and `escalation_resolved` ends the one the latest `escalated` of its target opened, so
  // that PagerDuty resolves the dedup key it triggered.
  if (event.type == EventType::escalated) {
    facts.incident_id = 0;
  } else if (event.type == EventType::escalation_resolved) {
    SQLite::Statement escalated(db, R"sql(
      SELECT max(id) FROM events WHERE target_id = ?1 AND type = 'escalated')sql");
    escalated.bind(1, event.target_id);
    escalated.executeStep();
    facts.incident_id = escalated.getColumn(0).isNull() ? 0 : escalated.getColumn(0).getInt64();
  }

  // What each channel was last told about this target's health (escalations are told apart:
  // an escalation after a failure leaves "failing" as the last word, owed a recovery).
  SQLite::Statement told(db, R"sql(
    SELECT o.channel, e.type, o.created_at FROM outbox o JOIN events e ON e.id = o.event_id
    WHERE o.id IN (SELECT max(b.id) FROM outbox b JOIN events f ON f.id = b.event_id
                   WHERE b.target_id = ?1 AND b.state <> 'suppressed' AND b.fallback_of = 0
                     AND f.type NOT IN ('escalated', 'escalation_resolved')
                   GROUP BY b.channel))sql");
  told.bind(1, event.target_id);
  while (told.executeStep()) {
    const auto type = parse_event_type(told.getColumn(1).getString());
    facts.told[told.getColumn(0).getString()] =
        notify::RouteFacts::Told{type && notify::is_bad(*type),
                                 util::from_unix_ms(told.getColumn(2).getInt64())};
  }
  return facts;
}

// What routing said of an event, kept on it for reminders (notify::reminder_due).
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
  std::vector<Notification> rows;
  if (!policy().channels.empty() && !event.in_grace) {
    rows = notify::route(policy(), event, read_facts(m_db, policy(), event));
  }
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
  for (Notification& row : rows) {
    row.event_id = event.id;
    if (row.incident_id == 0) {
      row.incident_id = event.id;  // this event opens the incident
    }
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
