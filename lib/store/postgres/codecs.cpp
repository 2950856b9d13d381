// SPDX-License-Identifier: MIT
#include "store/postgres/codecs.hpp"

#include "store/encoding.hpp"

#include <vector>

namespace hb::store::postgres {
namespace {

std::string prefixed(std::initializer_list<const char*> columns, const std::string& table)
{
  std::string out;
  for (const char* column : columns) {
    out += (out.empty() ? "" : ", ") + table + column;
  }
  return out;
}

} // namespace

std::string target_columns(const std::string& table)
{
  return prefixed({"id", "name", "kind", "tags", "paused", "interval_ms", "first_seen",
                   "retired_at", "stale_after_ms", "heartbeat", "origin", "active_hours", "timezone"},
                  table);
}

TargetRecord read_target(const Result& r, int row, int first)
{
  TargetRecord t;
  t.info.id = r.text(row, first);
  t.info.name = r.text(row, first + 1);
  t.info.kind = parse_or(parse_target_kind(r.text(row, first + 2)), TargetKind::service);
  t.info.tags = decode_tags(r.text(row, first + 3));
  t.info.paused = r.boolean(row, first + 4);
  t.info.interval = Duration(r.int64(row, first + 5));
  t.first_seen = r.time(row, first + 6);
  t.retired_at = r.optional_time(row, first + 7);
  t.info.stale_after = Duration(r.int64(row, first + 8));
  if (!r.is_null(row, first + 9)) {
    t.info.heartbeat = decode_heartbeat(r.text(row, first + 9));
  }
  t.origin = r.view(row, first + 10) == "beat" ? Origin::beat : Origin::config;
  t.info.active_hours = r.text(row, first + 11);
  t.info.timezone = r.text(row, first + 12);
  return t;
}

std::string job_run_columns(const std::string& table)
{
  return prefixed({"id", "target_id", "started_at", "completed_at", "status", "exit_code",
                   "message", "output_tail", "command", "host", "pid"},
                  table);
}

JobRun read_job_run(const Result& r, int row, int first)
{
  JobRun j;
  j.id = r.int64(row, first);
  j.target_id = r.text(row, first + 1);
  j.started_at = r.time(row, first + 2);
  j.completed_at = r.optional_time(row, first + 3);
  j.status = parse_or(parse_job_run_status(r.text(row, first + 4)), JobRunStatus::failed);
  j.exit_code = r.optional_int(row, first + 5);
  j.message = r.text(row, first + 6);
  j.output_tail = r.text(row, first + 7);
  j.command = r.text(row, first + 8);
  j.host = r.text(row, first + 9);
  j.pid = r.integer(row, first + 10);
  return j;
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
