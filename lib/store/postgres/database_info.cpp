// SPDX-License-Identifier: MIT
#include "store/postgres/database_info.hpp"

#include "store/postgres/codecs.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <string>
#include <vector>

namespace hb::store::postgres {
namespace {

// The schema version recorded in meta (as migrate() writes it), 0 when there is none.
int schema_version_in(Connection& db)
{
  const auto stored = read_meta(db, "schema_version");
  int version = 0;
  if (stored) {
    std::from_chars(stored->data(), stored->data() + stored->size(), version);
  }
  return version;
}

// Rows of `table` kept, by id range (never a scan), and of them those whose `time_column` is at
// or after `since`.
struct RowCount {
  long long kept = 0;
  long long recent = 0;
};

RowCount count_rows(Connection& db, const char* table, const char* time_column, TimePoint since)
{
  RowCount count;
  // PostgreSQL answers both min() and max() from the primary key's ends.
  const Result range = db.exec(fmt::format("SELECT max(id) - min(id) + 1 FROM {}", table));
  if (!range.is_null(0, 0)) {
    count.kept = range.int64(0, 0);
  }
  count.recent = db.exec(fmt::format("SELECT count(*) FROM {} WHERE {} >= $1", table, time_column),
                         Params(since))
                     .int64(0, 0);
  return count;
}

// Reads every row of every table of heartbeat's (all the tables of the connection's schema:
// migrate() refuses a schema holding others') and returns "ok", or the first failure. Each row
// is turned into its text form, so that every column is read, TOAST included: a plain count(*)
// may be answered from an index without visiting the table. With data checksums on, the server
// verifies each page as it reads it. Indexes are not checked (that needs the amcheck extension).
std::string read_every_row(Connection& db)
{
  std::vector<std::string> tables;
  {
    const Result r = db.exec("SELECT quote_ident(tablename) FROM pg_catalog.pg_tables "
                             "WHERE schemaname = current_schema() ORDER BY tablename");
    for (int i = 0; i < r.rows(); ++i) {
      tables.push_back(r.text(i, 0));
    }
  }
  for (const auto& table : tables) {
    try {
      db.exec(fmt::format("SELECT count(*) FROM {0} AS t WHERE t::text IS NOT NULL", table));
    } catch (const PgError& e) {
      // A lost connection says nothing about the data: it is reported as such, not as damage.
      if (e.connection_lost()) {
        throw;
      }
      return fmt::format("{}: {}", table, e.what());
    }
  }
  return "ok";
}

} // namespace

DatabaseInfo read_database_info(Connection& connection, TimePoint now, CheckIntegrity check)
{
  return connection.guarded("reading the database's figures", [&] {
    Connection& db = connection;
    DatabaseInfo info;
    info.backend = "postgresql";
    info.schema_version = schema_version_in(db);
    // heartbeat's tables with their indexes and TOAST, in this schema: the database may hold
    // other things (other schemas, other applications) that are not ours to count.
    info.size_bytes = db.exec(R"sql(
      SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind = 'r')sql")
                        .int64(0, 0);
    // Space freed by VACUUM stays inside each table, in its free-space map, for new rows; SQL
    // cannot read that map without the pg_freespacemap extension, so none is claimed.
    info.free_bytes = 0;
    const Result oldest = db.exec("SELECT min(started_at) FROM executions");
    if (!oldest.is_null(0, 0)) {
      info.oldest_execution = oldest.time(0, 0);
    }
    const TimePoint day_ago = now - std::chrono::hours(24);
    for (const auto& [table, column] :
         {std::pair{"executions", "started_at"}, std::pair{"beats", "at"},
          std::pair{"job_runs", "started_at"}}) {
      const RowCount count = count_rows(db, table, column, day_ago);
      info.rows += count.kept;
      info.rows_last_day += count.recent;
    }
    if (check == CheckIntegrity::yes) {
      const auto started = std::chrono::steady_clock::now();
      info.integrity = read_every_row(db);
      info.integrity_took =
          std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
    }
    return info;
  });
}

} // namespace hb::store::postgres
