// SPDX-License-Identifier: MIT
#include "store/postgres/incidents.hpp"

#include "notify/route.hpp"
#include "store/postgres/codecs.hpp"

#include <algorithm>
#include <map>

namespace hb::store::postgres {
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
  Connection& db = connection;
  return connection.guarded("reading incidents", [&] {
    // The expected interval of each target: what "cleared within one interval" measures.
    std::map<std::string, Duration> intervals;
    {
      const Result r = db.exec("SELECT " + target_columns("") + " FROM targets");
      for (int i = 0; i < r.rows(); ++i) {
        const TargetRecord t = read_target(r, i, 0);
        intervals[t.info.id] =
          t.info.heartbeat && t.info.heartbeat->every > Duration(0) ? t.info.heartbeat->every
                                                                    : t.info.interval;
      }
    }
    const std::string only = target_id.empty() ? "" : " AND target_id = $2";
    const Params window = target_id.empty() ? Params(since) : Params(since, target_id);
    // Who was already in an incident when the window began: each target's last event before
    // it that starts or ends one (an index seek per target, whatever the history's length, all
    // in one query).
    std::map<std::string, bool> open_before;
    {
      std::vector<std::string> ids;
      for (const auto& [id, interval] : intervals) {
        if (target_id.empty() || id == target_id) {
          ids.push_back(id);
        }
      }
      const Result r = db.exec(R"sql(
        SELECT t.id, newest.type
        FROM unnest($1::text[]) AS t(id)
        CROSS JOIN LATERAL (
          SELECT type FROM events
          WHERE target_id = t.id AND at < $2 AND type NOT IN ('still_failing', 'escalated',
            'escalation_resolved', 'clock_skew', 'discovery_failed', 'pulse_stale',
            'recover_stale', 'job_ok')
          ORDER BY at DESC, id DESC LIMIT 1) AS newest)sql",
                               Params(ids, since));
      for (int i = 0; i < r.rows(); ++i) {
        const auto type = parse_event_type(r.view(i, 1));
        open_before[r.text(i, 0)] = type && opens(*type).value_or(false);
      }
    }

    std::vector<health::IncidentTimeline> out;
    std::map<std::string, std::size_t> current;  // target → index in `out` of its open incident
    std::vector<std::int64_t> opening_ids;
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
      const std::string target = q.text(i, 1);
      const TimePoint at = q.time(i, 2);
      const auto it = current.find(target);
      if (*kind) {
        if (it != current.end() || open_before[target]) {
          continue;  // part of the incident already open
        }
        health::IncidentTimeline incident;
        incident.target_id = target;
        incident.failing_at = at;
        incident.first_failure = q.is_null(i, 5) ? at : std::min(at, q.time(i, 5));
        incident.cause = q.text(i, 4);
        incident.interval = intervals[target];
        current[target] = out.size();
        opening_ids.push_back(q.int64(i, 0));
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
      const Result sent = db.exec(R"sql(
        SELECT incident_id, min(sent_at) FROM outbox
        WHERE created_at >= $1 AND state = 'sent' AND incident_id <> 0)sql" + only
                                    + " GROUP BY incident_id",
                                  window);
      for (int i = 0; i < sent.rows(); ++i) {
        first_sent[sent.int64(i, 0)] = sent.time(i, 1);
      }
    }
    TimePoint earliest = since;
    for (const auto& incident : out) {
      earliest = std::min(earliest, incident.first_failure);
    }
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

} // namespace hb::store::postgres
