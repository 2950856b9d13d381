// SPDX-License-Identifier: MIT
#include "store/sqlite/schedules.hpp"

#include "store/encoding.hpp"
#include "store/sqlite/claims.hpp"
#include "store/sqlite/codecs.hpp"

#include "util/time.hpp"

#include <set>

namespace hb::store::sqlite {

void Schedules::sync(const std::vector<ScheduleInfo>& schedules, TimePoint now)
{
  const std::string hash = schedules_fingerprint(schedules);
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("syncing schedules", [&] {
    if (read_meta(db, "schedules_fingerprint") == hash) {
      return;
    }
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(db, R"sql(
      INSERT INTO schedules (name, cron, timezone, target_id, enabled, description, created_at,
                             retired_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
      ON CONFLICT(name) DO UPDATE SET cron = ?2, timezone = ?3, target_id = ?4, enabled = ?5,
        description = ?6, retired_at = NULL,
        -- A schedule that comes back or changes its timing starts afresh: fire times from
        -- before (or from the old expression) are not run.
        created_at = CASE WHEN schedules.retired_at IS NOT NULL OR schedules.cron != ?2
                            OR schedules.timezone != ?3 THEN ?7 ELSE schedules.created_at END)sql");
    std::set<std::string> names;
    for (const auto& s : schedules) {
      names.insert(s.name);
      upsert.bind(1, s.name);
      upsert.bind(2, s.cron);
      upsert.bind(3, s.timezone);
      upsert.bind(4, s.target_id);
      upsert.bind(5, s.enabled ? 1 : 0);
      upsert.bind(6, s.description);
      bind_time(upsert, 7, now);
      upsert.exec();
      upsert.reset();
    }
    retire_missing(db, "schedules", "name", "", names, now);
    write_meta(db, "schedules_fingerprint", hash);
    txn.commit();
  });
}

std::vector<ScheduleRecord> Schedules::list(IncludeRetired include_retired)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading schedules", [&] {
    std::vector<ScheduleRecord> out;
    SQLite::Statement q(db, std::string("SELECT name, cron, timezone, target_id, enabled, "
                                        "description, created_at, retired_at FROM schedules")
                              + (include_retired == IncludeRetired::yes
                                   ? ""
                                   : " WHERE retired_at IS NULL")
                              + " ORDER BY name");
    while (q.executeStep()) {
      ScheduleRecord r;
      r.info.name = q.getColumn(0).getString();
      r.info.cron = q.getColumn(1).getString();
      r.info.timezone = q.getColumn(2).getString();
      r.info.target_id = q.getColumn(3).getString();
      r.info.enabled = q.getColumn(4).getInt() != 0;
      r.info.description = q.getColumn(5).getString();
      r.created_at = util::from_unix_ms(q.getColumn(6).getInt64());
      r.retired_at = optional_time(q.getColumn(7));
      out.push_back(std::move(r));
    }
    return out;
  });
}

std::map<std::string, ScheduleState> Schedules::read_states()
{
  std::map<std::string, ScheduleState> out;
  SQLite::Statement q(m_connection.db(), R"sql(
    SELECT name, covered_fire, pending_fire, attempts, retry_at, last_run_at, last_status,
           last_exit_code, last_message
    FROM schedule_states)sql");
  while (q.executeStep()) {
    ScheduleState s;
    s.name = q.getColumn(0).getString();
    s.covered_fire = optional_time(q.getColumn(1));
    s.pending_fire = optional_time(q.getColumn(2));
    s.attempts = q.getColumn(3).getInt();
    s.retry_at = optional_time(q.getColumn(4));
    s.last_run_at = optional_time(q.getColumn(5));
    s.last_status = parse_task_run_status(q.getColumn(6).getString());
    s.last_exit_code = optional_int(q.getColumn(7));
    s.last_message = q.getColumn(8).getString();
    out.emplace(s.name, std::move(s));
  }
  return out;
}

std::map<std::string, ScheduleState> Schedules::states()
{
  return m_connection.guarded("reading schedule states", [&] { return read_states(); });
}

void Schedules::record_run(TaskRun& run, const ScheduleState& state,
                           const std::string& release_owner)
{
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("recording a task run", [&] {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(db, R"sql(
      INSERT INTO task_runs (schedule, fire_at, started_at, completed_at, status, exit_code,
                             attempt, message, output_tail, pulse_id)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10))sql");
    insert.bind(1, run.schedule);
    bind_time(insert, 2, run.fire_at);
    bind_time(insert, 3, run.started_at);
    bind_time(insert, 4, run.completed_at);
    insert.bind(5, std::string(to_string(run.status)));
    bind_optional_int(insert, 6, run.exit_code);
    insert.bind(7, run.attempt);
    insert.bind(8, run.message);
    insert.bind(9, run.output_tail);
    bind_optional_int64(insert, 10, run.pulse_id);
    insert.exec();
    run.id = db.getLastInsertRowid();

    SQLite::Statement upsert(db, R"sql(
      INSERT INTO schedule_states (name, covered_fire, pending_fire, attempts, retry_at,
        last_run_at, last_status, last_exit_code, last_message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
      ON CONFLICT(name) DO UPDATE SET covered_fire = ?2, pending_fire = ?3, attempts = ?4,
        retry_at = ?5, last_run_at = ?6, last_status = ?7, last_exit_code = ?8,
        last_message = ?9)sql");
    upsert.bind(1, state.name);
    bind_optional_time(upsert, 2, state.covered_fire);
    bind_optional_time(upsert, 3, state.pending_fire);
    upsert.bind(4, state.attempts);
    bind_optional_time(upsert, 5, state.retry_at);
    bind_optional_time(upsert, 6, state.last_run_at);
    upsert.bind(7, state.last_status ? std::string(to_string(*state.last_status)) : std::string());
    bind_optional_int(upsert, 8, state.last_exit_code);
    upsert.bind(9, state.last_message);
    upsert.exec();

    if (!release_owner.empty()) {
      Claims::release(db, task_claim(run.schedule), release_owner);
    }
    txn.commit();
  });
}

std::vector<TaskRun> Schedules::recent_runs(const std::string& schedule, int limit)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading task runs", [&] {
    std::vector<TaskRun> out;
    SQLite::Statement q(db, R"sql(
      SELECT id, schedule, fire_at, started_at, completed_at, status, exit_code, attempt, message,
             output_tail, pulse_id
      FROM task_runs WHERE schedule = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)sql");
    q.bind(1, schedule);
    q.bind(2, limit);
    while (q.executeStep()) {
      TaskRun r;
      r.id = q.getColumn(0).getInt64();
      r.schedule = q.getColumn(1).getString();
      r.fire_at = util::from_unix_ms(q.getColumn(2).getInt64());
      r.started_at = util::from_unix_ms(q.getColumn(3).getInt64());
      r.completed_at = util::from_unix_ms(q.getColumn(4).getInt64());
      r.status = parse_or(parse_task_run_status(q.getColumn(5).getString()), TaskRunStatus::failed);
      r.exit_code = optional_int(q.getColumn(6));
      r.attempt = q.getColumn(7).getInt();
      r.message = q.getColumn(8).getString();
      r.output_tail = q.getColumn(9).getString();
      r.pulse_id = optional_int64(q.getColumn(10));
      out.push_back(std::move(r));
    }
    return out;
  });
}

} // namespace hb::store::sqlite
