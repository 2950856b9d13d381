// SPDX-License-Identifier: MIT
#include "store/sqlite/incidents.hpp"

#include "notify/route.hpp"
#include "store/sqlite/codecs.hpp"
#include "util/time.hpp"

#include <map>

namespace hb::store::sqlite {
namespace {

// Whether an event of `type` starts (bad) or ends (recovery) an incident; std::nullopt for the
// events that do neither.
std::optional<bool> opens(EventType type)
{
  if (type == EventType::still_failing) {
    return std::nullopt;
  }
  if (notify::is_bad(type)) {
    return true;
  }
  if (notify::is_recovery(type)) {
    return false;
  }
  return std::nullopt;
}

} // namespace

std::vector<health::IncidentTimeline> read_incidents(Connection& connection, TimePoint since,
                                                     TimePoint now, const std::string& target_id)
{
  SQLite::Database& db = connection.db();
  return connection.guarded("reading incidents", [&] {
    // The expected interval of each target: what "cleared within one interval" measures.
    std::map<std::string, Duration> intervals;
    {
      SQLite::Statement q(db, "SELECT " + target_columns("") + " FROM targets");
      while (q.executeStep()) {
        const TargetRecord t = read_target(q, 0);
        intervals[t.info.id] =
            t.info.heartbeat && t.info.heartbeat->every > Duration(0) ? t.info.heartbeat->every
                                                                      : t.info.interval;
      }
    }
    const std::string only = target_id.empty() ? "" : " AND target_id = ?2";
    // Who was already in an incident when the window began.
    std::map<std::string, bool> open_before;
    {
      SQLite::Statement q(db, R"sql(
        SELECT target_id, type FROM events WHERE id IN (
          SELECT max(id) FROM events
          WHERE at < ?1 AND type NOT IN ('still_failing', 'escalated', 'escalation_resolved',
                                         'clock_skew', 'discovery_failed', 'pulse_stale',
                                         'recover_stale', 'job_ok')
          GROUP BY target_id))sql" + only);
      bind_time(q, 1, since);
      if (!target_id.empty()) {
        q.bind(2, target_id);
      }
      while (q.executeStep()) {
        const auto type = parse_event_type(q.getColumn(1).getString());
        open_before[q.getColumn(0).getString()] = type && opens(*type).value_or(false);
      }
    }

    std::vector<health::IncidentTimeline> out;
    std::map<std::string, std::size_t> current;  // target → index in `out` of its open incident
    std::map<std::string, std::int64_t> opened_by;  // index → the opening event's id
    std::vector<std::int64_t> opening_ids;
    SQLite::Statement q(db, R"sql(
      SELECT id, target_id, at, type, message, since FROM events
      WHERE at >= ?1 AND target_id <> '')sql" + only + " ORDER BY id");
    bind_time(q, 1, since);
    if (!target_id.empty()) {
      q.bind(2, target_id);
    }
    while (q.executeStep()) {
      const auto type = parse_event_type(q.getColumn(3).getString());
      const std::optional<bool> kind = type ? opens(*type) : std::nullopt;
      if (!kind) {
        continue;
      }
      const std::string target = q.getColumn(1).getString();
      const TimePoint at = util::from_unix_ms(q.getColumn(2).getInt64());
      const auto it = current.find(target);
      if (*kind) {
        if (it != current.end() || open_before[target]) {
          continue;  // part of the incident already open
        }
        health::IncidentTimeline incident;
        incident.target_id = target;
        incident.failing_at = at;
        incident.first_failure =
            q.getColumn(5).isNull() ? at : std::min(at, util::from_unix_ms(q.getColumn(5).getInt64()));
        incident.cause = q.getColumn(4).getString();
        incident.interval = intervals[target];
        current[target] = out.size();
        opening_ids.push_back(q.getColumn(0).getInt64());
        out.push_back(std::move(incident));
      } else {
        open_before[target] = false;
        if (it != current.end()) {
          out[it->second].recovered_at = at;
          current.erase(it);
        }
      }
    }

    SQLite::Statement notified(db, R"sql(
      SELECT min(sent_at) FROM outbox
      WHERE target_id = ?1 AND incident_id = ?2 AND state = 'sent')sql");
    SQLite::Statement acted(db, R"sql(
      SELECT min(started_at) FROM recovery_attempts
      WHERE target_id = ?1 AND started_at >= ?2 AND started_at <= ?3 AND action <> '')sql");
    for (std::size_t i = 0; i < out.size(); ++i) {
      health::IncidentTimeline& incident = out[i];
      notified.bind(1, incident.target_id);
      notified.bind(2, static_cast<int64_t>(opening_ids[i]));
      if (notified.executeStep() && !notified.getColumn(0).isNull()) {
        incident.first_notified = util::from_unix_ms(notified.getColumn(0).getInt64());
      }
      notified.reset();
      acted.bind(1, incident.target_id);
      bind_time(acted, 2, incident.first_failure);
      bind_time(acted, 3, incident.recovered_at.value_or(now));
      if (acted.executeStep() && !acted.getColumn(0).isNull()) {
        incident.first_recovery_action = util::from_unix_ms(acted.getColumn(0).getInt64());
      }
      acted.reset();
    }
    return out;
  });
}

} // namespace hb::store::sqlite
