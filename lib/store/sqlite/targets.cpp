// SPDX-License-Identifier: MIT
#include "store/sqlite/targets.hpp"

#include "store/encoding.hpp"
#include "store/sqlite/codecs.hpp"

#include <map>
#include <set>

namespace hb::store::sqlite {

void Targets::sync(const std::vector<TargetInfo>& targets, TimePoint now)
{
  const std::string hash = targets_fingerprint(targets);
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("syncing targets", [&] {
    if (read_meta(db, "targets_fingerprint") == hash) {
      return;
    }
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(db, R"sql(
      INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                           stale_after_ms, heartbeat, origin, active_hours, timezone)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, 'config', ?10, ?11)
      ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, tags = ?4, paused = ?5,
        interval_ms = ?6, retired_at = NULL, stale_after_ms = ?8, heartbeat = ?9,
        origin = 'config', active_hours = ?10, timezone = ?11)sql");
    SQLite::Statement drop_checks(db, "DELETE FROM checks WHERE target_id = ?1");
    // A target that comes back (re-added after retirement, or resumed after a pause) starts its
    // beats afresh: silence while it was gone or paused is not missed beats.
    SQLite::Statement restart_beats(db, R"sql(
      DELETE FROM beat_states WHERE target_id = ?1 AND EXISTS (
        SELECT 1 FROM targets WHERE id = ?1 AND (retired_at IS NOT NULL OR (paused = 1 AND ?2 = 0))))sql");
    SQLite::Statement insert_check(db, R"sql(
      INSERT INTO checks (target_id, name, type, severity, description, position)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
    std::set<std::string> ids;
    for (const auto& t : targets) {
      ids.insert(t.id);
      restart_beats.bind(1, t.id);
      restart_beats.bind(2, t.paused ? 1 : 0);
      restart_beats.exec();
      restart_beats.reset();
      upsert.bind(1, t.id);
      upsert.bind(2, t.name);
      upsert.bind(3, std::string(to_string(t.kind)));
      upsert.bind(4, encode_tags(t.tags));
      upsert.bind(5, t.paused ? 1 : 0);
      upsert.bind(6, static_cast<int64_t>(t.interval.count()));
      bind_time(upsert, 7, now);
      upsert.bind(8, static_cast<int64_t>(t.stale_after.count()));
      bind_optional_text(upsert, 9,
                         t.heartbeat ? std::optional(encode_heartbeat(*t.heartbeat)) : std::nullopt);
      upsert.bind(10, t.active_hours);
      upsert.bind(11, t.timezone);
      upsert.exec();
      upsert.reset();
      drop_checks.bind(1, t.id);
      drop_checks.exec();
      drop_checks.reset();
      int position = 0;
      for (const auto& c : t.checks) {
        insert_check.bind(1, t.id);
        insert_check.bind(2, c.name);
        insert_check.bind(3, c.type);
        insert_check.bind(4, std::string(to_string(c.severity)));
        insert_check.bind(5, c.description);
        insert_check.bind(6, position++);
        insert_check.exec();
        insert_check.reset();
      }
    }
    // Retire what left the config; its history stays. Targets hb-beat created are not the
    // config's to retire.
    retire_missing(db, "targets", "id", "origin = 'config'", ids, now);
    write_meta(db, "targets_fingerprint", hash);
    txn.commit();
  });
}

std::vector<TargetRecord> Targets::list(IncludeRetired include_retired)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading targets", [&] {
    std::map<std::string, TargetRecord> by_id;
    std::vector<std::string> order;
    SQLite::Statement q(db, "SELECT " + target_columns("") + " FROM targets"
                              + (include_retired == IncludeRetired::yes
                                   ? ""
                                   : " WHERE retired_at IS NULL")
                              + " ORDER BY id");
    while (q.executeStep()) {
      TargetRecord r = read_target(q, 0);
      order.push_back(r.info.id);
      by_id.emplace(r.info.id, std::move(r));
    }
    SQLite::Statement checks(db, "SELECT target_id, name, type, severity, description "
                                 "FROM checks ORDER BY target_id, position");
    while (checks.executeStep()) {
      auto it = by_id.find(checks.getColumn(0).getString());
      if (it == by_id.end()) {
        continue;
      }
      CheckInfo c;
      c.name = checks.getColumn(1).getString();
      c.type = checks.getColumn(2).getString();
      c.severity = parse_or(parse_severity(checks.getColumn(3).getString()), Severity::alert);
      c.description = checks.getColumn(4).getString();
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

} // namespace hb::store::sqlite
