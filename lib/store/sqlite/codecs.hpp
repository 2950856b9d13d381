// SPDX-License-Identifier: MIT
#pragma once

// Row codecs: how heartbeat's values map to SQLite columns and back, for every per-aggregate
// file. Times are integer milliseconds since the Unix epoch; enums their lowercase names.

#include "core/model/beat.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"
#include "store/row_decoding.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace hb::store::sqlite {

// Binds `t` as Unix milliseconds.
void bind_time(SQLite::Statement& statement, int index, TimePoint t);
// Binds `t` as Unix milliseconds, or NULL.
void bind_optional_time(SQLite::Statement& statement, int index, const std::optional<TimePoint>& t);
void bind_optional_int(SQLite::Statement& statement, int index, const std::optional<int>& value);
void bind_optional_int64(SQLite::Statement& statement, int index,
                         const std::optional<std::int64_t>& value);
// Binds `text`, or NULL when it is std::nullopt.
void bind_optional_text(SQLite::Statement& statement, int index,
                        const std::optional<std::string>& text);

// Returns the time in `column`, std::nullopt for NULL.
std::optional<TimePoint> optional_time(const SQLite::Column& column);
std::optional<int> optional_int(const SQLite::Column& column);
std::optional<std::int64_t> optional_int64(const SQLite::Column& column);

// The row `statement` stands on, for the decoders both backends share (store/row_decoding.hpp).
class StatementRow final : public StoredRow {
public:
  explicit StatementRow(SQLite::Statement& statement) : m_statement(statement) {}

  bool is_null(int column) const override;
  std::string text(int column) const override;
  std::int64_t int64(int column) const override;
  int integer(int column) const override;
  bool boolean(int column) const override;
  TimePoint time(int column) const override;
  std::optional<TimePoint> optional_time(int column) const override;
  std::optional<int> optional_int(int column) const override;

private:
  SQLite::Statement& m_statement;
};

// Returns the columns of `targets` read_target() reads, each prefixed with `table` ("t." in
// joins); there are k_target_column_count of them.
std::string target_columns(const std::string& table);
inline constexpr int k_target_column_count = 13;
// Returns the target (without its checks) in the target_columns() starting at `first`.
TargetRecord read_target(SQLite::Statement& q, int first);

// The same for job_runs.
std::string job_run_columns(const std::string& table);
inline constexpr int k_job_run_column_count = 11;
JobRun read_job_run(SQLite::Statement& q, int first);

// The value stored under `key` in the meta table, if any.
std::optional<std::string> read_meta(SQLite::Database& db, const std::string& key);
void write_meta(SQLite::Database& db, const std::string& key, const std::string& value);

// Marks retired at `now` every live row of `table` (its key column `key`, live when retired_at
// IS NULL and `live_filter` holds) whose key is not in `keep`: what a config sync does to the
// targets and schedules the config no longer names. Inside the caller's transaction.
void retire_missing(SQLite::Database& db, const std::string& table, const std::string& key,
                    const std::string& live_filter, const std::set<std::string>& keep,
                    TimePoint now);

} // namespace hb::store::sqlite
