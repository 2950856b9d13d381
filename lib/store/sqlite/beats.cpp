// SPDX-License-Identifier: MIT
#include "store/sqlite/beats.hpp"

#include "store/encoding.hpp"
#include "store/observation_tally.hpp"
#include "store/sqlite/codecs.hpp"
#include "store/sqlite/events.hpp"
#include "store/sqlite/rollups.hpp"

#include "core/errors.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::store::sqlite {

std::map<std::string, BeatContext> Beats::load_contexts(const std::string* only)
{
  std::map<std::string, BeatContext> out;
  // Columns: the target, then its beat state (from `k_state_at`), then its last run (`k_run_at`).
  constexpr int k_state_at = k_target_column_count;
  constexpr int k_run_at = k_state_at + 10;
  SQLite::Statement q(m_connection.db(), fmt::format(R"sql(
    SELECT {},
           s.target_id, s.state, s.since, s.last_seen, s.last_status, s.last_message,
           s.last_metrics, s.consecutive_healthy, s.beats, s.last_run_id,
           {}
    FROM targets t
    LEFT JOIN beat_states s ON s.target_id = t.id
    LEFT JOIN job_runs r ON r.id = s.last_run_id
    WHERE t.retired_at IS NULL AND {})sql",
                                                      target_columns("t."), job_run_columns("r."),
                                                      only ? "t.id = ?1" : "t.heartbeat IS NOT NULL"));
  if (only) {
    q.bind(1, *only);
  }
  while (q.executeStep()) {
    BeatContext c;
    c.target = read_target(q, 0);
    const auto& info = c.target.info;
    c.state.target_id = info.id;
    if (!q.getColumn(k_state_at).isNull()) {
      c.state.state = parse_beat_phase(info.kind, q.getColumn(k_state_at + 1).getString());
      c.state.since = optional_time(q.getColumn(k_state_at + 2));
      c.state.last_seen = optional_time(q.getColumn(k_state_at + 3));
      if (!q.getColumn(k_state_at + 4).isNull()) {
        c.state.last_status = parse_beat_status(q.getColumn(k_state_at + 4).getString());
      }
      c.state.last_message = q.getColumn(k_state_at + 5).getString();
      c.state.last_metrics = decode_metrics(q.getColumn(k_state_at + 6).getString());
      c.state.consecutive_healthy = q.getColumn(k_state_at + 7).getInt();
      c.state.beats = q.getColumn(k_state_at + 8).getInt64();
      c.state.last_run_id = optional_int64(q.getColumn(k_state_at + 9));
    }
    if (!q.getColumn(k_run_at).isNull()) {
      c.last_run = read_job_run(q, k_run_at);
    }
    out.emplace(info.id, std::move(c));
  }
  return out;
}

void Beats::create_target(const TargetInfo& info, TimePoint now)
{
  SQLite::Database& db = m_connection.db();
  // Only ever called for a target that is unknown or retired: a revived one starts afresh.
  SQLite::Statement restart(db, "DELETE FROM beat_states WHERE target_id = ?1");
  restart.bind(1, info.id);
  restart.exec();
  SQLite::Statement q(db, R"sql(
    INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                         stale_after_ms, heartbeat, origin)
    VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, NULL, 0, ?6, 'beat')
    ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, tags = ?4, paused = 0, retired_at = NULL,
      heartbeat = ?6, origin = 'beat')sql");
  q.bind(1, info.id);
  q.bind(2, info.name);
  q.bind(3, std::string(to_string(info.kind)));
  q.bind(4, encode_tags(info.tags));
  bind_time(q, 5, now);
  bind_optional_text(q, 6,
                     info.heartbeat ? std::optional(encode_heartbeat(*info.heartbeat)) : std::nullopt);
  q.exec();
  SQLite::Statement drop_checks(db, "DELETE FROM checks WHERE target_id = ?1");
  drop_checks.bind(1, info.id);
  drop_checks.exec();
}

void Beats::write(const SQLite::Transaction& transaction, BeatWrite& write)
{
  SQLite::Database& db = m_connection.db();
  const std::string& id = write.state.target_id;
  if (write.run) {
    JobRun& run = *write.run;
    if (run.id == 0) {
      SQLite::Statement insert(db, R"sql(
        INSERT INTO job_runs (target_id, started_at, completed_at, status, exit_code, message,
                              output_tail, command, host, pid)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10))sql");
      insert.bind(1, id);
      bind_time(insert, 2, run.started_at);
      bind_optional_time(insert, 3, run.completed_at);
      insert.bind(4, std::string(to_string(run.status)));
      bind_optional_int(insert, 5, run.exit_code);
      insert.bind(6, run.message);
      insert.bind(7, run.output_tail);
      insert.bind(8, run.command);
      insert.bind(9, run.host);
      insert.bind(10, run.pid);
      insert.exec();
      run.id = db.getLastInsertRowid();
      run.target_id = id;
      write.state.last_run_id = run.id;
    } else {
      SQLite::Statement update(db, R"sql(
        UPDATE job_runs SET completed_at = ?2, status = ?3, exit_code = ?4, message = ?5,
          output_tail = ?6
        WHERE id = ?1 AND target_id = ?7)sql");
      update.bind(1, static_cast<int64_t>(run.id));
      bind_optional_time(update, 2, run.completed_at);
      update.bind(3, std::string(to_string(run.status)));
      bind_optional_int(update, 4, run.exit_code);
      update.bind(5, run.message);
      update.bind(6, run.output_tail);
      update.bind(7, id);
      update.exec();
    }
  }
  if (const auto tally = beat_write_tally(write)) {
    add_to_rollups(db, id, tally->at, tally->tally);
  }
  if (write.beat) {
    Beat& beat = *write.beat;
    SQLite::Statement insert(db, R"sql(
      INSERT INTO beats (target_id, at, status, message, metrics) VALUES (?1, ?2, ?3, ?4, ?5))sql");
    insert.bind(1, id);
    bind_time(insert, 2, beat.at);
    insert.bind(3, std::string(to_string(beat.status)));
    insert.bind(4, beat.message);
    insert.bind(5, encode_metrics(beat.metrics));
    insert.exec();
    beat.id = db.getLastInsertRowid();
    beat.target_id = id;
  }
  const BeatState& st = write.state;
  SQLite::Statement upsert(db, R"sql(
    INSERT INTO beat_states (target_id, state, since, last_seen, last_status, last_message,
      last_metrics, consecutive_healthy, beats, last_run_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT(target_id) DO UPDATE SET state = ?2, since = ?3, last_seen = ?4,
      last_status = ?5, last_message = ?6, last_metrics = ?7, consecutive_healthy = ?8,
      beats = ?9, last_run_id = ?10)sql");
  upsert.bind(1, id);
  upsert.bind(2, std::string(to_string(st.state)));
  bind_optional_time(upsert, 3, st.since);
  bind_optional_time(upsert, 4, st.last_seen);
  bind_optional_text(upsert, 5,
                     st.last_status ? std::optional(std::string(to_string(*st.last_status)))
                                    : std::nullopt);
  upsert.bind(6, st.last_message);
  upsert.bind(7, encode_metrics(st.last_metrics));
  upsert.bind(8, st.consecutive_healthy);
  upsert.bind(9, static_cast<int64_t>(st.beats));
  bind_optional_int64(upsert, 10, st.last_run_id);
  upsert.exec();
  EventWriter events(db);
  for (auto& event : write.events) {
    event.target_id = id;
    events.write(transaction, event);
  }
}

std::optional<BeatWrite> Beats::record(const std::string& target_id,
                                       const std::optional<TargetInfo>& create, TimePoint now,
                                       const BeatDecider& decide)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("recording a beat", [&]() -> std::optional<BeatWrite> {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    auto contexts = load_contexts(&target_id);
    if (contexts.empty()) {
      if (!create) {
        return std::nullopt;
      }
      create_target(*create, now);
      contexts = load_contexts(&target_id);
      if (contexts.empty()) {
        throw StoreError(fmt::format("database {}: target \"{}\" vanished after it was created",
                                     m_connection.path(), target_id));
      }
    }
    BeatWrite result = decide(contexts.begin()->second);
    result.state.target_id = target_id;
    write(txn, result);
    txn.commit();
    return result;
  });
}

std::map<std::string, BeatContext> Beats::contexts()
{
  return m_connection.guarded("reading beat states", [&] { return load_contexts(nullptr); });
}

std::vector<BeatWrite> Beats::refresh(const RefreshDecider& decide)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("refreshing beat states", [&] {
    std::vector<BeatWrite> writes;
    // Look first without a write lock: most of the time nothing has changed.
    for (const auto& [id, seen] : load_contexts(nullptr)) {
      if (!decide(seen)) {
        continue;
      }
      // One short transaction per target that needs a change, deciding again on what is stored
      // now (a beat may have landed meanwhile): a refresh never holds the write lock across
      // every target, and never writes a decision made on a state that has since changed.
      SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
      auto current = load_contexts(&id);
      const auto it = current.find(id);
      if (it == current.end() || !it->second.target.info.heartbeat) {
        continue;  // retired or no longer pushing beats meanwhile; the transaction rolls back
      }
      if (auto result = decide(it->second)) {
        result->state.target_id = id;
        write(txn, *result);
        txn.commit();
        writes.push_back(std::move(*result));
      }
    }
    return writes;
  });
}

std::vector<Beat> Beats::recent_beats(const std::string& target_id, int limit)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading beats", [&] {
    std::vector<Beat> out;
    SQLite::Statement q(db, R"sql(
      SELECT id, target_id, at, status, message, metrics FROM beats
      WHERE target_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2)sql");
    q.bind(1, target_id);
    q.bind(2, limit);
    while (q.executeStep()) {
      Beat b;
      b.id = q.getColumn(0).getInt64();
      b.target_id = q.getColumn(1).getString();
      b.at = util::from_unix_ms(q.getColumn(2).getInt64());
      b.status = parse_or(parse_beat_status(q.getColumn(3).getString()), BeatStatus::healthy);
      b.message = q.getColumn(4).getString();
      b.metrics = decode_metrics(q.getColumn(5).getString());
      out.push_back(std::move(b));
    }
    return out;
  });
}

std::vector<JobRun> Beats::recent_runs(const std::string& target_id, int limit)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading job runs", [&] {
    std::vector<JobRun> out;
    SQLite::Statement q(db, fmt::format(R"sql(
      SELECT {} FROM job_runs WHERE target_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)sql",
                                        job_run_columns("")));
    q.bind(1, target_id);
    q.bind(2, limit);
    while (q.executeStep()) {
      out.push_back(read_job_run(q, 0));
    }
    return out;
  });
}

} // namespace hb::store::sqlite
