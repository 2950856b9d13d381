// SPDX-License-Identifier: MIT
#include "store/sqlite/incidents.hpp"

#include "store/incident_timeline.hpp"
#include "store/sqlite/codecs.hpp"
#include "util/time.hpp"

#include <map>

namespace hb::store::sqlite {

std::vector<health::IncidentTimeline> read_incidents(Connection& connection, TimePoint since,
                                                     TimePoint now, const std::string& target_id)
{
  SQLite::Database& db = connection.db();
  return connection.guarded("reading incidents", [&] {
    IncidentTimelines timelines;
    {
      SQLite::Statement q(db, "SELECT " + target_columns("") + " FROM targets");
      while (q.executeStep()) {
        timelines.add_target(read_target(q, 0).info);
      }
    }
    const std::string only = target_id.empty() ? "" : " AND target_id = ?2";
    // Who was already in an incident when the window began: each target's last event before
    // it that starts or ends one (an index seek per target, whatever the history's length).
    {
      SQLite::Statement q(db, R"sql(
        SELECT type FROM events
        WHERE target_id = ?1 AND at < ?2 AND type NOT IN ('still_failing', 'escalated',
          'escalation_resolved', 'clock_skew', 'discovery_failed', 'pulse_stale',
          'recover_stale', 'job_ok')
        ORDER BY at DESC, id DESC LIMIT 1)sql");
      for (const std::string& id : timelines.targets(target_id)) {
        q.bind(1, id);
        bind_time(q, 2, since);
        if (q.executeStep()) {
          timelines.set_last_before(id, parse_event_type(q.getColumn(0).getString()));
        }
        q.reset();
      }
    }

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
      timelines.add_event(*kind, {q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                                  util::from_unix_ms(q.getColumn(2).getInt64()),
                                  q.getColumn(4).getString(), optional_time(q.getColumn(5))});
    }

    if (timelines.empty()) {
      return std::vector<health::IncidentTimeline>{};
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
    std::map<std::string, std::vector<TimePoint>> actions;  // by target, in time order
    {
      SQLite::Statement acted(db, R"sql(
        SELECT target_id, started_at FROM recovery_attempts
        WHERE started_at >= ?1 AND action <> '')sql" + only + " ORDER BY started_at");
      bind_time(acted, 1, timelines.earliest(since));
      if (!target_id.empty()) {
        acted.bind(2, target_id);
      }
      while (acted.executeStep()) {
        actions[acted.getColumn(0).getString()].push_back(
            util::from_unix_ms(acted.getColumn(1).getInt64()));
      }
    }
    return timelines.finish(first_sent, actions, now);
  });
}

} // namespace hb::store::sqlite
