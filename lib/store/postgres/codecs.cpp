// SPDX-License-Identifier: MIT
#include "store/postgres/codecs.hpp"

#include <vector>

namespace hb::store::postgres {

std::string target_columns(const std::string& table)
{
  return prefixed_columns({"id", "name", "kind", "tags", "paused", "interval_ms", "first_seen",
                           "retired_at", "stale_after_ms", "heartbeat", "origin", "active_hours",
                           "timezone"},
                          table);
}

TargetRecord read_target(const Result& r, int row, int first)
{
  return decode_target(ResultRow(r, row), first);
}

std::string job_run_columns(const std::string& table)
{
  return prefixed_columns({"id", "target_id", "started_at", "completed_at", "status", "exit_code",
                           "message", "output_tail", "command", "host", "pid"},
                          table);
}

JobRun read_job_run(const Result& r, int row, int first)
{
  return decode_job_run(ResultRow(r, row), first);
}

std::optional<std::string> read_meta(Connection& db, const std::string& key)
{
  const Result r = db.exec("SELECT value FROM meta WHERE key = $1", Params(key));
  if (r.rows() == 0) {
    return std::nullopt;
  }
  return r.text(0, 0);
}

void write_meta(Connection& db, const std::string& key, const std::string& value)
{
  db.exec("INSERT INTO meta (key, value) VALUES ($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          Params(key, value));
}

void retire_missing(Connection& db, const std::string& table, const std::string& key,
                    const std::string& live_filter, const std::set<std::string>& keep,
                    TimePoint now)
{
  // One statement: every live row whose key the config no longer names.
  db.exec("UPDATE " + table + " SET retired_at = $2 WHERE retired_at IS NULL"
            + (live_filter.empty() ? "" : " AND " + live_filter) + " AND NOT (" + key
            + " = ANY($1::text[]))",
          Params(std::vector<std::string>(keep.begin(), keep.end()), now));
}

} // namespace hb::store::postgres
