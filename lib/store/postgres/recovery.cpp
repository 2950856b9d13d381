// SPDX-License-Identifier: MIT
#include "store/postgres/recovery.hpp"

#include "core/errors.hpp"
#include "store/encoding.hpp"
#include "store/postgres/claims.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/events.hpp"
#include "store/recovery_records.hpp"

#include <fmt/format.h>

namespace hb::store::postgres {
namespace {

constexpr const char* k_run_columns = R"sql(
  id, owner, started_at, completed_at, status, interval_ms, assessed, unhealthy, attempted,
  recovered, failed, escalated, message)sql";

constexpr const char* k_attempt_columns = R"sql(
  id, run_id, target_id, issue, check_name, phase, action, started_at, completed_at, result,
  message, steps)sql";

constexpr const char* k_escalation_columns = R"sql(
  id, target_id, cause, targets, opened_at, resolved_at, failed_attempts, summary,
  command_result)sql";

// Inserts `attempt` (assigning its id) when it has none yet, else updates its row.
void write_attempt(Connection& db, RecoveryAttempt& attempt)
{
  Params params(attempt.run_id, attempt.target_id, std::string(to_string(attempt.issue)),
                attempt.check_name, attempt.phase, attempt.action, attempt.started_at,
                attempt.completed_at, std::string(to_string(attempt.result)), attempt.message,
                encode_attempt_steps(attempt.steps));
  if (attempt.id == 0) {
    const Result r = db.exec(R"sql(
      INSERT INTO recovery_attempts (run_id, target_id, issue, check_name, phase, action,
                                     started_at, completed_at, result, message, steps)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
      RETURNING id)sql",
                             params);
    attempt.id = r.int64(0, 0);
    return;
  }
  params.add(attempt.id);
  db.exec(R"sql(
    UPDATE recovery_attempts SET run_id = $1, target_id = $2, issue = $3, check_name = $4,
      phase = $5, action = $6, started_at = $7, completed_at = $8, result = $9, message = $10,
      steps = $11
    WHERE id = $12)sql",
          params);
}

// Inserts `escalation` (assigning its id) and returns true, unless one is open already for its
// target or shared cause (escalations_one_open; a concurrent insert waits for the other's commit):
// then returns false with that one's id.
bool insert_escalation(Connection& db, Escalation& escalation)
{
  // The open one that made the insert do nothing may be resolved (and committed) before the
  // SELECT reads it; the insert then goes in at the next turn. Three turns are plenty.
  for (int turn = 0; turn < 3; ++turn) {
    const Result r = db.exec(R"sql(
      INSERT INTO escalations (target_id, cause, targets, opened_at, resolved_at,
                               failed_attempts, summary, command_result)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT DO NOTHING
      RETURNING id)sql",
                             Params(escalation.target_id, escalation.cause,
                                    encode_tags(escalation.targets), escalation.opened_at,
                                    escalation.resolved_at, escalation.failed_attempts,
                                    escalation.summary, escalation.command_result));
    if (r.rows() == 1) {
      escalation.id = r.int64(0, 0);
      return true;
    }
    const Result open = db.exec(R"sql(
      SELECT id FROM escalations WHERE target_id = $1 AND cause = $2 AND resolved_at IS NULL)sql",
                                Params(escalation.target_id, escalation.cause));
    if (open.rows() == 1) {
      escalation.id = open.int64(0, 0);
      return false;
    }
  }
  throw StoreError("an escalation conflicted with an open one that cannot be found");
}

void upsert_state(Connection& db, const RecoveryState& state)
{
  db.exec(R"sql(
    INSERT INTO recovery_state (target_id, failed_attempts, last_attempt_at, next_attempt_at,
                                suspended_at, reset_at, escalation_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT(target_id) DO UPDATE SET failed_attempts = excluded.failed_attempts,
      last_attempt_at = excluded.last_attempt_at, next_attempt_at = excluded.next_attempt_at,
      suspended_at = excluded.suspended_at, reset_at = excluded.reset_at,
      escalation_id = excluded.escalation_id)sql",
          Params(state.target_id, state.failed_attempts, state.last_attempt_at,
                 state.next_attempt_at, state.suspended_at, state.reset_at, state.escalation_id));
}

} // namespace

std::int64_t Recovery::begin_run(const RecoveryRun& run)
{
  Connection& db = m_connection;
  return m_connection.guarded("recording the start of a recovery run", [&] {
    const Result r = db.exec(R"sql(
      INSERT INTO recovery_runs (owner, started_at, completed_at, status, interval_ms, assessed,
                                 unhealthy, attempted, recovered, failed, escalated, message)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      RETURNING id)sql",
                             Params(run.owner, run.started_at, run.completed_at,
                                    std::string(to_string(run.status)), run.interval, run.assessed,
                                    run.unhealthy, run.attempted, run.recovered, run.failed,
                                    run.escalated, run.message));
    return r.int64(0, 0);
  });
}

void Recovery::finish_run(const RecoveryRun& run)
{
  Connection& db = m_connection;
  m_connection.transaction("recording the end of a recovery run", [&] {
    db.exec(R"sql(
      UPDATE recovery_runs SET completed_at = $2, status = $3, interval_ms = $4, assessed = $5,
        unhealthy = $6, attempted = $7, recovered = $8, failed = $9, escalated = $10,
        message = $11
      WHERE id = $1)sql",
            Params(run.id, run.completed_at, std::string(to_string(run.status)), run.interval,
                   run.assessed, run.unhealthy, run.attempted, run.recovered, run.failed,
                   run.escalated, run.message));
    // An attempt still running when its run ends was cut short (SIGTERM, a deadline).
    db.exec(R"sql(
      UPDATE recovery_attempts SET result = 'interrupted',
        completed_at = coalesce($2::bigint, completed_at),
        message = CASE WHEN message = '' THEN $3::text ELSE message END
      WHERE run_id = $1 AND result = 'running')sql",
            Params(run.id, run.completed_at, k_interrupted_attempt_message));
    Claims::release_owner(db, run.owner);
  });
}

std::optional<RecoveryRun> Recovery::last_run()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading recovery runs", [&]() -> std::optional<RecoveryRun> {
    // By id, the order of recording, as for pulses: a clock that was wrong for a while cannot
    // hide the latest run.
    const Result r = db.exec(
        fmt::format("SELECT {} FROM recovery_runs ORDER BY id DESC LIMIT 1", k_run_columns));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    return decode_recovery_run(ResultRow(r, 0));
  });
}

std::map<std::string, RecoveryState> Recovery::states()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading recovery states", [&] {
    std::map<std::string, RecoveryState> out;
    const Result r = db.exec(R"sql(
      SELECT target_id, failed_attempts, last_attempt_at, next_attempt_at, suspended_at, reset_at,
             escalation_id
      FROM recovery_state)sql");
    for (int i = 0; i < r.rows(); ++i) {
      RecoveryState s = decode_recovery_state(ResultRow(r, i));
      out.emplace(s.target_id, s);
    }
    return out;
  });
}

void Recovery::record(RecoveryWrite& write)
{
  Connection& db = m_connection;
  // A retried transaction starts again from the write as the caller gave it: the rows a
  // rolled-back try inserted are gone (an attempt's id must not turn its insert into an update),
  // and what the try changed in the write (ids, an escalation found open already) is undone.
  const RecoveryWrite given = write;
  m_connection.transaction("recording a recovery", [&] {
    write = given;
    apply_recovery_write(
        write,
        {.write_attempt = [&](RecoveryAttempt& attempt) { write_attempt(db, attempt); },
         .open_escalation =
             [&](Escalation& escalation) { return insert_escalation(db, escalation); },
         .link_escalation_event =
             [&](std::int64_t id, std::int64_t event_id) {
               db.exec("UPDATE escalations SET event_id = $2 WHERE id = $1", Params(id, event_id));
             },
         .resolve_escalation =
             [&](std::int64_t id, TimePoint resolved_at) {
               db.exec("UPDATE escalations SET resolved_at = $2 WHERE id = $1",
                       Params(id, resolved_at));
             },
         .escalation_target = [&](std::int64_t id) -> std::optional<std::string> {
           const Result r = db.exec("SELECT target_id FROM escalations WHERE id = $1", Params(id));
           if (r.rows() == 0) {
             return std::nullopt;
           }
           return r.text(0, 0);
         },
         .clear_state =
             [&](const std::string& target_id) {
               db.exec("DELETE FROM recovery_state WHERE target_id = $1", Params(target_id));
             },
         .save_state = [&](const RecoveryState& state) { upsert_state(db, state); },
         .write_events =
             [&](std::vector<Event>& events) {
               EventWriter writer(db);
               for (Event& event : events) {
                 writer.write(event);
               }
             }});
  });
}

std::vector<RecoveryAttempt> Recovery::recent_attempts(const std::string& target_id, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading recovery attempts", [&] {
    std::vector<RecoveryAttempt> out;
    // Two statements, as for events, so that a target's read uses its index.
    const Result r =
        target_id.empty()
            ? db.exec(fmt::format("SELECT {} FROM recovery_attempts "
                                  "ORDER BY started_at DESC, id DESC LIMIT $1",
                                  k_attempt_columns),
                      Params(limit))
            : db.exec(fmt::format("SELECT {} FROM recovery_attempts WHERE target_id = $1 "
                                  "ORDER BY started_at DESC, id DESC LIMIT $2",
                                  k_attempt_columns),
                      Params(target_id, limit));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_recovery_attempt(ResultRow(r, i)));
    }
    return out;
  });
}

int Recovery::count_attempts(const std::string& target_id, TimePoint since)
{
  Connection& db = m_connection;
  return m_connection.guarded("counting recovery attempts", [&] {
    return db
        .exec(R"sql(
        SELECT count(*) FROM recovery_attempts WHERE target_id = $1 AND started_at >= $2)sql",
              Params(target_id, since))
        .integer(0, 0);
  });
}

RecoveryCounts Recovery::counts(TimePoint since)
{
  return total_counts(counts_by_target(since));
}

std::map<std::string, RecoveryCounts> Recovery::counts_by_target(TimePoint since)
{
  Connection& db = m_connection;
  return m_connection.guarded("counting recovery attempts", [&] {
    std::map<std::string, RecoveryCounts> out;
    // By start (recovery_attempts_by_time): an attempt lasts minutes at most.
    const Result r = db.exec(R"sql(
      SELECT target_id, result, count(*) FROM recovery_attempts
      WHERE started_at >= $1 AND result <> 'running'
      GROUP BY target_id, result)sql",
                             Params(since));
    for (int i = 0; i < r.rows(); ++i) {
      tally_attempts(out[r.text(i, 0)], r.view(i, 1), r.integer(i, 2));
    }
    return out;
  });
}

std::vector<Escalation> Recovery::open_escalations()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading escalations", [&] {
    std::vector<Escalation> out;
    const Result r = db.exec(fmt::format("SELECT {} FROM escalations WHERE resolved_at IS NULL "
                                         "ORDER BY opened_at, id",
                                         k_escalation_columns));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_escalation(ResultRow(r, i)));
    }
    return out;
  });
}

std::vector<Escalation> Recovery::recent_escalations(const std::string& target_id, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading escalations", [&] {
    std::vector<Escalation> out;
    // A shared cause names its targets only in `targets`.
    const Result r =
        target_id.empty()
            ? db.exec(fmt::format("SELECT {} FROM escalations ORDER BY opened_at DESC, id DESC "
                                  "LIMIT $1",
                                  k_escalation_columns),
                      Params(limit))
            : db.exec(
                  fmt::format("SELECT {} FROM escalations WHERE target_id = $1 OR EXISTS "
                              "(SELECT 1 FROM json_array_elements_text(escalations.targets::json) "
                              "AS element(value) WHERE value = $1) "
                              "ORDER BY opened_at DESC, id DESC LIMIT $2",
                              k_escalation_columns),
                  Params(target_id, limit));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_escalation(ResultRow(r, i)));
    }
    return out;
  });
}

void Recovery::set_command_result(std::int64_t id, const std::string& result)
{
  Connection& db = m_connection;
  m_connection.transaction("recording the escalation command's result", [&] {
    db.exec("UPDATE escalations SET command_result = $2 WHERE id = $1", Params(id, result));
    // Whoever holds the claim: the command has run to its end, so nobody needs to run it again.
    db.exec("DELETE FROM leases WHERE name = $1", Params(escalation_claim(std::to_string(id))));
  });
}

} // namespace hb::store::postgres
