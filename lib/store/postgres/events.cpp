// SPDX-License-Identifier: MIT
#include "store/postgres/events.hpp"

#include "notify/route.hpp"
#include "store/encoding.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/outbox.hpp"

#include <algorithm>

namespace hb::store::postgres {

namespace {

// Whether target `id` is failing now: its checks, or its beats (offline, or a job failed, late
// or hung), as the store last recorded them.
bool is_failing(Connection& db, const std::string& id)
{
  const Result r = db.exec(R"sql(
    SELECT 1 FROM target_states WHERE target_id = $1 AND health = 'failing'
    UNION ALL
    SELECT 1 FROM beat_states WHERE target_id = $1
      AND state IN ('offline', 'failed', 'late', 'hung')
    LIMIT 1)sql",
                           Params(id));
  return r.rows() > 0;
}

// Reads what routing needs to know about `event`'s target, inside the event's transaction.
notify::RouteFacts read_facts(Connection& db, const NotifyPolicy& policy, const Event& event)
{
  notify::RouteFacts facts;
  if (!event.target_id.empty()) {
    const Result target = db.exec("SELECT " + target_columns("") + " FROM targets WHERE id = $1",
                                  Params(event.target_id));
    if (target.rows() > 0) {
      facts.target = read_target(target, 0, 0);
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
  const Result changes = db.exec(R"sql(
    SELECT count(*) FROM events
    WHERE target_id = $1 AND at >= $2 AND old_state <> 'unknown'
      AND type NOT IN ('escalated', 'escalation_resolved'))sql",
                                 Params(event.target_id, event.at - limits.flapping_window));
  const int transitions = changes.integer(0, 0) + (event.old_state != "unknown" ? 1 : 0);
  facts.flapping = limits.flapping_transitions > 0 && transitions >= limits.flapping_transitions;

  // The current incident: the bad events since the last recovery (bounded: an incident of more
  // than 500 events is dated from the oldest of them).
  const Result history = db.exec(R"sql(
    SELECT id, type FROM events WHERE target_id = $1 ORDER BY id DESC LIMIT 500)sql",
                                 Params(event.target_id));
  for (int i = 0; i < history.rows(); ++i) {
    const auto type = parse_event_type(history.view(i, 1));
    if (!type || notify::is_recovery(*type)) {
      break;
    }
    if (notify::is_bad(*type)) {
      facts.incident_id = history.int64(i, 0);
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
    const Result escalated = db.exec(R"sql(
      SELECT max(id) FROM events WHERE target_id = $1 AND type = 'escalated')sql",
                                     Params(event.target_id));
    facts.incident_id = escalated.optional_int64(0, 0).value_or(0);
  }

  // What each channel was last told about this target's health (escalations are told apart:
  // an escalation after a failure leaves "failing" as the last word, owed a recovery).
  const Result told = db.exec(R"sql(
    SELECT o.channel, e.type, o.created_at FROM outbox o JOIN events e ON e.id = o.event_id
    WHERE o.id IN (SELECT max(b.id) FROM outbox b JOIN events f ON f.id = b.event_id
                   WHERE b.target_id = $1 AND b.state <> 'suppressed' AND b.fallback_of = 0
                     AND f.type NOT IN ('escalated', 'escalation_resolved')
                   GROUP BY b.channel))sql",
                              Params(event.target_id));
  for (int i = 0; i < told.rows(); ++i) {
    const auto type = parse_event_type(told.view(i, 1));
    facts.told[told.text(i, 0)] =
        notify::RouteFacts::Told{type && notify::is_bad(*type), told.time(i, 2)};
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
  std::vector<Notification> rows;
  if (!policy().channels.empty() && !event.in_grace) {
    rows = notify::route(policy(), event, read_facts(m_db, policy(), event));
  }
  const Result inserted = m_db.exec(R"sql(
    INSERT INTO events (target_id, at, type, old_state, new_state, message, in_grace, notice,
                        since)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    RETURNING id)sql",
                                    Params(event.target_id, event.at, to_string(event.type),
                                           event.old_state, event.new_state, event.message,
                                           event.in_grace, notice_of(event, rows), event.since));
  event.id = inserted.int64(0, 0);
  for (Notification& row : rows) {
    row.event_id = event.id;
    if (row.incident_id == 0) {
      row.incident_id = event.id; // this event opens the incident
    }
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
