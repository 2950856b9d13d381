// SPDX-License-Identifier: MIT
// What only the PostgreSQL backend has: opening a server's database, migrations under an
// advisory lock, passwords kept out of messages, a lost connection, and claims that runners
// take at once without waiting for each other. On the suite's throwaway server
// (support/postgres.hpp); the store contract suite covers everything else on both backends.
#include "store/location.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/store.hpp"

#include "core/errors.hpp"
#include "support/postgres.hpp"
#include "migration_fixtures.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace hb;
using namespace hb::store;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

const TimePoint k_t0 = util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

TargetInfo make_target(const std::string& id)
{
  TargetInfo t;
  t.id = id;
  t.name = id;
  t.kind = TargetKind::service;
  t.interval = 5min;
  t.checks.push_back({"http", "http", Severity::alert, "GET http://127.0.0.1/"});
  return t;
}

bool always_due(const std::string&, const TargetState&) { return true; }

int table_count(const test::PgSchema& schema)
{
  return std::stoi(test::pg_query(
    test::pg_server_url(),
    fmt::format("SELECT count(*) FROM pg_tables WHERE schemaname = '{}'", schema.name())));
}

// The server's location with `user[:password]` in place of the suite's role.
std::string as_user(const std::string& user)
{
  const std::string url = test::pg_server_url();
  const auto at = url.find('@');
  return "postgresql://" + user + url.substr(at);
}

} // namespace

TEST_CASE("postgres: opening a database")
{
  test::PgSchema schema;

  SECTION("reading a database without heartbeat's schema is \"no data yet\", and creates nothing")
  {
    CHECK(open_store(schema.url(), OpenMode::read_only) == nullptr);
    CHECK(open_store(schema.url(), OpenMode::existing) == nullptr);
    CHECK(table_count(schema) == 0);
  }

  SECTION("a writer creates the schema; a reader then reads and never writes")
  {
    open_store(schema.url(), OpenMode::read_write)->sync_targets({make_target("api")}, k_t0);
    CHECK(test::pg_query(schema.url(), "SELECT value FROM meta WHERE key = 'schema_version'")
          == std::to_string(postgres::postgres_schema_version()));
    auto reader = open_store(schema.url(), OpenMode::read_only);
    REQUIRE(reader != nullptr);
    CHECK(reader->targets(IncludeRetired::no).size() == 1);
    CHECK_THROWS_AS(reader->sync_targets({make_target("web")}, k_t0), StoreError);
  }

  SECTION("a database that does not exist: none for a reader, a clear error for a writer")
  {
    const std::string url = test::pg_server_url();
    const std::string missing = url.substr(0, url.rfind('/')) + "/no_such_database";
    CHECK(open_store(missing, OpenMode::existing) == nullptr);
    CHECK(open_store(missing, OpenMode::read_only) == nullptr);
    CHECK_THROWS_WITH(open_store(missing, OpenMode::read_write),
                      Contains("no_such_database") && Contains("does not exist"));
  }

  SECTION("a newer schema is refused rather than damaged")
  {
    open_store(schema.url(), OpenMode::read_write);
    test::pg_query(schema.url(), "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    CHECK_THROWS_WITH(open_store(schema.url(), OpenMode::read_write),
                      Contains("schema version 999") && Contains("newer than this heartbeat"));
    CHECK_THROWS_AS(open_store(schema.url(), OpenMode::read_only), StoreError);
  }

  SECTION("tables that are not heartbeat's are left alone")
  {
    test::pg_query(schema.url(), "CREATE TABLE invoices (id int)");
    CHECK_THROWS_WITH(open_store(schema.url(), OpenMode::read_write),
                      Contains("not heartbeat's database"));
    CHECK(table_count(schema) == 1);
  }

  SECTION("a server that does not answer is a temporary failure (exit 75)")
  {
    // A port nobody listens on: the suite's own port plus one is as good as any.
    const std::string url = test::pg_server_url();
    const auto colon = url.rfind(':');
    const int port = std::stoi(url.substr(colon + 1));
    const std::string dead = fmt::format("postgresql://hb@127.0.0.1:{}/heartbeat", port == 65535 ? 1 : port + 1);
    CHECK_THROWS_AS(open_store(dead, OpenMode::read_write), TemporaryError);
  }
}

TEST_CASE("postgres: migration 2 keeps the oldest of escalations opened twice open")
{
  test::PgSchema schema;
  test::pg_query(schema.url(), std::string(postgres::postgres_migrations()[0]));
  test::pg_query(schema.url(), "INSERT INTO meta (key, value) VALUES ('schema_version', '1')");
  test::pg_query(schema.url(), test::k_duplicate_escalations);
  auto store = open_store(schema.url(), OpenMode::read_write);
  CHECK(test::pg_query(schema.url(), "SELECT value FROM meta WHERE key = 'schema_version'")
        == std::to_string(postgres::postgres_schema_version()));
  std::vector<std::int64_t> open;
  for (const auto& e : store->open_escalations()) {
    open.push_back(e.id);
  }
  CHECK(open == std::vector<std::int64_t>{1, 3, 4});
  CHECK(store->recovery_states().at("api").escalation_id == 4);
  CHECK(test::pg_query(schema.url(),
                       "SELECT string_agg(id || ':' || coalesce(resolved_at, -1) || ':' || event_id, "
                       "' ' ORDER BY id) FROM escalations")
        == "1:-1:10 2:1000:11 3:-1:12 4:-1:13 5:3000:14 6:600:0");
}

TEST_CASE("postgres: a role that may only read runs the readers")
{
  test::PgSchema schema;
  open_store(schema.url(), OpenMode::read_write)->sync_targets({make_target("api")}, k_t0);
  const std::string role = fmt::format("hb_ro_{}", ::getpid());
  test::pg_query(test::pg_server_url(),
                 fmt::format("DROP ROLE IF EXISTS {0}; CREATE ROLE {0} LOGIN; "
                             "GRANT USAGE ON SCHEMA {1} TO {0}; "
                             "GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0}",
                             role, schema.name()));
  struct DropRole {
    std::string role;
    std::string schema;
    ~DropRole()
    {
      try {
        test::pg_query(test::pg_server_url(),
                       fmt::format("REVOKE ALL ON ALL TABLES IN SCHEMA {1} FROM {0}; "
                                   "REVOKE USAGE ON SCHEMA {1} FROM {0}; DROP ROLE {0}",
                                   role, schema));
      } catch (const std::exception&) {
      }
    }
  } drop{role, schema.name()};
  const std::string location = as_user(role) + schema.url().substr(schema.url().find('?'));
  for (const auto mode : {OpenMode::existing, OpenMode::read_only}) {
    auto reader = open_store(location, mode);
    REQUIRE(reader != nullptr);
    CHECK(reader->targets(IncludeRetired::no).size() == 1);
    CHECK(reader->target_states().empty());
    CHECK_THROWS_AS(reader->sync_targets({make_target("web")}, k_t0), StoreError);
  }
}

TEST_CASE("postgres: ten tools starting at once migrate once")
{
  test::PgSchema schema;
  std::vector<std::future<bool>> opened;
  for (int i = 0; i < 10; ++i) {
    opened.push_back(std::async(std::launch::async, [&] {
      return open_store(schema.url(), OpenMode::read_write) != nullptr;
    }));
  }
  for (auto& f : opened) {
    CHECK(f.get());  // a second CREATE TABLE would have failed one of them
  }
  CHECK(test::pg_query(schema.url(), "SELECT value FROM meta WHERE key = 'schema_version'")
        == std::to_string(postgres::postgres_schema_version()));
}

TEST_CASE("postgres: the password never shows")
{
  SECTION("display_location drops it from a URI and from key=value strings")
  {
    CHECK(display_location("postgresql://hb:s3cret@db.internal:5432/heartbeat")
          == "postgresql://hb@db.internal:5432/heartbeat");
    CHECK(display_location("postgres://hb:s3cret@db/hb?sslmode=require&password=s3cret")
          == "postgres://hb@db/hb?sslmode=require");
    CHECK(display_location("postgresql://db/hb?password=s3cret") == "postgresql://db/hb");
    CHECK(display_location("postgresql://hb@db/hb") == "postgresql://hb@db/hb");
    CHECK(display_location("/var/lib/heartbeat/heartbeat.db")
          == "/var/lib/heartbeat/heartbeat.db");
    CHECK(postgres::display_location("host=db user=hb password=s3cret dbname=hb")
          == "host=db user=hb  dbname=hb");
    CHECK(postgres::display_location("host=db password='s3 cr\\'et' dbname=hb")
          == "host=db  dbname=hb");
  }

  SECTION("a wrong password: refused, and not repeated")
  {
    try {
      open_store(as_user("hb_secret:not-the-password"), OpenMode::read_write);
      FAIL("the server accepted a wrong password");
    } catch (const StoreError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Contains("hb_secret@127.0.0.1") && Contains("refused"));
      CHECK_THAT(message, !Contains("not-the-password"));
    }
  }

  SECTION("the right one from a password file, never from the location")
  {
    test::TempDir dir;
    const std::string url = test::pg_server_url();
    const std::string port = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
    const auto file = dir.write("pgpass", fmt::format("127.0.0.1:{}:*:hb_secret:s3cret-pg-pass\n",
                                                      port));
    std::filesystem::permissions(file, std::filesystem::perms::owner_read
                                         | std::filesystem::perms::owner_write);
    ::setenv("PGPASSFILE", file.c_str(), 1);
    test::PgSchema schema;
    const std::string location =
      as_user("hb_secret") + schema.url().substr(schema.url().find('?'));
    std::unique_ptr<Store> store;
    CHECK_NOTHROW(store = open_store(location, OpenMode::read_write));
    ::unsetenv("PGPASSFILE");
    CHECK(store != nullptr);
  }
}

TEST_CASE("postgres: a lost connection is a temporary failure and the write is absent")
{
  test::PgSchema schema;
  const std::string name = fmt::format("hb_lost_{}", ::getpid());
  auto store = open_store(schema.url() + "&application_name=" + name, OpenMode::read_write);
  store->sync_targets({make_target("api")}, k_t0);
  // The server ends our session, as a restart or a failover would.
  test::pg_query(test::pg_server_url(),
                 fmt::format("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = '{}'",
                             name));
  ExecutionWrite w;
  w.execution.target_id = "api";
  w.execution.started_at = k_t0;
  w.execution.completed_at = k_t0 + 1s;
  w.execution.status = ExecStatus::all_clear;
  w.state.target_id = "api";
  w.state.health = Health::healthy;
  std::vector<ExecutionWrite> writes{w};
  CHECK_THROWS_WITH(store->record_executions(writes),
                    Contains("lost the connection") && Contains("try again"));
  CHECK_THROWS_AS(store->record_executions(writes), TemporaryError);
  CHECK(test::pg_query(schema.url(), "SELECT count(*) FROM executions") == "0");
}

TEST_CASE("postgres: a deadlock is retried, and both transactions land once")
{
  test::PgSchema schema;
  test::pg_query(schema.url(), "CREATE TABLE pair (id int PRIMARY KEY, n int NOT NULL); "
                               "INSERT INTO pair VALUES (1, 0), (2, 0)");
  postgres::Connection a(schema.url(), OpenMode::read_write);
  postgres::Connection b(schema.url(), OpenMode::read_write);
  std::mutex mutex;
  std::condition_variable changed;
  int holding = 0;  // transactions holding their first row (on their first attempt)
  std::atomic<int> attempts{0};
  // Each locks its first row, waits until the other holds its own, then wants the other's: one
  // of the two is chosen by the server as the deadlock's victim (40P01) and is run again.
  auto crosswise = [&](postgres::Connection& c, int first, int second) {
    bool first_attempt = true;
    c.transaction("crossing updates", [&] {
      ++attempts;
      c.exec("UPDATE pair SET n = n + 1 WHERE id = $1", postgres::Params(first));
      if (first_attempt) {
        first_attempt = false;
        std::unique_lock lock(mutex);
        ++holding;
        changed.notify_all();
        changed.wait_for(lock, 10s, [&] { return holding == 2; });
      }
      c.exec("UPDATE pair SET n = n + 1 WHERE id = $1", postgres::Params(second));
    });
  };
  auto one = std::async(std::launch::async, [&] { crosswise(a, 1, 2); });
  auto two = std::async(std::launch::async, [&] { crosswise(b, 2, 1); });
  CHECK_NOTHROW(one.get());
  CHECK_NOTHROW(two.get());
  CHECK(attempts == 3);  // the victim ran twice
  // Each transaction's two updates landed exactly once: none lost, none doubled.
  CHECK(test::pg_query(schema.url(), "SELECT sum(n) FROM pair") == "4");
  CHECK(test::pg_query(schema.url(), "SELECT n FROM pair WHERE id = 1") == "2");
}

TEST_CASE("postgres: claims")
{
  test::PgSchema schema;
  auto first = open_store(schema.url(), OpenMode::read_write);
  auto second = open_store(schema.url(), OpenMode::read_write);
  std::vector<TargetInfo> targets;
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    targets.push_back(make_target(fmt::format("t{:03}", i)));
    ids.push_back(targets.back().id);
  }
  first->sync_targets(targets, k_t0);

  SECTION("a runner deciding on targets does not make another one wait: it skips them")
  {
    std::mutex mutex;
    std::condition_variable changed;
    bool second_done = false;
    std::atomic<bool> first_deciding{false};
    auto held_open = std::async(std::launch::async, [&] {
      return first->claim_targets({"t000", "t001"}, "first", 10min,
                                  [&](const std::string&, const TargetState&) {
                                    first_deciding = true;
                                    std::unique_lock lock(mutex);
                                    changed.wait_for(lock, 30s, [&] { return second_done; });
                                    return true;
                                  });
    });
    while (!first_deciding) {
      std::this_thread::sleep_for(5ms);
    }
    // The rows are locked by `first`, still deciding: `second` skips them at once, as held.
    const auto claim = second->claim_targets({"t000", "t001", "t002"}, "second", 10min, always_due);
    {
      std::lock_guard lock(mutex);
      second_done = true;
    }
    changed.notify_all();
    CHECK(claim.claimed == std::vector<std::string>{"t002"});
    CHECK(claim.held == std::vector<std::string>{"t000", "t001"});
    const auto taken = held_open.get();
    CHECK(taken.claimed == std::vector<std::string>{"t000", "t001"});
  }

  SECTION("runners claiming in batches at once share the targets, none twice, none missed")
  {
    auto run = [&](Store& store, const std::string& owner) {
      std::vector<std::string> mine;
      for (std::size_t i = 0; i < ids.size(); i += 10) {
        const std::vector<std::string> slice(ids.begin() + static_cast<long>(i),
                                             ids.begin() + static_cast<long>(i + 10));
        const auto claim = store.claim_targets(slice, owner, 10min, always_due);
        mine.insert(mine.end(), claim.claimed.begin(), claim.claimed.end());
        std::this_thread::sleep_for(1ms);  // the work between two batches
      }
      return mine;
    };
    auto a = std::async(std::launch::async, [&] { return run(*first, "a"); });
    auto b = std::async(std::launch::async, [&] { return run(*second, "b"); });
    const auto mine_a = a.get();
    const auto mine_b = b.get();
    std::set<std::string> all(mine_a.begin(), mine_a.end());
    for (const auto& id : mine_b) {
      CHECK(all.insert(id).second);  // never claimed by both
    }
    CHECK(all.size() == ids.size());
    CHECK(test::pg_query(schema.url(), "SELECT count(*) FROM leases") == "200");
  }

  SECTION("leases are judged by the database's clock")
  {
    first->claim_targets({"t000"}, "one", 10min, always_due);
    const auto acquired = util::from_unix_ms(std::stoll(
      test::pg_query(schema.url(), "SELECT acquired_at FROM leases WHERE name = 'target:t000'")));
    const auto expires = util::from_unix_ms(std::stoll(
      test::pg_query(schema.url(), "SELECT expires_at FROM leases WHERE name = 'target:t000'")));
    CHECK(expires - acquired == 10min);
    const auto wall = std::chrono::system_clock::now();
    CHECK(acquired > wall - 1min);
    CHECK(acquired < wall + 1min);
  }
}
