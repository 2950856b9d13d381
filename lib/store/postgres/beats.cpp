// SPDX-License-Identifier: MIT
#include "store/postgres/beats.hpp"

#include "store/encoding.hpp"
#include "store/observation_tally.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/events.hpp"
#include "store/postgres/rollups.hpp"

#include "core/errors.hpp"

#include <fmt/format.h>

namespace hb::store::postgres {
namespace {

// Locks target `id`'s row until the transaction ends. Everything that decides on a target's
// beat state holds this lock from before it reads the state until it commits what it decided,
// so concurrent beats for one target take turns: each reads (in a fresh snapshot, after the
// lock) what the one before it wrote. Returns false when there is no such target. Throws
// PgError.
bool lock_target(Connection& db, const std::string& id)
{
  return db.exec("SELECT 1 FROM targets WHERE id = $1 FOR UPDATE", Params(id)).rows() > 0;
}

} // namespace

std::map<std::string, BeatContext> Beats::load_contexts(const std::string* only)
{
  std::map<std::string, BeatContext> out;
  // Columns: the target, then its beat state (from `k_state_at`), then its last run (`k_run_at`).
  constexpr int k_state_at = k_target_column_count;
  constexpr int k_run_at = k_state_at + 10;
  const std::string sql = fmt::format(R"sql(
    SELECT {},
           s.target_id, s.state, s.since, s.last_seen, s.last_status, s.last_message,
           s.last_metrics, s.consecutive_healthy, s.beats, s.last_run_id,
           {}
    FROM targets t
    LEFT JOIN beat_states s ON s.target_id = t.id
    LEFT JOIN job_runs r ON r.id = s.last_run_id
    WHERE t.retired_at IS NULL AND {})sql",
                                      target_columns("t."), job_run_columns("r."),
                                      only ? "t.id = $1" : "t.heartbeat IS NOT NULL");
  const Result r = only ? m_connection.exec(sql, Params(*only)) : m_connection.exec(sql);
  for (int i = 0; i < r.rows(); ++i) {
    BeatContext c;
    c.target = read_target(r, i, 0);
    const auto& info = c.target.info;
    c.state.target_id = info.id;
    if (!r.is_null(i, k_state_at)) {
      c.state.state = parse_beat_phase(info.kind, r.view(i, k_state_at + 1));
      c.state.since = r.optional_time(i, k_state_at + 2);
      c.state.last_seen = r.optional_time(i, k_state_at + 3);
      if (!r.is_null(i, k_state_at + 4)) {
        c.state.last_status = parse_beat_status(r.view(i, k_state_at + 4));
      }
      c.state.last_message = r.text(i, k_state_at + 5);
      c.state.last_metrics = decode_metrics(r.view(i, k_state_at + 6));
      c.state.consecutive_healthy = r.integer(i, k_state_at + 7);
      c.state.beats = r.int64(i, k_state_at + 8);
      c.state.last_run_id = r.optional_int64(i, k_state_at + 9);
    }
    if (!r.is_null(i, k_run_at)) {
      c.last_run = read_job_run(r, i, k_run_at);
    }
    out.emplace(info.id, std::move(c));
  }
  return out;
}

void Beats::create_target(const TargetInfo& info, TimePoint now)
{
  Connection& db = m_connection;
  // Only ever called for a target that is unknown or retired, with its row locked: a revived
  // one starts afresh.
  db.exec("DELETE FROM beat_states WHERE target_id = $1", Params(info.id));
  db.exec(R"sql(
    INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                         stale_after_ms, heartbeat, origin)
    VALUES ($1, $2, $3, $4, false, 0, $5, NULL, 0, $6, 'beat')
    ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
      tags = excluded.tags, paused = false, retired_at = NULL, heartbeat = excluded.heartbeat,
      origin = 'beat')sql",
          Params(info.id, info.name, to_string(info.kind), encode_tags(info.tags), now,
                 info.heartbeat ? std::optional(encode_heartbeat(*info.heartbeat))
                                : std::nullopt));
  db.exec("DELETE FROM checks WHERE target_id = $1", Params(info.id));
}

void Beats::write(BeatWrite& write)
{
  Connection& db = m_connection;
  const std::string& id = write.state.target_id;
  if (write.run) {
    JobRun& run = *write.run;
    if (run.id == 0) {
      const Result inserted = db.exec(R"sql(
        INSERT INTO job_runs (target_id, started_at, completed_at, status, exit_code, message,
                              output_tail, command, host, pid)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING id)sql",
                                      Params(id, run.started_at, run.completed_at,
                                             to_string(run.status), run.exit_code, run.message,
                                             run.output_tail, run.command, run.host, run.pid));
      run.id = inserted.int64(0, 0);
      run.target_id = id;
      write.state.last_run_id = run.id;
    } else {
      db.exec(R"sql(
        UPDATE job_runs SET completed_at = $2, status = $3, exit_code = $4, message = $5,
          output_tail = $6
        WHERE id = $1 AND target_id = $7)sql",
              Params(run.id, run.completed_at, to_string(run.status), run.exit_code, run.message,
                     run.output_tail, id));
    }
  }
  if (const auto tally = beat_write_tally(write)) {
    add_to_rollups(db, id, tally->at, tally->tally);
  }
  if (write.beat) {
    Beat& beat = *write.beat;
    const Result inserted = db.exec(R"sql(
      INSERT INTO beats (target_id, at, status, message, metrics) VALUES ($1, $2, $3, $4, $5)
      RETURNING id)sql",
                                    Params(id, beat.at, to_string(beat.status), beat.message,
                                           encode_metrics(beat.metrics)));
    beat.id = inserted.int64(0, 0);
    beat.target_id = id;
  }
  const BeatState& st = write.state;
  db.exec(R"sql(
    INSERT INTO beat_states (target_id, state, since, last_seen, last_status, last_message,
      last_metrics, consecutive_healthy, beats, last_run_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT(target_id) DO UPDATE SET state = excluded.state, since = excluded.since,
      last_seen = excluded.last_seen, last_status = excluded.last_status,
      last_message = excluded.last_message, last_metrics = excluded.last_metrics,
      consecutive_healthy = excluded.consecutive_healthy, beats = excluded.beats,
      last_run_id = excluded.last_run_id)sql",
          Params(id, to_string(st.state), st.since, st.last_seen,
                 st.last_status ? std::optional(std::string(to_string(*st.last_status)))
                                : std::nullopt,
                 st.last_message, encode_metrics(st.last_metrics), st.consecutive_healthy,
                 st.beats, st.last_run_id));
  EventWriter events(db);
  for (auto& event : write.events) {
    event.target_id = id;
    events.write(event);
  }
}

std::optional<BeatWrite> Beats::record(const std::string& target_id,
                                       const std::optional<TargetInfo>& create, TimePoint now,
                                       const BeatDecider& decide)
{
  Connection& db = m_connection;
  return m_connection.transaction("recording a beat", [&]() -> std::optional<BeatWrite> {
    if (!lock_target(db, target_id)) {
      if (!create) {
        return std::nullopt;
      }
      // An unknown target has no row to lock yet: insert one, retired, for create_target below
      // to bring to life in this same transaction (so nobody ever sees it retired). Of two
      // processes that create the target at once, one inserts; the other's insert waits for
      // that one to commit and then does nothing, and its lock finds the live target.
      db.exec(R"sql(
        INSERT INTO targets (id, name, kind, interval_ms, first_seen, retired_at, origin)
        VALUES ($1, $2, $3, 0, $4, $4, 'beat')
        ON CONFLICT(id) DO NOTHING)sql",
              Params(target_id, create->name, to_string(create->kind), now));
      lock_target(db, target_id);
    }
    auto contexts = load_contexts(&target_id);
    if (contexts.empty()) {
      if (!create) {
        return std::nullopt;
      }
      create_target(*create, now);
      contexts = load_contexts(&target_id);
      if (contexts.empty()) {
        throw StoreError(fmt::format("database {}: target \"{}\" vanished after it was created",
                                     db.display(), target_id));
      }
    }
    BeatWrite result = decide(contexts.begin()->second);
    result.state.target_id = target_id;
    write(result);
    return result;
  });
}

std::map<std::string, BeatContext> Beats::contexts()
{
  return m_connection.guarded("reading beat states", [&] { return load_contexts(nullptr); });
}

std::vector<BeatWrite> Beats::refresh(const RefreshDecider& decide)
{
  Connection& db = m_connection;
  std::vector<BeatWrite> writes;
  // Look first without locking anything: most of the time nothing has changed.
  const auto seen_contexts =
    m_connection.guarded("refreshing beat states", [&] { return load_contexts(nullptr); });
  for (const auto& [id, seen] : seen_contexts) {
    if (!decide(seen)) {
      continue;
    }
    // One short transaction per target that needs a change, deciding again on what is stored
    // now, under the target's lock (a beat may have landed meanwhile): a refresh never holds
    // locks across every target, and never writes a decision made on a state that has since
    // changed.
    auto written = m_connection.transaction(
      "refreshing beat states", [&, &id = id]() -> std::optional<BeatWrite> {
        lock_target(db, id);
        auto current = load_contexts(&id);
        const auto it = current.find(id);
        if (it == current.end() || !it->second.target.info.heartbeat) {
          return std::nullopt;  // retired or no longer pushing beats meanwhile
        }
        auto result = decide(it->second);
        if (result) {
          result->state.target_id = id;
          write(*result);
        }
        return result;
      });
    if (written) {
      writes.push_back(std::move(*written));
    }
  }
  return writes;
}

std::vector<Beat> Beats::recent_beats(const std::string& target_id, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading beats", [&] {
    std::vector<Beat> out;
    const Result r = db.exec(R"sql(
      SELECT id, target_id, at, status, message, metrics FROM beats
      WHERE target_id = $1 ORDER BY at DESC, id DESC LIMIT $2)sql",
                             Params(target_id, limit));
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      Beat b;
      b.id = r.int64(i, 0);
      b.target_id = r.text(i, 1);
      b.at = r.time(i, 2);
      b.status = parse_or(parse_beat_status(r.view(i, 3)), BeatStatus::healthy);
      b.message = r.text(i, 4);
      b.metrics = decode_metrics(r.view(i, 5));
      out.push_back(std::move(b));
    }
    return out;
  });
}

std::vector<JobRun> Beats::recent_runs(const std::string& target_id, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading job runs", [&] {
    std::vector<JobRun> out;
    const Result r = db.exec(fmt::format(R"sql(
      SELECT {} FROM job_runs WHERE target_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2)sql",
                                         job_run_columns("")),
                             Params(target_id, limit));
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(read_job_run(r, i, 0));
    }
    return out;
  });
}

} // namespace hb::store::postgres
