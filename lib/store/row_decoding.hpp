// SPDX-License-Identifier: MIT
#pragma once

// How a row already read from the database becomes heartbeat's records, shared by every backend:
// both store the same columns with the same meaning, so turning them into a target or a job run
// (which column holds what, the fallback for an enum name this binary does not know) is decided
// here once. Each backend hands its row over through StoredRow; its SQL stays its own.

#include "core/model/beat.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace hb::store {

// Returns the value of `parsed`, or `fallback` for a name this binary does not know.
template <typename E>
E parse_or(std::optional<E> parsed, E fallback)
{
  return parsed ? *parsed : fallback;
}

// One row of a query's result, as a backend reads it, by column index (times are stored as Unix
// milliseconds). Each backend adapts its own row type to it.
class StoredRow {
public:
  virtual ~StoredRow() = default;

  virtual bool is_null(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t int64(int column) const = 0;
  virtual int integer(int column) const = 0;
  virtual bool boolean(int column) const = 0;
  virtual TimePoint time(int column) const = 0;
  virtual std::optional<TimePoint> optional_time(int column) const = 0;
  virtual std::optional<int> optional_int(int column) const = 0;
};

// Returns `columns` joined by ", ", each prefixed with `table` ("t." in joins, "" for none).
std::string prefixed_columns(std::initializer_list<const char*> columns, const std::string& table);

// Returns the target (without its checks) in the columns of `row` starting at `first`, in the
// order of the backends' target_columns(): id, name, kind, tags, paused, interval_ms, first_seen,
// retired_at, stale_after_ms, heartbeat, origin, active_hours, timezone.
TargetRecord decode_target(const StoredRow& row, int first);

// The same for a job run: id, target_id, started_at, completed_at, status, exit_code, message,
// output_tail, command, host, pid.
JobRun decode_job_run(const StoredRow& row, int first);

} // namespace hb::store
