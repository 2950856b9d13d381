// SPDX-License-Identifier: MIT
#include "store/postgres/schedules.hpp"

#include "store/encoding.hpp"
#include "store/postgres/claims.hpp"
#include "store/postgres/codecs.hpp"

#include <set>

namespace hb::store::postgres {

void Schedules::sync(const std::vector<ScheduleInfo>& schedules, TimePoint now)
{
  const std::string hash = schedules_fingerprint(schedules);
  Connection& db = m_connection;
  const auto stored = m_connection.guarded(
    "syncing schedules", [&] { return read_meta(db, "schedules_fingerprint"); });
  if (stored == hash) {
    return;
  }
  m_connection.transaction("syncing schedules", [&] {
    std::set<std::string> names;
    for (const auto& s : schedules) {
      names.insert(s.name);
      db.exec(R"sql(
        INSERT INTO schedules (name, cron, timezone, target_id, enabled, description,
                               created_at, retired_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
        ON CONFLICT(name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,
          target_id = excluded.target_id, enabled = excluded.enabled,
          description = excluded.description, retired_at = NULL,
          -- A schedule that comes back or changes its timing starts afresh: fire times from
          -- before (or from the old expression) are not run.
          created_at = CASE WHEN schedules.retired_at IS NOT NULL
                              OR schedules.cron <> excluded.cron
                              OR schedules.timezone <> excluded.timezone
                            THEN excluded.created_at ELSE schedules.created_at END)sql",
              Params(s.name, s.cron, s.timezone, s.target_id, s.enabled, s.description, now));
    }
    retire_missing(db, "schedules", "name", "", names, now);
    write_meta(db, "schedules_fingerprint", hash);
  });
}

std::vector<ScheduleRecord> Schedules::list(IncludeRetired include_retired)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading schedules", [&] {
    std::vector<ScheduleRecord> out;
    const Result r = db.exec(std::string("SELECT name, cron, timezone, target_id, enabled, "
                                         "description, created_at, retired_at FROM schedules")
                             + (include_retired == IncludeRetired::yes
                                  ? ""
                                  : " WHERE retired_at IS NULL")
                             + " ORDER BY name");
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      ScheduleRecord s;
      s.info.name = r.text(i, 0);
      s.info.cron = r.text(i, 1);
      s.info.timezone = r.text(i, 2);
      s.info.target_id = r.text(i, 3);
      s.info.enabled = r.boolean(i, 4);
      s.info.description = r.text(i, 5);
      s.created_at = r.time(i, 6);
      s.retired_at = r.optional_time(i, 7);
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::map<std::string, ScheduleState> Schedules::read_states()
{
  std::map<std::string, ScheduleState> out;
  const Result r = m_connection.exec(R"sql(
    SELECT name, covered_fire, pending_fire, attempts, retry_at, last_run_at, last_status,
           last_exit_code, last_message
    FROM schedule_states)sql");
  for (int i = 0; i < r.rows(); ++i) {
    ScheduleState s;
    s.name = r.text(i, 0);
    s.covered_fire = r.optional_time(i, 1);
    s.pending_fire = r.optional_time(i, 2);
    s.attempts = r.integer(i, 3);
    s.retry_at = r.optional_time(i, 4);
    s.last_run_at = r.optional_time(i, 5);
    s.last_status = parse_task_run_status(r.view(i, 6));
    s.last_exit_code = r.optional_int(i, 7);
    s.last_message = r.text(i, 8);
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
  Connection& db = m_connection;
  m_connection.transaction("recording a task run", [&] {
    const Result inserted = db.exec(R"sql(
      INSERT INTO task_runs (schedule, fire_at, started_at, completed_at, status, exit_code,
                             attempt, message, output_tail, pulse_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
      RETURNING id)sql",
                                    Params(run.schedule, run.fire_at, run.started_at,
                                           run.completed_at, to_string(run.status),
                                           run.exit_code, run.attempt, run.message,
                                           run.output_tail, run.pulse_id));
    run.id = inserted.int64(0, 0);

    db.exec(R"sql(
      INSERT INTO schedule_states (name, covered_fire, pending_fire, attempts, retry_at,
        last_run_at, last_status, last_exit_code, last_message)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT(name) DO UPDATE SET covered_fire = excluded.covered_fire,
        pending_fire = excluded.pending_fire, attempts = excluded.attempts,
        retry_at = excluded.retry_at, last_run_at = excluded.last_run_at,
        last_status = excluded.last_status, last_exit_code = excluded.last_exit_code,
        last_message = excluded.last_message)sql",
            Params(state.name, state.covered_fire, state.pending_fire, state.attempts,
                   state.retry_at, state.last_run_at,
                   state.last_status ? std::string(to_string(*state.last_status)) : std::string(),
                   state.last_exit_code, state.last_message));

    if (!release_owner.empty()) {
      Claims::release(db, task_claim(run.schedule), release_owner);
    }
  });
}

std::vector<TaskRun> Schedules::recent_runs(const std::string& schedule, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading task runs", [&] {
    std::vector<TaskRun> out;
    const Result r = db.exec(R"sql(
      SELECT id, schedule, fire_at, started_at, completed_at, status, exit_code, attempt, message,
             output_tail, pulse_id
      FROM task_runs WHERE schedule = $1 ORDER BY started_at DESC, id DESC LIMIT $2)sql",
                             Params(schedule, limit));
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      TaskRun t;
      t.id = r.int64(i, 0);
      t.schedule = r.text(i, 1);
      t.fire_at = r.time(i, 2);
      t.started_at = r.time(i, 3);
      t.completed_at = r.time(i, 4);
      t.status = parse_or(parse_task_run_status(r.view(i, 5)), TaskRunStatus::failed);
      t.exit_code = r.optional_int(i, 6);
      t.attempt = r.integer(i, 7);
      t.message = r.text(i, 8);
      t.output_tail = r.text(i, 9);
      t.pulse_id = r.optional_int64(i, 10);
      out.push_back(std::move(t));
    }
    return out;
  });
}

} // namespace hb::store::postgres
