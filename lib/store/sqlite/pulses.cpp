// SPDX-License-Identifier: MIT
#include "store/sqlite/pulses.hpp"

#include "store/sqlite/claims.hpp"
#include "store/sqlite/codecs.hpp"

#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::store::sqlite {
namespace {

constexpr const char* k_pulse_columns = R"sql(
  id, owner, started_at, completed_at, status, interval_ms, deadline_ms, targets_total,
  targets_due, targets_run, targets_held, checks_run, errors, message, next_expected,
  tasks_run, tasks_failed, scheduled)sql";

PulseRecord read_pulse(SQLite::Statement& q)
{
  PulseRecord p;
  p.id = q.getColumn(0).getInt64();
  p.owner = q.getColumn(1).getString();
  p.started_at = util::from_unix_ms(q.getColumn(2).getInt64());
  p.completed_at = optional_time(q.getColumn(3));
  p.status = parse_or(parse_pulse_status(q.getColumn(4).getString()), PulseStatus::error);
  p.interval = Duration(q.getColumn(5).getInt64());
  p.deadline = Duration(q.getColumn(6).getInt64());
  p.targets_total = q.getColumn(7).getInt();
  p.targets_due = q.getColumn(8).getInt();
  p.targets_run = q.getColumn(9).getInt();
  p.targets_held = q.getColumn(10).getInt();
  p.checks_run = q.getColumn(11).getInt();
  p.errors = q.getColumn(12).getInt();
  p.message = q.getColumn(13).getString();
  p.next_expected = util::from_unix_ms(q.getColumn(14).getInt64());
  p.tasks_run = q.getColumn(15).getInt();
  p.tasks_failed = q.getColumn(16).getInt();
  p.scheduled = q.getColumn(17).getInt() != 0;
  return p;
}

} // namespace

std::int64_t Pulses::begin(const PulseRecord& pulse)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("recording the pulse start", [&] {
    SQLite::Statement q(db, R"sql(
      INSERT INTO pulses (owner, started_at, status, interval_ms, deadline_ms, next_expected,
                          scheduled)
      VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6))sql");
    q.bind(1, pulse.owner);
    bind_time(q, 2, pulse.started_at);
    q.bind(3, static_cast<int64_t>(pulse.interval.count()));
    q.bind(4, static_cast<int64_t>(pulse.deadline.count()));
    bind_time(q, 5, pulse.next_expected);
    q.bind(6, pulse.scheduled ? 1 : 0);
    q.exec();
    return static_cast<std::int64_t>(db.getLastInsertRowid());
  });
}

void Pulses::finish(const PulseRecord& pulse)
{
  SQLite::Database& db = m_connection.db();
  m_connection.guarded("recording the pulse", [&] {
    // One commit (one fsync) for both: the pulse's end and the release of whatever it still
    // holds claimed.
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    Claims::release_owner(db, pulse.owner);
    SQLite::Statement q(db, R"sql(
      UPDATE pulses SET completed_at = ?2, status = ?3, targets_total = ?4, targets_due = ?5,
        targets_run = ?6, targets_held = ?7, checks_run = ?8, errors = ?9, message = ?10,
        next_expected = ?11, tasks_run = ?12, tasks_failed = ?13
      WHERE id = ?1)sql");
    q.bind(1, static_cast<int64_t>(pulse.id));
    bind_optional_time(q, 2, pulse.completed_at);
    q.bind(3, std::string(to_string(pulse.status)));
    q.bind(4, pulse.targets_total);
    q.bind(5, pulse.targets_due);
    q.bind(6, pulse.targets_run);
    q.bind(7, pulse.targets_held);
    q.bind(8, pulse.checks_run);
    q.bind(9, pulse.errors);
    q.bind(10, pulse.message);
    bind_time(q, 11, pulse.next_expected);
    q.bind(12, pulse.tasks_run);
    q.bind(13, pulse.tasks_failed);
    q.exec();
    txn.commit();
  });
}

std::optional<PulseRecord> Pulses::last(PulseScope scope)
{
  return read_last(scope == PulseScope::scheduled ? "WHERE scheduled = 1" : "");
}

std::optional<PulseRecord> Pulses::last_finished(PulseScope scope)
{
  return read_last(scope == PulseScope::scheduled
                     ? "WHERE completed_at IS NOT NULL AND scheduled = 1"
                     : "WHERE completed_at IS NOT NULL");
}

std::optional<PulseRecord> Pulses::read_last(const char* where_clause)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded("reading pulses", [&]() -> std::optional<PulseRecord> {
    // By id, the order of recording, not by started_at: a pulse dated in the future by a
    // wrong clock must not stay "the last pulse" once the clock is right again.
    SQLite::Statement q(db, fmt::format("SELECT {} FROM pulses {} ORDER BY id DESC LIMIT 1",
                                        k_pulse_columns, where_clause));
    if (!q.executeStep()) {
      return std::nullopt;
    }
    return read_pulse(q);
  });
}

} // namespace hb::store::sqlite
