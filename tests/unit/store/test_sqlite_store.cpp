// SPDX-License-Identifier: MIT
// What only the SQLite backend has: the file and its mode, WAL, migrations, the schema version,
// and how open_store picks it. Behaviour every backend shares is in test_store_contract*.cpp.
#include "store/sqlite/connection.hpp"
#include "store/sqlite/files.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

#include "core/errors.hpp"
#include "migration_fixtures.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace hb;
using namespace hb::store;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using sqlite::sqlite_schema_version;

const TimePoint k_t0 = util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

std::string db_path(const test::TempDir& dir) { return (dir / "heartbeat.db").string(); }

std::unique_ptr<Store> open_db(const test::TempDir& dir)
{
  return open_store(db_path(dir), OpenMode::read_write);
}

TargetInfo make_target(const std::string& id)
{
  TargetInfo t;
  t.id = id;
  t.name = id;
  t.interval = 30min;
  t.checks.push_back({"http", "http", Severity::alert, ""});
  return t;
}

std::vector<std::string> ids(const std::vector<TargetRecord>& records)
{
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.info.id);
  }
  return out;
}

int read_user_version(const std::string& path)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA user_version").getInt();
}

// The permission bits of `path` (not following a final symlink), or -1 when it is missing.
int mode_of(const std::filesystem::path& path)
{
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

// Sets the process's umask for its lifetime.
class ScopedUmask {
public:
  explicit ScopedUmask(mode_t mask) : m_old(::umask(mask)) {}
  ~ScopedUmask() { ::umask(m_old); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

private:
  mode_t m_old;
};

// The names in `dir`, sorted.
std::vector<std::string> listing(const std::filesystem::path& dir)
{
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

TEST_CASE("open_sqlite")
{
  test::TempDir dir;
  const std::string path = db_path(dir);

  SECTION("creates the file with mode 0600")
  {
    open_db(dir);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }

  SECTION("creates missing parent folders with mode 0700")
  {
    const std::string nested = (dir / "a" / "b" / "heartbeat.db").string();
    sqlite::open_sqlite(nested, OpenMode::read_write);
    struct stat st {};
    REQUIRE(::stat((dir / "a" / "b").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }

  SECTION("every folder it creates is 0700 and its files 0600, whatever the umask")
  {
    // create_directories followed the umask for every folder but the last: 0777 under umask 000.
    for (const mode_t mask : {mode_t{0}, mode_t{0277}}) {
      INFO("umask " << fmt::format("{:04o}", mask));
      const auto top = dir / fmt::format("umask-{:o}", mask);
      const std::string nested = (top / "b" / "c" / "heartbeat.db").string();
      const ScopedUmask umask(mask);
      auto store = sqlite::open_sqlite(nested, OpenMode::read_write);
      store->sync_targets({make_target("acme")}, k_t0);
      CHECK(mode_of(top) == 0700);
      CHECK(mode_of(top / "b") == 0700);
      CHECK(mode_of(top / "b" / "c") == 0700);
      CHECK(mode_of(nested) == 0600);
      CHECK(mode_of(nested + "-wal") == 0600);
      CHECK(mode_of(nested + "-shm") == 0600);
    }
  }

  SECTION("records the schema version in user_version")
  {
    open_db(dir);
    CHECK(sqlite_schema_version() >= 8);
    CHECK(read_user_version(path) == sqlite_schema_version());
  }

  SECTION("uses WAL")
  {
    open_db(dir);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  }

  SECTION("reopening is idempotent and keeps the data")
  {
    {
      auto store = open_db(dir);
      store->sync_targets({make_target("acme")}, k_t0);
    }
    auto again = open_db(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
    CHECK(ids(again->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
    auto existing = sqlite::open_sqlite(path, OpenMode::existing);
    REQUIRE(existing);
    CHECK(ids(existing->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
  }

  SECTION("the WAL persists between processes; one checkpointed away is created again")
  {
    // Stores open an existing WAL without SQLITE_OPEN_CREATE (one fsync less per run) and
    // create it as usual when it is missing.
    {
      auto store = open_db(dir);
      store->sync_targets({make_target("acme")}, k_t0);
    }
    REQUIRE(std::filesystem::exists(path + "-wal"));
    {
      auto store = open_db(dir);
      store->sync_targets({make_target("acme"), make_target("beta")}, k_t0);
    }
    {
      // A checkpoint by another program (the sqlite3 shell deletes the WAL when it closes).
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::filesystem::remove(path + "-wal");
    {
      auto store = open_db(dir);
      store->sync_targets({make_target("gamma")}, k_t0);
    }
    CHECK(std::filesystem::exists(path + "-wal"));
    auto again = open_db(dir);
    CHECK(ids(again->targets(IncludeRetired::no)) == std::vector<std::string>{"gamma"});
    CHECK(ids(again->targets(IncludeRetired::yes))
          == std::vector<std::string>{"acme", "beta", "gamma"});
  }

  SECTION("refuses a database newer than this binary")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec(fmt::format("PRAGMA user_version = {}", sqlite_schema_version() + 5));
    }
    REQUIRE_THROWS_MATCHES(
      open_db(dir), StoreError,
      Message(fmt::format("database {} has schema version {}, newer than this heartbeat "
                          "understands ({}); upgrade heartbeat or point --db at another file",
                          path, sqlite_schema_version() + 5, sqlite_schema_version())));
    CHECK_THROWS_WITH(open_store(path, OpenMode::existing), Contains("newer than this heartbeat"));
  }

  SECTION("refuses a negative schema version, naming the path and the version")
  {
    // migrate() indexed its steps with the version: SIGSEGV or bad_alloc in every tool.
    for (const int version : {-3, -1, std::numeric_limits<int>::min()}) {
      std::filesystem::remove(path);
      {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(fmt::format("PRAGMA user_version = {}", version));
      }
      REQUIRE(read_user_version(path) == version);
      const std::string expected = fmt::format(
        "database {} has schema version {}, which is not one heartbeat wrote (it writes 1 to "
        "{}): is it heartbeat's database? point --db at another file",
        path, version, sqlite_schema_version());
      CHECK_THROWS_MATCHES(open_db(dir), StoreError, Message(expected));
      CHECK_THROWS_MATCHES(open_store(path, OpenMode::existing), StoreError, Message(expected));
      CHECK(read_user_version(path) == version);
    }
  }

  SECTION("refuses a database that holds tables but no schema version")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE notes (text TEXT)");
    }
    CHECK_THROWS_MATCHES(
      open_db(dir), StoreError,
      Message(fmt::format("database {} holds tables but no heartbeat schema version: it is not "
                          "heartbeat's database; point --db at another file",
                          path)));
  }

  SECTION("OpenMode::existing does not create a missing file: no database yet is nullptr")
  {
    CHECK_FALSE(sqlite::open_sqlite(path, OpenMode::existing));
    CHECK_FALSE(open_store(path, OpenMode::existing));
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(dir / "nested"));
    CHECK_FALSE(open_store((dir / "nested" / "x.db").string(), OpenMode::existing));
    CHECK_FALSE(std::filesystem::exists(dir / "nested"));
  }

  SECTION("a failed batch leaves no check result behind")
  {
    auto store = open_db(dir);
    store->sync_targets({make_target("acme")}, k_t0);
    ExecutionWrite w;
    w.execution.target_id = "acme";
    w.execution.started_at = k_t0;
    w.execution.completed_at = k_t0;
    w.execution.results = {CheckResultRecord{"http", CheckStatus::ok, "", 1ms, "", {}},
                           CheckResultRecord{"http", CheckStatus::ok, "", 1ms, "", {}}};
    w.state.target_id = "acme";
    std::vector<ExecutionWrite> writes{w};
    CHECK_THROWS_AS(store->record_executions(writes), StoreError);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM check_results").getInt() == 0);
  }
}

TEST_CASE("open_sqlite: the database path")
{
  test::TempDir dir;
  namespace fs = std::filesystem;

  SECTION("symlinked folders are followed, as /var/run -> /run or a symlinked home")
  {
    // SQLITE_OPEN_NOFOLLOW refused a link anywhere in the path, after the file was created: a
    // 0-byte file was left behind.
    fs::create_directory(dir / "run");
    fs::create_directory(dir / "var");
    fs::create_directory_symlink("../run", dir / "var" / "run");
    const std::string path = (dir / "var" / "run" / "heartbeat" / "heartbeat.db").string();
    {
      auto store = open_store(path, OpenMode::read_write);
      store->sync_targets({make_target("acme")}, k_t0);
    }
    CHECK(listing(dir / "run" / "heartbeat")
          == std::vector<std::string>{"heartbeat.db", "heartbeat.db-shm", "heartbeat.db-wal"});
    CHECK(mode_of(dir / "run" / "heartbeat") == 0700);
    auto reader = open_store(path, OpenMode::existing);
    REQUIRE(reader);
    CHECK(ids(reader->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
  }

  SECTION("a symbolic link in the database file's place is refused, and nothing is created")
  {
    fs::create_directory(dir / "elsewhere");
    const auto target = dir / "elsewhere" / "target.db";
    fs::create_symlink(target, dir / "heartbeat.db");
    const std::string path = (dir / "heartbeat.db").string();
    const std::string expected = fmt::format(
      "database {} is a symbolic link to {}: refused, because a link in the database's place "
      "could send heartbeat's writes to any file; point --db at {} or link its folder instead",
      path, target.string(), target.string());
    CHECK_THROWS_MATCHES(open_store(path, OpenMode::read_write), StoreError, Message(expected));
    CHECK_THROWS_MATCHES(open_store(path, OpenMode::existing), StoreError, Message(expected));
    CHECK(listing(dir.path()) == std::vector<std::string>{"elsewhere", "heartbeat.db"});
    CHECK(fs::is_empty(dir / "elsewhere"));

    // The same when the link's target exists: refused, and the target is left alone.
    open_store(target.string(), OpenMode::read_write);
    const auto before = listing(dir / "elsewhere");
    CHECK_THROWS_MATCHES(open_store(path, OpenMode::read_write), StoreError, Message(expected));
    CHECK_THROWS_MATCHES(open_store(path, OpenMode::existing), StoreError, Message(expected));
    CHECK(listing(dir / "elsewhere") == before);
  }

  SECTION("a symlink loop is too many levels of symbolic links, not a missing file")
  {
    fs::create_symlink("loop-b", dir / "loop-a");
    fs::create_symlink("loop-a", dir / "loop-b");
    for (const std::string& path :
         {(dir / "loop-a" / "heartbeat.db").string(), (dir / "loop-a").string()}) {
      const std::string expected = fmt::format(
        "cannot open database {}: too many levels of symbolic links (a symlink loop in the "
        "path?)",
        path);
      CHECK_THROWS_MATCHES(open_store(path, OpenMode::read_write), StoreError, Message(expected));
      CHECK_THROWS_MATCHES(open_store(path, OpenMode::existing), StoreError, Message(expected));
    }
    CHECK(listing(dir.path()) == std::vector<std::string>{"loop-a", "loop-b"});
  }

  SECTION("a folder is not a database")
  {
    const std::string path = dir.path().string();
    CHECK_THROWS_MATCHES(
      open_store(path, OpenMode::read_write), StoreError,
      Message(fmt::format("database {} is a folder, not a file: add a file name such as "
                          "{}/heartbeat.db",
                          path, path)));
  }

  SECTION("a creation that fails leaves nothing behind: no 0-byte file, no folder it made")
  {
    // A directory where SQLite's WAL goes: opening the new database fails after its file was
    // created.
    fs::create_directories(dir / "new" / "heartbeat.db-wal");
    const std::string path = (dir / "new" / "heartbeat.db").string();
    CHECK_THROWS_AS(open_store(path, OpenMode::read_write), StoreError);
    CHECK(listing(dir / "new") == std::vector<std::string>{"heartbeat.db-wal"});

    // A file name too long for the filesystem: refused after its folders were made.
    const std::string long_name = (dir / "made" / "inner" / std::string(300, 'x')).string();
    CHECK_THROWS_MATCHES(open_store(long_name, OpenMode::read_write), StoreError,
                         Message(fmt::format("cannot open database {}: file name too long",
                                             long_name)));
    CHECK(listing(dir.path()) == std::vector<std::string>{"new"});
  }

  SECTION("a reader finds no database in a file with nothing in it yet, and creates nothing")
  {
    // What a writer has just created (or was killed creating) is "no data yet" to hb-status,
    // which used to migrate it.
    const std::string path = (dir / "heartbeat.db").string();
    { std::ofstream touch(path); }
    CHECK_FALSE(open_store(path, OpenMode::existing));
    CHECK(read_user_version(path) == 0);
    CHECK_FALSE(open_store((dir / "missing" / "heartbeat.db").string(), OpenMode::existing));
    CHECK_FALSE(fs::exists(dir / "missing"));
  }
}

TEST_CASE("sqlite Connection: errors")
{
  test::TempDir dir;
  const std::string path = db_path(dir);
  open_store(path, OpenMode::read_write);
  const auto file = sqlite::locate_database(path, sqlite::CreateFolders::no);
  REQUIRE(file);

  SECTION("a full disk reads disk full, naming the database (simulated with max_page_count)")
  {
    // SQLITE_FULL read "database or disk is full"; the -shm on a full tmpfs "disk I/O error"
    // (tests/e2e/test_database_files.cpp fills a real tmpfs).
    sqlite::Connection connection(*file, OpenMode::read_write);
    connection.db().exec("CREATE TABLE filler (data BLOB)");
    const int pages = connection.db().execAndGet("PRAGMA page_count").getInt();
    connection.db().exec(fmt::format("PRAGMA max_page_count = {}", pages + 1));
    CHECK_THROWS_MATCHES(
      connection.guarded("filling it",
                         [&] { connection.db().exec("INSERT INTO filler VALUES (zeroblob(1e6))"); }),
      StoreError,
      Message(fmt::format("disk full: no space left on device for {} (filling it failed)", path)));
  }
}

TEST_CASE("sqlite migrations")
{
  test::TempDir dir;
  const std::string path = db_path(dir);

  SECTION("5: check results get their position, from the order they were written in")
  {
    {
      // A database as version 4 left it, with results of two executions.
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (int step = 0; step < 4; ++step) {
        db.exec(std::string(sqlite::sqlite_migrations()[static_cast<std::size_t>(step)]));
      }
      db.exec("PRAGMA user_version = 4");
      db.exec(R"sql(
        INSERT INTO executions (id, target_id, started_at, completed_at, trigger, forced, status)
        VALUES (1, 'acme', 1000, 1001, 'pulse', 0, 'all_clear'),
               (2, 'acme', 2000, 2001, 'pulse', 0, 'all_clear');
        INSERT INTO check_results (execution_id, check_name, status, message, latency_ms, phase)
        VALUES (1, 'zeta', 'ok', '', 1, ''), (2, 'b', 'ok', '', 1, ''), (1, 'alpha', 'ok', '', 1, ''),
               (2, 'a', 'ok', '', 1, ''), (1, 'mid', 'ok', '', 1, '');)sql");
    }
    auto store = open_db(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
    const auto recent = store->recent_executions("acme", 10, WithResults::yes);
    REQUIRE(recent.size() == 2);
    std::vector<std::string> first;
    for (const auto& r : recent[1].results) {
      first.push_back(r.check_name);
    }
    CHECK(first == std::vector<std::string>{"zeta", "alpha", "mid"});
    REQUIRE(recent[0].results.size() == 2);
    CHECK(recent[0].results[0].check_name == "b");
    CHECK(recent[0].results[1].check_name == "a");
  }

  SECTION("8: a database of version 7 gains hb-recover's tables and keeps its events")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (int step = 0; step < 7; ++step) {
        db.exec(std::string(sqlite::sqlite_migrations()[static_cast<std::size_t>(step)]));
      }
      db.exec("PRAGMA user_version = 7");
      db.exec(R"sql(
        INSERT INTO events (target_id, at, type, old_state, new_state, message)
        VALUES ('acme', 1000, 'failing', 'healthy', 'failing', 'down'))sql");
    }
    auto store = open_db(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
    CHECK(store->recent_events("acme", 10).size() == 1);
    CHECK(store->recovery_states().empty());
    CHECK_FALSE(store->last_recovery_run());
    RecoveryWrite write;
    write.state = RecoveryState{};
    write.state->target_id = "acme";
    write.open = Escalation{};
    write.open->target_id = "acme";
    write.open->targets = {"acme"};
    write.open->opened_at = k_t0;
    store->record_recovery(write);
    CHECK(store->recovery_states().at("acme").escalation_id == write.open->id);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    for (const char* table :
         {"recovery_runs", "recovery_attempts", "recovery_state", "escalations"}) {
      SQLite::Statement q(db, "SELECT strict FROM pragma_table_list WHERE name = ?1");
      q.bind(1, table);
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt() == 1);
    }
  }

  SECTION("10: escalations opened twice keep the oldest open; each knows its escalated event")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (int step = 0; step < 9; ++step) {
        db.exec(std::string(sqlite::sqlite_migrations()[static_cast<std::size_t>(step)]));
      }
      db.exec("PRAGMA user_version = 9");
      db.exec(test::k_duplicate_escalations);
    }
    auto store = open_db(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
    std::vector<std::int64_t> open;
    for (const auto& e : store->open_escalations()) {
      open.push_back(e.id);
    }
    CHECK(open == std::vector<std::int64_t>{1, 3, 4});
    CHECK(store->recovery_states().at("api").escalation_id == 4);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT id, coalesce(resolved_at, -1), event_id FROM escalations "
                            "ORDER BY id");
    std::vector<std::vector<std::int64_t>> rows;
    while (q.executeStep()) {
      rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                      q.getColumn(2).getInt64()});
    }
    CHECK(rows == std::vector<std::vector<std::int64_t>>{
                    {1, -1, 10}, {2, 1000, 11}, {3, -1, 12}, {4, -1, 13}, {5, 3000, 14}, {6, 600, 0}});
  }

  SECTION("each step is recorded in user_version")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec(std::string(sqlite::sqlite_migrations()[0]));
      db.exec("PRAGMA user_version = 1");
    }
    open_db(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
  }
}

TEST_CASE("sqlite claims use the database's clock")
{
  test::TempDir dir;
  auto store = open_db(dir);
  store->sync_targets({make_target("a")}, k_t0);
  store->claim_targets({"a"}, "one", 10min, [](const std::string&, const TargetState&) { return true; });
  SQLite::Database db(db_path(dir), SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT acquired_at, expires_at FROM leases WHERE name = 'target:a'");
  REQUIRE(q.executeStep());
  const auto acquired = util::from_unix_ms(q.getColumn(0).getInt64());
  const auto expires = util::from_unix_ms(q.getColumn(1).getInt64());
  CHECK(expires - acquired == 10min);
  // The wall clock, whatever the caller's "now" (k_t0 is in 2026, HB_NOW may be anything).
  const auto wall = std::chrono::system_clock::now();
  CHECK(acquired > wall - 1min);
  CHECK(acquired < wall + 1min);
}

TEST_CASE("open_store")
{
  test::TempDir dir;

  SECTION("a plain path and sqlite:///path are SQLite")
  {
    open_store(db_path(dir), OpenMode::read_write);
    CHECK(read_user_version(db_path(dir)) == sqlite_schema_version());
    const std::string url_path = (dir / "url.db").string();
    auto store = open_store("sqlite://" + url_path, OpenMode::read_write);
    REQUIRE(store);
    CHECK(read_user_version(url_path) == sqlite_schema_version());
  }

  SECTION("a relative path is relative to the working folder")
  {
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    try {
      open_store("relative.db", OpenMode::read_write);
      CHECK(std::filesystem::exists(dir / "relative.db"));
    } catch (...) {
      std::filesystem::current_path(cwd);
      throw;
    }
    std::filesystem::current_path(cwd);
  }

  SECTION("any other scheme is refused with a usage error, and nothing is created")
  {
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    auto refused = [](const std::string& location, const std::string& scheme) {
      CHECK_THROWS_MATCHES(
        open_store(location, OpenMode::read_write), UsageError,
        Message(fmt::format("unsupported database location \"{}\": scheme \"{}\" is not served; "
                            "use a plain file path or sqlite:///path or "
                            "postgresql://user@host:5432/heartbeat or "
                            "postgres://user@host/heartbeat",
                            location, scheme)));
    };
    refused("mysql://host/db", "mysql");
    refused("foo://x", "foo");
    CHECK_THROWS_AS(open_store("foo://x", OpenMode::existing), UsageError);
    // A password in a refused location is not repeated.
    CHECK_THROWS_WITH(open_store("mysql://me:s3cret@host/db", OpenMode::read_write),
                      !Contains("s3cret"));
    std::filesystem::current_path(cwd);
    CHECK(std::filesystem::is_empty(dir.path()));
  }

  SECTION("sqlite:// needs an absolute path")
  {
    CHECK_THROWS_MATCHES(open_store("sqlite://relative.db", OpenMode::read_write), UsageError,
                         Message("database location \"sqlite://relative.db\": expected "
                                 "sqlite:///absolute/path, or a plain file path"));
  }

  SECTION("an empty location is refused")
  {
    CHECK_THROWS_AS(open_store("", OpenMode::read_write), UsageError);
  }
}
