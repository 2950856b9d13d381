// SPDX-License-Identifier: MIT
#include "store/postgres/pulses.hpp"

#include "store/postgres/claims.hpp"
#include "store/postgres/codecs.hpp"

#include <fmt/format.h>

namespace hb::store::postgres {
namespace {

constexpr const char* k_pulse_columns = R"sql(
  id, owner, started_at, completed_at, status, interval_ms, deadline_ms, targets_total,
  targets_due, targets_run, targets_held, checks_run, errors, message, next_expected,
  tasks_run, tasks_failed, scheduled)sql";

PulseRecord read_pulse(const Result& r, int row)
{
  PulseRecord p;
  p.id = r.int64(row, 0);
  p.owner = r.text(row, 1);
  p.started_at = r.time(row, 2);
  p.completed_at = r.optional_time(row, 3);
  p.status = parse_or(parse_pulse_status(r.view(row, 4)), PulseStatus::error);
  p.interval = Duration(r.int64(row, 5));
  p.deadline = Duration(r.int64(row, 6));
  p.targets_total = r.integer(row, 7);
  p.targets_due = r.integer(row, 8);
  p.targets_run = r.integer(row, 9);
  p.targets_held = r.integer(row, 10);
  p.checks_run = r.integer(row, 11);
  p.errors = r.integer(row, 12);
  p.message = r.text(row, 13);
  p.next_expected = r.time(row, 14);
  p.tasks_run = r.integer(row, 15);
  p.tasks_failed = r.integer(row, 16);
  p.scheduled = r.boolean(row, 17);
  return p;
}

} // namespace

std::int64_t Pulses::begin(const PulseRecord& pulse)
{
  Connection& db = m_connection;
  return m_connection.guarded("recording the pulse start", [&] {
    const Result r = db.exec(R"sql(
      INSERT INTO pulses (owner, started_at, status, interval_ms, deadline_ms, next_expected,
                          scheduled)
      VALUES ($1, $2, 'running', $3, $4, $5, $6)
      RETURNING id)sql",
                             Params(pulse.owner, pulse.started_at, pulse.interval,
                                    pulse.deadline, pulse.next_expected, pulse.scheduled));
    return r.int64(0, 0);
  });
}

void Pulses::finish(const PulseRecord& pulse)
{
  Connection& db = m_connection;
  m_connection.transaction("recording the pulse", [&] {
    // One commit for both: the pulse's end and the release of whatever it still holds claimed.
    Claims::release_owner(db, pulse.owner);
    db.exec(R"sql(
      UPDATE pulses SET completed_at = $2, status = $3, targets_total = $4, targets_due = $5,
        targets_run = $6, targets_held = $7, checks_run = $8, errors = $9, message = $10,
        next_expected = $11, tasks_run = $12, tasks_failed = $13
      WHERE id = $1)sql",
            Params(pulse.id, pulse.completed_at, to_string(pulse.status), pulse.targets_total,
                   pulse.targets_due, pulse.targets_run, pulse.targets_held, pulse.checks_run,
                   pulse.errors, pulse.message, pulse.next_expected, pulse.tasks_run,
                   pulse.tasks_failed));
  });
}

std::optional<PulseRecord> Pulses::last(PulseScope scope)
{
  return read_last(scope == PulseScope::scheduled ? "WHERE scheduled" : "");
}

std::optional<PulseRecord> Pulses::last_finished(PulseScope scope)
{
  return read_last(scope == PulseScope::scheduled ? "WHERE completed_at IS NOT NULL AND scheduled"
                                                  : "WHERE completed_at IS NOT NULL");
}

std::optional<PulseRecord> Pulses::read_last(const char* where_clause)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading pulses", [&]() -> std::optional<PulseRecord> {
    // By id, the order of recording, not by started_at: a pulse dated in the future by a
    // wrong clock must not stay "the last pulse" once the clock is right again.
    const Result r = db.exec(fmt::format("SELECT {} FROM pulses {} ORDER BY id DESC LIMIT 1",
                                         k_pulse_columns, where_clause));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    return read_pulse(r, 0);
  });
}

} // namespace hb::store::postgres
