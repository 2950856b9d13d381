// SPDX-License-Identifier: MIT
#include "store/sqlite/recovery.hpp"

#include "store/encoding.hpp"
#include "store/sqlite/claims.hpp"
#include "store/sqlite/codecs.hpp"
#include "store/sqlite/events.hpp"

#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::store::sqlite {
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

RecoveryRun read_run(SQLite::Statement& q)
{
  RecoveryRun r;
  r.id = q.getColumn(0).getInt64();
  r.owner = q.getColumn(1).getString();
  r.started_at = util::from_unix_ms(q.getColumn(2).getInt64());
  r.completed_at = optional_time(q.getColumn(3));
  r.status =
      parse_or(parse_recovery_run_status(q.getColumn(4).getString()), RecoveryRunStatus::error);
  r.interval = Duration(q.getColumn(5).getInt64());
  r.assessed = q.getColumn(6).getInt();
  r.unhealthy = q.getColumn(7).getInt();
  r.attempted = q.getColumn(8).getInt();
  r.recovered = q.getColumn(9).getInt();
  r.failed = q.getColumn(10).getInt();
  r.escalated = q.getColumn(11).getInt();
  r.message = q.getColumn(12).getString();
  return r;
}

RecoveryAttempt read_attempt(SQLite::Statement& q)
{
  RecoveryAttempt a;
  a.id = q.getColumn(0).getInt64();
  a.run_id = q.getColumn(1).getInt64();
  a.target_id = q.getColumn(2).getString();
  a.issue = parse_or(parse_recovery_issue(q.getColumn(3).getString()), RecoveryIssue::failing);
  a.check_name = q.getColumn(4).getString();
  a.phase = q.getColumn(5).getString();
  a.action = q.getColumn(6).getString();
  a.started_at = util::from_unix_ms(q.getColumn(7).getInt64());
  a.completed_at = optional_time(q.getColumn(8));
  a.result = parse_or(parse_attempt_result(q.getColumn(9).getString()), AttemptResult::failed);
  a.message = q.getColumn(10).getString();
  a.steps = decode_attempt_steps(q.getColumn(11).getString());
  return a;
}

Escalation read_escalation(SQLite::Statement& q)
{
  Escalation e;
  e.id = q.getColumn(0).getInt64();
  e.target_id = q.getColumn(1).getString();
  e.cause = q.getColumn(2).getString();
  e.targets = decode_tags(q.getColumn(3).getString());
  e.opened_at = util::from_unix_ms(q.getColumn(4).getInt64());
  e.resolved_at = optional_time(q.getColumn(5));
  e.failed_attempts = q.getColumn(6).getInt();
  e.summary = q.getColumn(7).getString();
  e.command_result = q.getColumn(8).getString();
  return e;
}

// Inserts `attempt` (assigning its id) when it has none yet, else updates its row.
void write_attempt(SQLite::Database& db, RecoveryAttempt& attempt)
{
  SQLite::Statement q(db, attempt.id == 0 ? R"sql(
    INSERT INTO recovery_attempts (run_id, target_id, issue, check_name, phase, action,
                                   started_at, completed_at, result, message, steps)
    VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql"
                                          : R"sql(
    UPDATE recovery_attempts SET run_id = ?2, target_id = ?3, issue = ?4, check_name = ?5,
      phase = ?6, action = ?7, started_at = ?8, completed_at = ?9, result = ?10, message = ?11,
      steps = ?12
    WHERE id = ?1)sql");
  if (attempt.id != 0) {
    q.bind(1, static_cast<int64_t>(attempt.id));
  }
  q.bind(2, static_cast<int64_t>(attempt.run_id));
  q.bind(3, attempt.target_id);
  q.bind(4, std::string(to_string(attempt.issue)));
  q.bind(5, attempt.check_name);
  q.bind(6, attempt.phase);
  q.bind(7, attempt.action);
  bind_time(q, 8, attempt.started_at);
  bind_optional_time(q, 9, attempt.completed_at);
  q.bind(10, std::string(to_string(attempt.result)));
  q.bind(11, attempt.message);
  q.bind(12, encode_attempt_steps(attempt.steps));
  q.exec();
  if (attempt.id == 0) {
    attempt.id = db.getLastInsertRowid();
  }
}

void insert_escalation(SQLite::Database& db, Escalation& escalation)
{
  SQLite::Statement q(db, R"sql(
    INSERT INTO escalations (target_id, cause, targets, opened_at, resolved_at, failed_attempts,
                             summary, command_result)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql");
  q.bind(1, escalation.target_id);
  q.bind(2, escalation.cause);
  q.bind(3, encode_tags(escalation.targets));
  bind_time(q, 4, escalation.opened_at);
  bind_optional_time(q, 5, escalation.resolved_at);
  q.bind(6, escalation.failed_attempts);
  q.bind(7, escalation.summary);
  q.bind(8, escalation.command_result);
  q.exec();
  escalation.id = db.getLastInsertRowid();
}

void upsert_state(SQLite::Database& db, const RecoveryState& state)
{
  SQLite::Statement q(db, R"sql(
    INSERT INTO recovery_state (target_id, failed_attempts, last_attempt_at, next_attempt_at,
                                suspended_at, reset_at, escalation_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT(target_id) DO UPDATE SET failed_attempts = ?2, last_attempt_at = ?3,
      next_attempt_at = ?4, suspended_at = ?5, reset_at = ?6, escalation_id = ?7)sql");
  q.bind(1, state.target_id);
  q.bind(2, state.failed_attempts);
  bind_optional_time(q, 3, state.last_attempt_at);
  bind_optional_time(q, 4, state.next_attempt_at);
  bind_optional_time(q, 5, state.suspended_at);
  bind_optional_time(q, 6, state.reset_at);
  q.bind(7, static_cast<int64_t>(state.escalation_id));
  q.exec();
}

// The target whose counters clear_state deletes: the state's, else the attempt's, else the
// resolved escalation's. "" when the write names none.
std::string target_to_clear(SQLite::Database& db, const RecoveryWrite& write)
{
  if (write.state) {
    return write.state->target_id;
  }
  if (write.attempt) {
    return write.attempt->target_id;
  }
  if (write.resolve_escalation != 0) {
    SQLite::Statement q(db, "SELECT target_id FROM escalations WHERE id = ?1");
    q.bind(1, static_cast<int64_t>(write.resolve_escalation));
    if (q.executeStep()) {
      return q.getColumn(0).getString();
    }
  }
  return "";
}

} // namespace

std::int64_t Recovery::begin_run(const RecoveryRun& run)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("recording the start of a recovery run", [&] {
    SQLite::Statement q(db, R"sql(
      INSERT INTO recovery_runs (owner, started_at, completed_at, status, interval_ms, assessed,
                                 unhealthy, attempted, recovered, failed, escalated, message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql");
    q.bind(1, run.owner);
    bind_time(q, 2, run.started_at);
    bind_optional_time(q, 3, run.completed_at);
    q.bind(4, std::string(to_string(run.status)));
    q.bind(5, static_cast<int64_t>(run.interval.count()));
    q.bind(6, run.assessed);
    q.bind(7, run.unhealthy);
    q.bind(8, run.attempted);
    q.bind(9, run.recovered);
    q.bind(10, run.failed);
    q.bind(11, run.escalated);
    q.bind(12, run.message);
    q.exec();
    return static_cast<std::int64_t>(db.getLastInsertRowid());
  });
}

void Recovery::finish_run(const RecoveryRun& run)
{
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("recording the end of a recovery run", [&] {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(db, R"sql(
      UPDATE recovery_runs SET completed_at = ?2, status = ?3, interval_ms = ?4, assessed = ?5,
        unhealthy = ?6, attempted = ?7, recovered = ?8, failed = ?9, escalated = ?10,
        message = ?11
      WHERE id = ?1)sql");
    update.bind(1, static_cast<int64_t>(run.id));
    bind_optional_time(update, 2, run.completed_at);
    update.bind(3, std::string(to_string(run.status)));
    update.bind(4, static_cast<int64_t>(run.interval.count()));
    update.bind(5, run.assessed);
    update.bind(6, run.unhealthy);
    update.bind(7, run.attempted);
    update.bind(8, run.recovered);
    update.bind(9, run.failed);
    update.bind(10, run.escalated);
    update.bind(11, run.message);
    update.exec();
    // An attempt still running when its run ends was cut short (SIGTERM, a deadline).
    SQLite::Statement interrupt(db, R"sql(
      UPDATE recovery_attempts SET result = 'interrupted',
        completed_at = coalesce(?2, completed_at),
        message = CASE WHEN message = '' THEN ?3 ELSE message END
      WHERE run_id = ?1 AND result = 'running')sql");
    interrupt.bind(1, static_cast<int64_t>(run.id));
    bind_optional_time(interrupt, 2, run.completed_at);
    interrupt.bind(3, k_interrupted_message);
    interrupt.exec();
    Claims::release_owner(db, run.owner);
    txn.commit();
  });
}

std::optional<RecoveryRun> Recovery::last_run()
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading recovery runs", [&]() -> std::optional<RecoveryRun> {
    // By id, the order of recording, as for pulses: a clock that was wrong for a while cannot
    // hide the latest run.
    SQLite::Statement q(
        db, fmt::format("SELECT {} FROM recovery_runs ORDER BY id DESC LIMIT 1", k_run_columns));
    if (!q.executeStep()) {
      return std::nullopt;
    }
    return read_run(q);
  });
}

std::map<std::string, RecoveryState> Recovery::states()
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading recovery states", [&] {
    std::map<std::string, RecoveryState> out;
    SQLite::Statement q(db, R"sql(
      SELECT target_id, failed_attempts, last_attempt_at, next_attempt_at, suspended_at, reset_at,
             escalation_id
      FROM recovery_state)sql");
    while (q.executeStep()) {
      RecoveryState s;
      s.target_id = q.getColumn(0).getString();
      s.failed_attempts = q.getColumn(1).getInt();
      s.last_attempt_at = optional_time(q.getColumn(2));
      s.next_attempt_at = optional_time(q.getColumn(3));
      s.suspended_at = optional_time(q.getColumn(4));
      s.reset_at = optional_time(q.getColumn(5));
      s.escalation_id = q.getColumn(6).getInt64();
      out.emplace(s.target_id, s);
    }
    return out;
  });
}

void Recovery::record(RecoveryWrite& write)
{
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("recording a recovery", [&] {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (write.attempt) {
      write_attempt(db, *write.attempt);
    }
    if (write.open) {
      insert_escalation(db, *write.open);
      if (write.state) {
        write.state->escalation_id = write.open->id;
      }
    }
    if (write.resolve_escalation != 0) {
      SQLite::Statement resolve(db, "UPDATE escalations SET resolved_at = ?2 WHERE id = ?1");
      resolve.bind(1, static_cast<int64_t>(write.resolve_escalation));
      bind_time(resolve, 2, write.resolved_at);
      resolve.exec();
    }
    if (write.clear_state) {
      SQLite::Statement clear(db, "DELETE FROM recovery_state WHERE target_id = ?1");
      clear.bind(1, target_to_clear(db, write));
      clear.exec();
    } else if (write.state) {
      upsert_state(db, *write.state);
    }
    if (!write.events.empty()) {
      EventWriter events(db);
      for (Event& event : write.events) {
        events.write(txn, event);
      }
    }
    txn.commit();
  });
}

std::vector<RecoveryAttempt> Recovery::recent_attempts(const std::string& target_id, int limit)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading recovery attempts", [&] {
    std::vector<RecoveryAttempt> out;
    // Two statements, as for events, so that a target's read uses its index.
    SQLite::Statement q(
        db, target_id.empty()
                ? fmt::format("SELECT {} FROM recovery_attempts "
                              "ORDER BY started_at DESC, id DESC LIMIT ?2",
                              k_attempt_columns)
                : fmt::format("SELECT {} FROM recovery_attempts WHERE target_id = ?1 "
                              "ORDER BY started_at DESC, id DESC LIMIT ?2",
                              k_attempt_columns));
    if (!target_id.empty()) {
      q.bind(1, target_id);
    }
    q.bind(2, limit);
    while (q.executeStep()) {
      out.push_back(read_attempt(q));
    }
    return out;
  });
}

int Recovery::count_attempts(const std::string& target_id, TimePoint since)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("counting recovery attempts", [&] {
    SQLite::Statement q(db, R"sql(
      SELECT count(*) FROM recovery_attempts WHERE target_id = ?1 AND started_at >= ?2)sql");
    q.bind(1, target_id);
    bind_time(q, 2, since);
    q.executeStep();
    return q.getColumn(0).getInt();
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
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("counting recovery attempts", [&] {
    std::map<std::string, RecoveryCounts> out;
    // By start (recovery_attempts_by_time): an attempt lasts minutes at most.
    SQLite::Statement q(db, R"sql(
      SELECT target_id, result, count(*) FROM recovery_attempts
      WHERE started_at >= ?1 AND result <> 'running'
      GROUP BY target_id, result)sql");
    bind_time(q, 1, since);
    while (q.executeStep()) {
      const auto result = parse_attempt_result(q.getColumn(1).getString());
      const int n = q.getColumn(2).getInt();
      RecoveryCounts& counts = out[q.getColumn(0).getString()];
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
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading escalations", [&] {
    std::vector<Escalation> out;
    SQLite::Statement q(db, fmt::format("SELECT {} FROM escalations WHERE resolved_at IS NULL "
                                        "ORDER BY opened_at, id",
                                        k_escalation_columns));
    while (q.executeStep()) {
      out.push_back(read_escalation(q));
    }
    return out;
  });
}

std::vector<Escalation> Recovery::recent_escalations(const std::string& target_id, int limit)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading escalations", [&] {
    std::vector<Escalation> out;
    // A shared cause names its targets only in `targets`.
    SQLite::Statement q(
        db, target_id.empty()
                ? fmt::format("SELECT {} FROM escalations ORDER BY opened_at DESC, id DESC "
                              "LIMIT ?2",
                              k_escalation_columns)
                : fmt::format("SELECT {} FROM escalations WHERE target_id = ?1 OR EXISTS "
                              "(SELECT 1 FROM json_each(escalations.targets) WHERE value = ?1) "
                              "ORDER BY opened_at DESC, id DESC LIMIT ?2",
                              k_escalation_columns));
    if (!target_id.empty()) {
      q.bind(1, target_id);
    }
    q.bind(2, limit);
    while (q.executeStep()) {
      out.push_back(read_escalation(q));
    }
    return out;
  });
}

void Recovery::set_command_result(std::int64_t id, const std::string& result)
{
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("recording the escalation command's result", [&] {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(db, "UPDATE escalations SET command_result = ?2 WHERE id = ?1");
    q.bind(1, static_cast<int64_t>(id));
    q.bind(2, result);
    q.exec();
    SQLite::Statement release(db, "DELETE FROM leases WHERE name = ?1");
    release.bind(1, escalation_claim(std::to_string(id)));
    release.exec();
    txn.commit();
  });
}

} // namespace hb::store::sqlite
