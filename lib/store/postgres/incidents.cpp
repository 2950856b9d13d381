// SPDX-License-Identifier: MIT
#include "store/postgres/incidents.hpp"

#include "store/incident_timeline.hpp"
#include "store/postgres/codecs.hpp"

#include <map>

namespace hb::store::postgres {

std::vector<health::IncidentTimeline> read_incidents(Connection& connection, TimePoint since,
                                                     TimePoint now, const std::string& target_id)
{
  Connection& db = connection;
  return connection.guarded("reading incidents", [&] {
    IncidentTimelines timelines;
    {
      const Result r = db.exec("SELECT " + target_columns("") + " FROM targets");
      for (int i = 0; i < r.rows(); ++i) {
        timelines.add_target(read_target(r, i, 0).info);
      }
    }
    const std::string only = target_id.empty() ? "" : " AND target_id = $2";
    const Params window = target_id.empty() ? Params(since) : Params(since, target_id);
    // Who was already in an incident when the window began: each target's last event before
    // it that starts or ends one (an index seek per target, whatever the history's length, all
    // in one query).
    {
      const Result r = db.exec(R"sql(
        SELECT t.id, newest.type
        FROM unnest($1::text[]) AS t(id)
        CROSS JOIN LATERAL (
          SELECT type FROM events
          WHERE target_id = t.id AND at < $2 AND type NOT IN ('still_failing', 'escalated',
            'escalation_resolved', 'clock_skew', 'discovery_failed', 'pulse_stale',
            'recover_stale', 'job_ok')
          ORDER BY at DESC, id DESC LIMIT 1) AS newest)sql",
                               Params(timelines.targets(target_id), since));
      for (int i = 0; i < r.rows(); ++i) {
        timelines.set_last_before(r.text(i, 0), parse_event_type(r.view(i, 1)));
      }
    }

    // In time order, which events_by_time gives for the window alone.
    const Result q = db.exec(R"sql(
      SELECT id, target_id, at, type, message, since FROM events
      WHERE at >= $1 AND target_id <> '')sql" + only + " ORDER BY at, id",
                             window);
    for (int i = 0; i < q.rows(); ++i) {
      const auto type = parse_event_type(q.view(i, 3));
      const std::optional<bool> kind = type ? opens(*type) : std::nullopt;
      if (!kind) {
        continue;
      }
      timelines.add_event(*kind, {q.int64(i, 0), q.text(i, 1), q.time(i, 2), q.text(i, 4),
                                  q.optional_time(i, 5)});
    }

    if (timelines.empty()) {
      return std::vector<health::IncidentTimeline>{};
    }
    // The first notification sent of each incident (its rows are created after it opened) and
    // the hb-recover actions on its target: one query each.
    std::map<std::int64_t, TimePoint> first_sent;
    {
      const Result sent = db.exec(R"sql(
        SELECT incident_id, min(sent_at) FROM outbox
        WHERE created_at >= $1 AND state = 'sent' AND incident_id <> 0)sql" + only
                                    + " GROUP BY incident_id",
                                  window);
      for (int i = 0; i < sent.rows(); ++i) {
        first_sent[sent.int64(i, 0)] = sent.time(i, 1);
      }
    }
    const TimePoint earliest = timelines.earliest(since);
    std::map<std::string, std::vector<TimePoint>> actions;  // by target, in time order
    {
      const Result acted = db.exec(R"sql(
        SELECT target_id, started_at FROM recovery_attempts
        WHERE started_at >= $1 AND action <> '')sql" + only + " ORDER BY started_at",
                                   target_id.empty() ? Params(earliest)
                                                     : Params(earliest, target_id));
      for (int i = 0; i < acted.rows(); ++i) {
        actions[acted.text(i, 0)].push_back(acted.time(i, 1));
      }
    }
    return timelines.finish(first_sent, actions, now);
  });
}

} // namespace hb::store::postgres
