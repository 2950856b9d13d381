// SPDX-License-Identifier: MIT
#pragma once

// Row codecs: how heartbeat's values map to PostgreSQL columns and back, for every per-aggregate
// file. Times are bigint milliseconds since the Unix epoch; enums their lowercase names (the same
// as SQLite's, lib/store/sqlite/codecs.hpp).

#include "core/model/beat.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"
#include "store/postgres/connection.hpp"
#include "store/row_decoding.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace hb::store::postgres {

// Row `row` of `result`, for the decoders both backends share (store/row_decoding.hpp).
class ResultRow final : public StoredRow {
public:
  ResultRow(const Result& result, int row) : m_result(result), m_row(row) {}

  bool is_null(int column) const override { return m_result.is_null(m_row, column); }
  std::string text(int column) const override { return m_result.text(m_row, column); }
  std::int64_t int64(int column) const override { return m_result.int64(m_row, column); }
  int integer(int column) const override { return m_result.integer(m_row, column); }
  bool boolean(int column) const override { return m_result.boolean(m_row, column); }
  TimePoint time(int column) const override { return m_result.time(m_row, column); }
  std::optional<TimePoint> optional_time(int column) const override
  {
    return m_result.optional_time(m_row, column);
  }
  std::optional<int> optional_int(int column) const override
  {
    return m_result.optional_int(m_row, column);
  }

private:
  const Result& m_result;
  int m_row;
};

// Returns the columns of `targets` read_target() reads, each prefixed with `table` ("t." in
// joins); there are k_target_column_count of them.
std::string target_columns(const std::string& table);
inline constexpr int k_target_column_count = 13;
// Returns the target (without its checks) in the target_columns() of `row` starting at `first`.
TargetRecord read_target(const Result& r, int row, int first);

// The same for job_runs.
std::string job_run_columns(const std::string& table);
inline constexpr int k_job_run_column_count = 11;
JobRun read_job_run(const Result& r, int row, int first);

// The value stored under `key` in the meta table, if any. Throw PgError.
std::optional<std::string> read_meta(Connection& db, const std::string& key);
void write_meta(Connection& db, const std::string& key, const std::string& value);

// Marks retired at `now` every live row of `table` (its key column `key`, live when retired_at
// IS NULL and `live_filter` holds) whose key is not in `keep`: what a config sync does to the
// targets and schedules the config no longer names. Inside the caller's transaction.
void retire_missing(Connection& db, const std::string& table, const std::string& key,
                    const std::string& live_filter, const std::set<std::string>& keep,
                    TimePoint now);

} // namespace hb::store::postgres
