// SPDX-License-Identifier: MIT
#pragma once

// Row codecs: how heartbeat's values map to PostgreSQL columns and back, for every per-aggregate
// file. Times are bigint milliseconds since the Unix epoch; enums their lowercase names (the same
// as SQLite's, lib/store/sqlite/codecs.hpp).

#include "core/model/beat.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"
#include "store/postgres/connection.hpp"

#include <optional>
#include <set>
#include <string>

namespace hb::store::postgres {

// Returns the value of `parsed`, or `fallback` for a name this binary does not know.
template <typename E>
E parse_or(std::optional<E> parsed, E fallback)
{
  return parsed ? *parsed : fallback;
}

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
