// SPDX-License-Identifier: MIT
#include "store/sqlite/database_info.hpp"

#include "util/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include <sys/stat.h>

namespace hb::store::sqlite {
namespace {

long long pragma_number(SQLite::Database& db, const char* pragma)
{
  return db.execAndGet(fmt::format("PRAGMA {}", pragma)).getInt64();
}

// Rows of `table` kept, by id range (never a scan), and of them those whose `time_column` is at
// or after `since` (through the time index).
struct RowCount {
  long long kept = 0;
  long long recent = 0;
};

RowCount count_rows(SQLite::Database& db, const char* table, const char* time_column,
                    TimePoint since)
{
  RowCount count;
  // Two subqueries: SQLite answers a lone min() or max() from the index's end, not both at once.
  SQLite::Statement range(db, fmt::format("SELECT (SELECT max(id) FROM {0}) - (SELECT min(id) "
                                          "FROM {0}) + 1",
                                          table));
  if (range.executeStep() && !range.getColumn(0).isNull()) {
    count.kept = range.getColumn(0).getInt64();
  }
  SQLite::Statement recent(db, fmt::format("SELECT count(*) FROM {} WHERE {} >= ?1", table,
                                           time_column));
  recent.bind(1, util::to_unix_ms(since));
  if (recent.executeStep()) {
    count.recent = recent.getColumn(0).getInt64();
  }
  return count;
}

} // namespace

DatabaseInfo read_database_info(Connection& connection, TimePoint now, CheckIntegrity check)
{
  return connection.guarded("reading the database's figures", [&] {
    SQLite::Database& db = connection.db();
    DatabaseInfo info;
    info.backend = "sqlite";
    info.schema_version = static_cast<int>(pragma_number(db, "user_version"));
    const long long page_size = pragma_number(db, "page_size");
    info.size_bytes = pragma_number(db, "page_count") * page_size;
    info.free_bytes = pragma_number(db, "freelist_count") * page_size;
    if (const char* file = sqlite3_db_filename(db.getHandle(), "main");
        file != nullptr && *file != '\0') {
      struct stat st {};
      if (::stat(fmt::format("{}-wal", file).c_str(), &st) == 0) {
        info.wal_bytes = static_cast<long long>(st.st_size);
      }
    }
    SQLite::Statement oldest(db, "SELECT min(started_at) FROM executions");
    if (oldest.executeStep() && !oldest.getColumn(0).isNull()) {
      info.oldest_execution = util::from_unix_ms(oldest.getColumn(0).getInt64());
    }
    const TimePoint day_ago = now - std::chrono::hours(24);
    for (const auto& [table, column] : {std::pair{"executions", "started_at"},
                                        std::pair{"beats", "at"},
                                        std::pair{"job_runs", "started_at"}}) {
      const RowCount count = count_rows(db, table, column, day_ago);
      info.rows += count.kept;
      info.rows_last_day += count.recent;
    }
    if (check == CheckIntegrity::yes) {
      const auto started = std::chrono::steady_clock::now();
      // At most 10 problems: enough to say what is wrong, bounded for a badly damaged file.
      SQLite::Statement q(db, "PRAGMA quick_check(10)");
      std::string answer;
      while (q.executeStep()) {
        if (!answer.empty()) {
          answer += "; ";
        }
        answer += q.getColumn(0).getString();
      }
      info.integrity = answer;
      info.integrity_took = std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now() - started);
    }
    return info;
  });
}

} // namespace hb::store::sqlite
