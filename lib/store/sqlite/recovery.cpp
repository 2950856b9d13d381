// SPDX-License-Identifier: MIT
#include "store/sqlite/recovery.hpp"

#include "core/errors.hpp"
#include "store/encoding.hpp"
#include "store/recovery_records.hpp"
#include "store/sqlite/claims.hpp"
#include "store/sqlite/codecs.hpp"
#include "store/sqlite/events.hpp"

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

// Inserts `escalation` (assigning its id) and returns true, unless one is open already for its
// target or shared cause (escalations_one_open): then returns false with that one's id.
bool insert_escalation(SQLite::Database& db, Escalation& escalation)
{
  SQLite::Statement q(db, R"sql(
    INSERT INTO escalations (target_id, cause, targets, opened_at, resolved_at, failed_attempts,
                             summary, command_result)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT DO NOTHING)sql");
  q.bind(1, escalation.target_id);
  q.bind(2, escalation.cause);
  q.bind(3, encode_tags(escalation.targets));
  bind_time(q, 4, escalation.opened_at);
  bind_optional_time(q, 5, escalation.resolved_at);
  q.bind(6, escalation.failed_attempts);
  q.bind(7, escalation.summary);
  q.bind(8, escalation.command_result);
  if (q.exec() == 1) {
    escalation.id = db.getLastInsertRowid();
    return true;
  }
  SQLite::Statement open(db, R"sql(
    SELECT id FROM escalations WHERE target_id = ?1 AND cause = ?2 AND resolved_at IS NULL)sql");
  open.bind(1, escalation.target_id);
  open.bind(2, escalation.cause);
  if (!open.executeStep()) {
    throw StoreError("an escalation conflicted with an open one that cannot be found");
  }
  escalation.id = open.getColumn(0).getInt64();
  return false;
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
    interrupt.bind(3, k_interrupted_attempt_message);
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
    return decode_recovery_run(StatementRow(q));
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
      RecoveryState s = decode_recovery_state(StatementRow(q));
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
    apply_recovery_write(
        write,
        {.write_attempt = [&](RecoveryAttempt& attempt) { write_attempt(db, attempt); },
         .open_escalation = [&](Escalation& escalation) { return insert_escalation(db, escalation); },
         .link_escalation_event =
             [&](std::int64_t id, std::int64_t event_id) {
               SQLite::Statement link(db, "UPDATE escalations SET event_id = ?2 WHERE id = ?1");
               link.bind(1, static_cast<int64_t>(id));
               link.bind(2, static_cast<int64_t>(event_id));
               link.exec();
             },
         .resolve_escalation =
             [&](std::int64_t id, TimePoint resolved_at) {
               SQLite::Statement resolve(db,
                                         "UPDATE escalations SET resolved_at = ?2 WHERE id = ?1");
               resolve.bind(1, static_cast<int64_t>(id));
               bind_time(resolve, 2, resolved_at);
               resolve.exec();
             },
         .escalation_target = [&](std::int64_t id) -> std::optional<std::string> {
           SQLite::Statement q(db, "SELECT target_id FROM escalations WHERE id = ?1");
           q.bind(1, static_cast<int64_t>(id));
           if (!q.executeStep()) {
             return std::nullopt;
           }
           return q.getColumn(0).getString();
         },
         .clear_state =
             [&](const std::string& target_id) {
               SQLite::Statement clear(db, "DELETE FROM recovery_state WHERE target_id = ?1");
               clear.bind(1, target_id);
               clear.exec();
             },
         .save_state = [&](const RecoveryState& state) { upsert_state(db, state); },
         .write_events =
             [&](std::vector<Event>& events) {
               EventWriter writer(db);
               for (Event& event : events) {
                 writer.write(txn, event);
               }
             }});
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
      out.push_back(decode_recovery_attempt(StatementRow(q)));
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
  return total_counts(counts_by_target(since));
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
      tally_attempts(out[q.getColumn(0).getString()], q.getColumn(1).getString(),
                     q.getColumn(2).getInt());
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
      out.push_back(decode_escalation(StatementRow(q)));
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
      out.push_back(decode_escalation(StatementRow(q)));
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
