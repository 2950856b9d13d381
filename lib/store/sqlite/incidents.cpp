// SPDX-License-Identifier: MIT
#include "store/sqlite/incidents.hpp"

#include "notify/route.hpp"
#include "store/sqlite/codecs.hpp"
#include "util/time.hpp"

#include <algorithm>
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
    // Who was already in an incident when the window began: each target's last event before
    // it that starts or ends one (an index seek per target, whatever the history's length).
    std::map<std::string, bool> open_before;
    {
      SQLite::Statement q(db, R"sql(
        SELECT type FROM events
        WHERE target_id = ?1 AND at < ?2 AND type NOT IN ('still_failing', 'escalated',
          'escalation_resolved', 'clock_skew', 'discovery_failed', 'pulse_stale',
          'recover_stale', 'job_ok')
        ORDER BY at DESC, id DESC LIMIT 1)sql");
      for (const auto& [id, interval] : intervals) {
        if (!target_id.empty() && id != target_id) {
          continue;
        }
        q.bind(1, id);
        bind_time(q, 2, since);
        if (q.executeStep()) {
          const auto type = parse_event_type(q.getColumn(0).getString());
          open_before[id] = type && opens(*type).value_or(false);
        }
        q.reset();
      }
    }

    std::vector<health::IncidentTimeline> out;
    std::map<std::string, std::size_t> current;  // target → index in `out` of its open incident
    std::vector<std::int64_t> opening_ids;
    // In time order, which events_by_time gives for the window alone ("ORDER BY id" made SQLite
    // scan the whole table in rowid order).
    SQLite::Statement q(db, R"sql(
      SELECT id, target_id, at, type, message, since FROM events
      WHERE at >= ?1 AND target_id <> '')sql" + only + " ORDER BY at, id");
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

    if (out.empty()) {
      return out;
    }
    // The first notification sent of each incident (its rows are created after it opened) and
    // the hb-recover actions on its target: one query each.
    std::map<std::int64_t, TimePoint> first_sent;
    {
      SQLite::Statement sent(db, R"sql(
        SELECT incident_id, min(sent_at) FROM outbox
        WHERE created_at >= ?1 AND state = 'sent' AND incident_id <> 0)sql" + only +
                                  " GROUP BY incident_id");
      bind_time(sent, 1, since);
      if (!target_id.empty()) {
        sent.bind(2, target_id);
      }
      while (sent.executeStep()) {
        first_sent[sent.getColumn(0).getInt64()] = util::from_unix_ms(sent.getColumn(1).getInt64());
      }
    }
    TimePoint earliest = since;
    for (const auto& incident : out) {
      earliest = std::min(earliest, incident.first_failure);
    }
    std::map<std::string, std::vector<TimePoint>> actions;  // by target, in time order
    {
      SQLite::Statement acted(db, R"sql(
        SELECT target_id, started_at FROM recovery_attempts
        WHERE started_at >= ?1 AND action <> '')sql" + only + " ORDER BY started_at");
      bind_time(acted, 1, earliest);
      if (!target_id.empty()) {
        acted.bind(2, target_id);
      }
      while (acted.executeStep()) {
        actions[acted.getColumn(0).getString()].push_back(
            util::from_unix_ms(acted.getColumn(1).getInt64()));
      }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      health::IncidentTimeline& incident = out[i];
      if (const auto it = first_sent.find(opening_ids[i]); it != first_sent.end()) {
        incident.first_notified = it->second;
      }
      if (const auto it = actions.find(incident.target_id); it != actions.end()) {
        const auto first = std::lower_bound(it->second.begin(), it->second.end(),
                                            incident.first_failure);
        if (first != it->second.end() && *first <= incident.recovered_at.value_or(now)) {
          incident.first_recovery_action = *first;
        }
      }
    }
    return out;
  });
}

} // namespace hb::store::sqlite
