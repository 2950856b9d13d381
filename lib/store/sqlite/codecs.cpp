// SPDX-License-Identifier: MIT
#include "store/sqlite/codecs.hpp"

#include "store/encoding.hpp"

#include "util/time.hpp"

#include <vector>

namespace hb::store::sqlite {

using util::from_unix_ms;
using util::to_unix_ms;

void bind_time(SQLite::Statement& statement, int index, TimePoint t)
{
  statement.bind(index, static_cast<int64_t>(to_unix_ms(t)));
}

void bind_optional_time(SQLite::Statement& statement, int index, const std::optional<TimePoint>& t)
{
  if (t) {
    bind_time(statement, index, *t);
  } else {
    statement.bind(index);
  }
}

void bind_optional_int(SQLite::Statement& statement, int index, const std::optional<int>& value)
{
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

void bind_optional_int64(SQLite::Statement& statement, int index,
                         const std::optional<std::int64_t>& value)
{
  if (value) {
    statement.bind(index, static_cast<int64_t>(*value));
  } else {
    statement.bind(index);
  }
}

void bind_optional_text(SQLite::Statement& statement, int index,
                        const std::optional<std::string>& text)
{
  if (text) {
    statement.bind(index, *text);
  } else {
    statement.bind(index);
  }
}

std::optional<TimePoint> optional_time(const SQLite::Column& column)
{
  if (column.isNull()) {
    return std::nullopt;
  }
  return from_unix_ms(column.getInt64());
}

std::optional<int> optional_int(const SQLite::Column& column)
{
  if (column.isNull()) {
    return std::nullopt;
  }
  return column.getInt();
}

std::optional<std::int64_t> optional_int64(const SQLite::Column& column)
{
  if (column.isNull()) {
    return std::nullopt;
  }
  return column.getInt64();
}

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

TargetRecord read_target(SQLite::Statement& q, int first)
{
  TargetRecord r;
  r.info.id = q.getColumn(first).getString();
  r.info.name = q.getColumn(first + 1).getString();
  r.info.kind = parse_or(parse_target_kind(q.getColumn(first + 2).getString()), TargetKind::service);
  r.info.tags = decode_tags(q.getColumn(first + 3).getString());
  r.info.paused = q.getColumn(first + 4).getInt() != 0;
  r.info.interval = Duration(q.getColumn(first + 5).getInt64());
  r.first_seen = from_unix_ms(q.getColumn(first + 6).getInt64());
  r.retired_at = optional_time(q.getColumn(first + 7));
  r.info.stale_after = Duration(q.getColumn(first + 8).getInt64());
  if (!q.getColumn(first + 9).isNull()) {
    r.info.heartbeat = decode_heartbeat(q.getColumn(first + 9).getString());
  }
  r.origin = q.getColumn(first + 10).getString() == "beat" ? Origin::beat : Origin::config;
  r.info.active_hours = q.getColumn(first + 11).getString();
  r.info.timezone = q.getColumn(first + 12).getString();
  return r;
}

std::string job_run_columns(const std::string& table)
{
  return prefixed({"id", "target_id", "started_at", "completed_at", "status", "exit_code",
                   "message", "output_tail", "command", "host", "pid"},
                  table);
}

JobRun read_job_run(SQLite::Statement& q, int first)
{
  JobRun r;
  r.id = q.getColumn(first).getInt64();
  r.target_id = q.getColumn(first + 1).getString();
  r.started_at = from_unix_ms(q.getColumn(first + 2).getInt64());
  r.completed_at = optional_time(q.getColumn(first + 3));
  r.status =
    parse_or(parse_job_run_status(q.getColumn(first + 4).getString()), JobRunStatus::failed);
  r.exit_code = optional_int(q.getColumn(first + 5));
  r.message = q.getColumn(first + 6).getString();
  r.output_tail = q.getColumn(first + 7).getString();
  r.command = q.getColumn(first + 8).getString();
  r.host = q.getColumn(first + 9).getString();
  r.pid = q.getColumn(first + 10).getInt();
  return r;
}

std::optional<std::string> read_meta(SQLite::Database& db, const std::string& key)
{
  SQLite::Statement read(db, "SELECT value FROM meta WHERE key = ?1");
  read.bind(1, key);
  if (!read.executeStep()) {
    return std::nullopt;
  }
  return read.getColumn(0).getString();
}

void write_meta(SQLite::Database& db, const std::string& key, const std::string& value)
{
  SQLite::Statement save(db, R"sql(
    INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2)sql");
  save.bind(1, key);
  save.bind(2, value);
  save.exec();
}

void retire_missing(SQLite::Database& db, const std::string& table, const std::string& key,
                    const std::string& live_filter, const std::set<std::string>& keep,
                    TimePoint now)
{
  std::vector<std::string> retired;
  {
    SQLite::Statement live(db, "SELECT " + key + " FROM " + table + " WHERE retired_at IS NULL"
                                 + (live_filter.empty() ? "" : " AND " + live_filter));
    while (live.executeStep()) {
      std::string name = live.getColumn(0).getString();
      if (!keep.count(name)) {
        retired.push_back(std::move(name));
      }
    }
  }
  SQLite::Statement retire(db, "UPDATE " + table + " SET retired_at = ?2 WHERE " + key + " = ?1");
  for (const auto& name : retired) {
    retire.bind(1, name);
    bind_time(retire, 2, now);
    retire.exec();
    retire.reset();
  }
}

} // namespace hb::store::sqlite
