// SPDX-License-Identifier: MIT
#include "store/copy.hpp"

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include "core/errors.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <chrono>

namespace hb::store {
namespace {

// The tables, parents before children (check_results refers to executions). `leases` is left
// out on purpose; everything else is copied.
constexpr const char* k_tables[] = {
  "meta",          "targets",        "checks",          "executions",  "check_results",
  "target_states", "check_states",   "events",          "pulses",      "schedules",
  "schedule_states", "task_runs",    "beat_states",     "beats",       "job_runs",
  "outbox",        "recovery_runs",  "recovery_attempts", "recovery_state", "escalations",
  "rollups",       "prunes",
};

bool is_postgres(const std::string& location)
{
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

// The SQLite file of `location`, or "" when it is not a SQLite location.
std::string sqlite_path(const std::string& location)
{
  if (location.rfind("sqlite://", 0) == 0) {
    return location.substr(9);
  }
  return location.find("://") == std::string::npos ? location : std::string();
}

// Appends `value` in COPY's text format: backslash, tab, newline and carriage return escaped.
void append_escaped(std::string& out, const char* value, std::size_t size)
{
  for (std::size_t i = 0; i < size; ++i) {
    switch (value[i]) {
    case '\\': out += "\\\\"; break;
    case '\t': out += "\\t"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    default: out += value[i];
    }
  }
}

std::vector<std::string> postgres_columns(postgres::Connection& pg, const std::string& table)
{
  const postgres::Result r = pg.exec(
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    postgres::Params(table));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(r.text(i, 0));
  }
  return out;
}

} // namespace

long long CopyReport::total() const
{
  long long sum = 0;
  for (const auto& t : tables) {
    sum += t.rows;
  }
  return sum;
}

CopyReport copy_database(const std::string& from, const std::string& to,
                         const std::function<void(const CopyReport::Table&)>& progress)
{
  const auto started = std::chrono::steady_clock::now();
  const std::string source = sqlite_path(from);
  if (source.empty() || !is_postgres(to)) {
    throw UsageError(fmt::format(
      "copies from a SQLite database to a PostgreSQL one (--from /path/heartbeat.db or "
      "sqlite:///path, --to postgresql://...); got --from {} --to {}",
      postgres::display_location(from), postgres::display_location(to)));
  }
  CopyReport report;
  report.from = from;
  report.to = postgres::display_location(to);

  // Bring both to this binary's schema: the source (read, migrated if older), the target
  // (created).
  if (!open_store(from, OpenMode::existing)) {
    throw DataError(fmt::format("no heartbeat database at {}", from));
  }
  open_store(to, OpenMode::read_write);

  SQLite::Database sqlite(source, SQLite::OPEN_READONLY);
  sqlite.setBusyTimeout(10'000);
  postgres::Connection pg(to, OpenMode::read_write);
  // One read snapshot of the source for every table.
  sqlite.exec("BEGIN");
  pg.transaction("copying the database", [&] {
    report.tables.clear();
    // Nothing of heartbeat's in the target yet: a copy never merges two histories.
    const postgres::Result held = pg.exec(
      "SELECT (SELECT count(*) FROM targets) + (SELECT count(*) FROM executions) "
      "+ (SELECT count(*) FROM beats) + (SELECT count(*) FROM events)");
    if (held.int64(0, 0) != 0) {
      throw DataError(fmt::format(
        "database {} already holds heartbeat data ({} rows of targets, executions, beats and "
        "events): hb-migrate copies into an empty database only",
        report.to, held.int64(0, 0)));
    }
    for (const char* table : k_tables) {
      const auto columns = postgres_columns(pg, table);
      std::string list;
      for (const auto& c : columns) {
        list += (list.empty() ? "" : ", ") + c;
      }
      CopyReport::Table done{table, 0};
      if (std::string(table) == "meta") {
        // The schema version is the target's own (its numbering is not SQLite's).
        pg.exec("DELETE FROM meta WHERE key <> 'schema_version'");
      }
      SQLite::Statement read(sqlite, fmt::format("SELECT {} FROM {}{}", list, table,
                                                 std::string(table) == "meta"
                                                   ? " WHERE key <> 'schema_version'"
                                                   : ""));
      done.rows = pg.copy_in(
        fmt::format("COPY {} ({}) FROM STDIN", table, list),
        [&](const std::function<void(std::string_view)>& send) {
          std::string line;
          while (read.executeStep()) {
            line.clear();
            for (int i = 0; i < read.getColumnCount(); ++i) {
              if (i > 0) {
                line += '\t';
              }
              const SQLite::Column column = read.getColumn(i);
              if (column.isNull()) {
                line += "\\N";
              } else {
                const char* text = column.getText();
                append_escaped(line, text, static_cast<std::size_t>(column.getBytes()));
              }
            }
            line += '\n';
            send(line);
          }
        });
      report.tables.push_back(done);
    }
    // Identities continue after the copied ids.
    const postgres::Result identities = pg.exec(
      "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
      "AND column_name = 'id' AND is_identity = 'YES'");
    for (int i = 0; i < identities.rows(); ++i) {
      pg.exec(fmt::format("SELECT setval(pg_get_serial_sequence('{0}', 'id'), "
                          "coalesce(max(id), 0) + 1, false) FROM {0}",
                          identities.text(i, 0)));
    }
    const postgres::Result v =
      pg.exec("SELECT value FROM meta WHERE key = 'schema_version'");
    report.schema_version = v.rows() > 0 ? v.integer(0, 0) : 0;
  });
  sqlite.exec("COMMIT");
  // Freshly copied tables have no planner statistics and no visibility map until autovacuum
  // reaches them, minutes later: the first hb-status read 30 days of history in 1.2 s where it
  // takes 0.3 s afterwards (docs/performance.md). VACUUM cannot run in a transaction, so this
  // comes after the commit: the copy is whole whether or not it completes, and a failure here
  // is a warning, not the copy's exit status.
  try {
    pg.guarded("analysing the copied tables", [&] {
      for (const char* table : k_tables) {
        pg.exec_script(fmt::format("VACUUM (ANALYZE) {}", table));
      }
    });
  } catch (const Error& e) {
    util::log_warning(fmt::format(
      "the copy is complete, but analysing it failed ({}): run VACUUM ANALYZE in {} before "
      "the first hb-status, or autovacuum will in time",
      e.what(), report.to));
  }
  if (progress) {
    for (const auto& t : report.tables) {
      progress(t);
    }
  }
  report.took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  return report;
}

} // namespace hb::store
