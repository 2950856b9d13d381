// SPDX-License-Identifier: MIT
#include "store/postgres/recovery.hpp"

#include "store/encoding.hpp"
#include "store/postgres/claims.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/events.hpp"

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

constexpr const char* k_interrupted_message =
    "interrupted: the run ended before the attempt finished";

RecoveryRun read_run(const Result& r, int row)
{
  RecoveryRun run;
  run.id = r.int64(row, 0);
  run.owner = r.text(row, 1);
  run.started_at = r.time(row, 2);
  run.completed_at = r.optional_time(row, 3);
  run.status = parse_or(parse_recovery_run_status(r.text(row, 4)), RecoveryRunStatus::error);
  run.interval = Duration(r.int64(row, 5));
  run.assessed = r.integer(row, 6);
  run.unhealthy = r.integer(row, 7);
  run.attempted = r.integer(row, 8);
  run.recovered = r.integer(row, 9);
  run.failed = r.integer(row, 10);
  run.escalated = r.integer(row, 11);
  run.message = r.text(row, 12);
  return run;
}

RecoveryAttempt read_attempt(const Result& r, int row)
{
  RecoveryAttempt a;
  a.id = r.int64(row, 0);
  a.run_id = r.int64(row, 1);
  a.target_id = r.text(row, 2);
  a.issue = parse_or(parse_recovery_issue(r.text(row, 3)), RecoveryIssue::failing);
  a.check_name = r.text(row, 4);
  a.phase = r.text(row, 5);
  a.action = r.text(row, 6);
  a.started_at = r.time(row, 7);
  a.completed_at = r.optional_time(row, 8);
  a.result = parse_or(parse_attempt_result(r.text(row, 9)), AttemptResult::failed);
  a.message = r.text(row, 10);
  a.steps = decode_attempt_steps(r.view(row, 11));
  return a;
}

Escalation read_escalation(const Result& r, int row)
{
  Escalation e;
  e.id = r.int64(row, 0);
  e.target_id = r.text(row, 1);
  e.cause = r.text(row, 2);
  e.targets = decode_tags(r.view(row, 3));
  e.opened_at = r.time(row, 4);
  e.resolved_at = r.optional_time(row, 5);
  e.failed_attempts = r.integer(row, 6);
  e.summary = r.text(row, 7);
  e.command_result = r.text(row, 8);
  return e;
}

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

void insert_escalation(Connection& db, Escalation& escalation)
{
  const Result r =
      db.exec(R"sql(
    INSERT INTO escalations (target_id, cause, targets, opened_at, resolved_at, failed_attempts,
                             summary, command_result)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    RETURNING id)sql",
              Params(escalation.target_id, escalation.cause, encode_tags(escalation.targets),
                     escalation.opened_at, escalation.resolved_at, escalation.failed_attempts,
                     escalation.summary, escalation.command_result));
  escalation.id = r.int64(0, 0);
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

// The target whose counters clear_state deletes: the state's, else the attempt's, else the
// resolved escalation's. "" when the write names none.
std::string target_to_clear(Connection& db, const RecoveryWrite& write)
{
  if (write.state) {
    return write.state->target_id;
  }
  if (write.attempt) {
    return write.attempt->target_id;
  }
  if (write.resolve_escalation != 0) {
    const Result r = db.exec("SELECT target_id FROM escalations WHERE id = $1",
                             Params(write.resolve_escalation));
    if (r.rows() > 0) {
      return r.text(0, 0);
    }
  }
  return "";
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
            Params(run.id, run.completed_at, k_interrupted_message));
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
    return read_run(r, 0);
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
      RecoveryState s;
      s.target_id = r.text(i, 0);
      s.failed_attempts = r.integer(i, 1);
      s.last_attempt_at = r.optional_time(i, 2);
      s.next_attempt_at = r.optional_time(i, 3);
      s.suspended_at = r.optional_time(i, 4);
      s.reset_at = r.optional_time(i, 5);
      s.escalation_id = r.int64(i, 6);
      out.emplace(s.target_id, s);
    }
    return out;
  });
}

void Recovery::record(RecoveryWrite& write)
{
  Connection& db = m_connection;
  // A retried transaction starts again from the attempt's id as the caller gave it: the row a
  // rolled-back try inserted is gone, so its id must not turn the insert into an update. The
  // other ids (escalation, state->escalation_id, events) are assigned afresh by every try.
  const std::int64_t attempt_id = write.attempt ? write.attempt->id : 0;
  m_connection.transaction("recording a recovery", [&] {
    if (write.attempt) {
      write.attempt->id = attempt_id;
      write_attempt(db, *write.attempt);
    }
    if (write.open) {
      insert_escalation(db, *write.open);
      if (write.state) {
        write.state->escalation_id = write.open->id;
      }
    }
    if (write.resolve_escalation != 0) {
      db.exec("UPDATE escalations SET resolved_at = $2 WHERE id = $1",
              Params(write.resolve_escalation, write.resolved_at));
    }
    if (write.clear_state) {
      db.exec("DELETE FROM recovery_state WHERE target_id = $1",
              Params(target_to_clear(db, write)));
    } else if (write.state) {
      upsert_state(db, *write.state);
    }
    if (!write.events.empty()) {
      EventWriter events(db);
      for (Event& event : write.events) {
        events.write(event);
      }
    }
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
      out.push_back(read_attempt(r, i));
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
  RecoveryCounts out;
  for (const auto& [target, counts] : counts_by_target(since)) {
    out.succeeded += counts.succeeded;
    out.failed += counts.failed;
    out.interrupted += counts.interrupted;
  }
  return out;
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
      const auto result = parse_attempt_result(r.text(i, 1));
      const int n = r.integer(i, 2);
      RecoveryCounts& counts = out[r.text(i, 0)];
      if (result == AttemptResult::recovered) {
        counts.succeeded += n;
      } else if (result == AttemptResult::failed) {
        counts.failed += n;
      } else if (result == AttemptResult::interrupted) {
        counts.interrupted += n;
      }
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
      out.push_back(read_escalation(r, i));
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
      out.push_back(read_escalation(r, i));
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
