// SPDX-License-Identifier: MIT
#include "store/postgres/targets.hpp"

#include "store/encoding.hpp"
#include "store/postgres/codecs.hpp"

#include <map>
#include <set>

namespace hb::store::postgres {

void Targets::sync(const std::vector<TargetInfo>& targets, TimePoint now)
{
  const std::string hash = targets_fingerprint(targets);
  Connection& db = m_connection;
  const auto stored = m_connection.guarded(
    "syncing targets", [&] { return read_meta(db, "targets_fingerprint"); });
  if (stored == hash) {
    return;
  }
  m_connection.transaction("syncing targets", [&] {
    std::set<std::string> ids;
    for (const auto& t : targets) {
      ids.insert(t.id);
    }
    // Lock the configured targets' rows first, in id order, as a beat does before it touches a
    // target's beat state: a sync and a beat for the same target then take their locks in the
    // same order and queue instead of deadlocking.
    db.exec("SELECT id FROM targets WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
            Params(std::vector<std::string>(ids.begin(), ids.end())));
    for (const auto& t : targets) {
      // A target that comes back (re-added after retirement, or resumed after a pause) starts
      // its beats afresh: silence while it was gone or paused is not missed beats.
      db.exec(R"sql(
        DELETE FROM beat_states WHERE target_id = $1 AND EXISTS (
          SELECT 1 FROM targets
          WHERE id = $1 AND (retired_at IS NOT NULL OR (paused AND NOT $2::boolean))))sql",
              Params(t.id, t.paused));
      db.exec(R"sql(
        INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                             stale_after_ms, heartbeat, origin, active_hours, timezone)
        VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, 'config', $10, $11)
        ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
          tags = excluded.tags, paused = excluded.paused, interval_ms = excluded.interval_ms,
          retired_at = NULL, stale_after_ms = excluded.stale_after_ms,
          heartbeat = excluded.heartbeat, origin = 'config',
          active_hours = excluded.active_hours, timezone = excluded.timezone)sql",
              Params(t.id, t.name, to_string(t.kind), encode_tags(t.tags), t.paused, t.interval,
                     now, t.stale_after,
                     t.heartbeat ? std::optional(encode_heartbeat(*t.heartbeat)) : std::nullopt,
                     t.active_hours, t.timezone));
      db.exec("DELETE FROM checks WHERE target_id = $1", Params(t.id));
      int position = 0;
      for (const auto& c : t.checks) {
        db.exec(R"sql(
          INSERT INTO checks (target_id, name, type, severity, description, position)
          VALUES ($1, $2, $3, $4, $5, $6))sql",
                Params(t.id, c.name, c.type, to_string(c.severity), c.description, position++));
      }
    }
    // Retire what left the config; its history stays. Targets hb-beat created are not the
    // config's to retire.
    retire_missing(db, "targets", "id", "origin = 'config'", ids, now);
    write_meta(db, "targets_fingerprint", hash);
  });
}

std::vector<TargetRecord> Targets::list(IncludeRetired include_retired)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading targets", [&] {
    std::map<std::string, TargetRecord> by_id;
    std::vector<std::string> order;
    const Result targets = db.exec("SELECT " + target_columns("") + " FROM targets"
                                   + (include_retired == IncludeRetired::yes
                                        ? ""
                                        : " WHERE retired_at IS NULL")
                                   + " ORDER BY id");
    for (int i = 0; i < targets.rows(); ++i) {
      TargetRecord r = read_target(targets, i, 0);
      order.push_back(r.info.id);
      by_id.emplace(r.info.id, std::move(r));
    }
    const Result checks = db.exec("SELECT target_id, name, type, severity, description "
                                  "FROM checks ORDER BY target_id, position");
    for (int i = 0; i < checks.rows(); ++i) {
      auto it = by_id.find(checks.text(i, 0));
      if (it == by_id.end()) {
        continue;
      }
      CheckInfo c;
      c.name = checks.text(i, 1);
      c.type = checks.text(i, 2);
      c.severity = parse_or(parse_severity(checks.view(i, 3)), Severity::alert);
      c.description = checks.text(i, 4);
      it->second.info.checks.push_back(std::move(c));
    }
    std::vector<TargetRecord> out;
    out.reserve(order.size());
    for (const auto& id : order) {
      out.push_back(std::move(by_id.at(id)));
    }
    return out;
  });
}

} // namespace hb::store::postgres
