// SPDX-License-Identifier: MIT
#include "store/sqlite/codecs.hpp"

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

bool StatementRow::is_null(int column) const
{
  return m_statement.getColumn(column).isNull();
}

std::string StatementRow::text(int column) const
{
  return m_statement.getColumn(column).getString();
}

std::int64_t StatementRow::int64(int column) const
{
  return m_statement.getColumn(column).getInt64();
}

int StatementRow::integer(int column) const
{
  return m_statement.getColumn(column).getInt();
}

bool StatementRow::boolean(int column) const
{
  return m_statement.getColumn(column).getInt() != 0;
}

TimePoint StatementRow::time(int column) const
{
  return from_unix_ms(m_statement.getColumn(column).getInt64());
}

std::optional<TimePoint> StatementRow::optional_time(int column) const
{
  return sqlite::optional_time(m_statement.getColumn(column));
}

std::optional<int> StatementRow::optional_int(int column) const
{
  return sqlite::optional_int(m_statement.getColumn(column));
}

std::string target_columns(const std::string& table)
{
  return prefixed_columns({"id", "name", "kind", "tags", "paused", "interval_ms", "first_seen",
                           "retired_at", "stale_after_ms", "heartbeat", "origin", "active_hours",
                           "timezone"},
                          table);
}

TargetRecord read_target(SQLite::Statement& q, int first)
{
  return decode_target(StatementRow(q), first);
}

std::string job_run_columns(const std::string& table)
{
  return prefixed_columns({"id", "target_id", "started_at", "completed_at", "status", "exit_code",
                           "message", "output_tail", "command", "host", "pid"},
                          table);
}

JobRun read_job_run(SQLite::Statement& q, int first)
{
  return decode_job_run(StatementRow(q), first);
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
