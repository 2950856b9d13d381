// SPDX-License-Identifier: MIT
#include "store/store.hpp"

#include "core/errors.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

using hb::Duration;
using hb::ExecStatus;
using hb::Health;
using hb::TimePoint;
using namespace hb;
using namespace hb::store;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;

const TimePoint k_t0 = hb::util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

std::string db_path(const hb::test::TempDir& dir) { return (dir / "heartbeat.db").string(); }

std::unique_ptr<Store> open_store(const hb::test::TempDir& dir)
{
  return open_sqlite(db_path(dir), OpenMode::read_write);
}

TargetInfo make_target(const std::string& id, const std::string& name,
                       std::vector<std::string> check_names = {"http"})
{
  TargetInfo t;
  t.id = id;
  t.name = name;
  t.kind = hb::TargetKind::tenant;
  t.tags = {"prod", "eu"};
  t.interval = 30min;
  for (const auto& c : check_names) {
    t.checks.push_back({c, "http", hb::Severity::alert, "GET https://" + id + ".example.com/"});
  }
  return t;
}

const TargetRecord* find(const std::vector<TargetRecord>& records, const std::string& id)
{
  for (const auto& r : records) {
    if (r.info.id == id) {
      return &r;
    }
  }
  return nullptr;
}

std::vector<std::string> ids(const std::vector<TargetRecord>& records)
{
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.info.id);
  }
  return out;
}

bool always_due(const std::string&, const TargetState&) { return true; }

// A write for one finished execution of `target` at `at` with one check result per status.
ExecutionWrite make_write(const std::string& target, TimePoint at, ExecStatus status,
                          const std::string& release_owner = "")
{
  ExecutionWrite w;
  w.execution.target_id = target;
  w.execution.started_at = at;
  w.execution.completed_at = at + 1200ms;
  w.execution.trigger = hb::Trigger::pulse;
  w.execution.status = status;
  CheckResultRecord r;
  r.check_name = "http";
  r.status = status == ExecStatus::all_clear ? hb::CheckStatus::ok : hb::CheckStatus::alert;
  r.message = status == ExecStatus::all_clear ? "200 OK" : "connection refused";
  r.latency = 120ms;
  r.phase = status == ExecStatus::all_clear ? "" : "connect";
  w.execution.results.push_back(r);
  w.state.target_id = target;
  w.state.health = status == ExecStatus::all_clear ? Health::healthy : Health::failing;
  w.state.since = at;
  w.state.last_execution_at = at;
  w.state.last_status = status;
  w.state.consecutive_failures = status == ExecStatus::all_clear ? 0 : 1;
  w.state.consecutive_successes = status == ExecStatus::all_clear ? 1 : 0;
  w.release_owner = release_owner;
  return w;
}

int read_user_version(const std::string& path)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA user_version").getInt();
}

int count_rows(const std::string& path, const std::string& table)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT count(*) FROM " + table).getInt();
}

} // namespace

TEST_CASE("open_sqlite")
{
  hb::test::TempDir dir;
  const std::string path = db_path(dir);

  SECTION("creates the file with mode 0600")
  {
    open_store(dir);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }

  SECTION("creates missing parent folders with mode 0700")
  {
    const std::string nested = (dir / "a" / "b" / "heartbeat.db").string();
    open_sqlite(nested, OpenMode::read_write);
    struct stat st {};
    REQUIRE(::stat((dir / "a" / "b").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }

  SECTION("records the schema version in user_version")
  {
    open_store(dir);
    CHECK(sqlite_schema_version() >= 1);
    CHECK(read_user_version(path) == sqlite_schema_version());
  }

  SECTION("reopening is idempotent and keeps the data")
  {
    {
      auto store = open_store(dir);
      store->sync_targets({make_target("acme", "Acme")}, k_t0);
    }
    auto again = open_store(dir);
    CHECK(read_user_version(path) == sqlite_schema_version());
    CHECK(ids(again->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
    auto existing = open_sqlite(path, OpenMode::existing);
    CHECK(ids(existing->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
  }

  SECTION("the WAL persists between processes; one checkpointed away is created again")
  {
    // Stores open an existing WAL without SQLITE_OPEN_CREATE (one fsync less per run) and
    // create it as usual when it is missing.
    {
      auto store = open_store(dir);
      store->sync_targets({make_target("acme", "Acme")}, k_t0);
    }
    REQUIRE(std::filesystem::exists(path + "-wal"));
    {
      auto store = open_store(dir);
      store->sync_targets({make_target("acme", "Acme"), make_target("beta", "Beta")}, k_t0);
    }
    {
      // A checkpoint by another program (the sqlite3 shell deletes the WAL when it closes).
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::filesystem::remove(path + "-wal");
    {
      auto store = open_store(dir);
      store->sync_targets({make_target("gamma", "Gamma")}, k_t0);
    }
    CHECK(std::filesystem::exists(path + "-wal"));
    auto again = open_store(dir);
    CHECK(ids(again->targets(IncludeRetired::no)) == std::vector<std::string>{"gamma"});
    CHECK(ids(again->targets(IncludeRetired::yes)) ==
          std::vector<std::string>{"acme", "beta", "gamma"});
  }

  SECTION("refuses a database newer than this binary")
  {
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec(fmt::format("PRAGMA user_version = {}", sqlite_schema_version() + 5));
    }
    REQUIRE_THROWS_MATCHES(
      open_store(dir), hb::StoreError,
      Message(fmt::format("database {} has schema version {}, newer than this heartbeat "
                          "understands ({}); upgrade heartbeat or point --db at another file",
                          path, sqlite_schema_version() + 5, sqlite_schema_version())));
    CHECK_THROWS_WITH(open_sqlite(path, OpenMode::existing), Contains("newer than this heartbeat"));
  }

  SECTION("OpenMode::existing does not create a missing file")
  {
    REQUIRE_THROWS_MATCHES(open_sqlite(path, OpenMode::existing), hb::StoreError,
                           Message(fmt::format("database {} does not exist", path)));
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("SqliteStore::sync_targets")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);

  SECTION("inserts targets with their checks")
  {
    auto acme = make_target("acme", "Acme", {"http", "disk"});
    acme.paused = true;
    store->sync_targets({acme, make_target("globex", "Globex")}, k_t0);
    const auto records = store->targets(IncludeRetired::no);
    REQUIRE(ids(records) == std::vector<std::string>{"acme", "globex"});
    const auto& r = records[0];
    CHECK(r.info.name == "Acme");
    CHECK(r.info.kind == hb::TargetKind::tenant);
    CHECK(r.info.tags == std::vector<std::string>{"prod", "eu"});
    CHECK(r.info.paused);
    CHECK(r.info.interval == 30min);
    CHECK(r.first_seen == k_t0);
    CHECK_FALSE(r.retired_at);
    REQUIRE(r.info.checks.size() == 2);
    CHECK(r.info.checks[0].name == "http");
    CHECK(r.info.checks[1].name == "disk");
    CHECK(r.info.checks[0].type == "http");
    CHECK(r.info.checks[0].severity == hb::Severity::alert);
    CHECK(r.info.checks[0].description == "GET https://acme.example.com/");
  }

  SECTION("updates a changed target and keeps first_seen")
  {
    store->sync_targets({make_target("acme", "Acme")}, k_t0);
    auto renamed = make_target("acme", "Acme Corp", {"tcp"});
    renamed.interval = 5min;
    store->sync_targets({renamed}, k_t0 + 1h);
    const auto records = store->targets(IncludeRetired::no);
    REQUIRE(records.size() == 1);
    CHECK(records[0].info.name == "Acme Corp");
    CHECK(records[0].info.interval == 5min);
    REQUIRE(records[0].info.checks.size() == 1);
    CHECK(records[0].info.checks[0].name == "tcp");
    CHECK(records[0].first_seen == k_t0);
  }

  SECTION("retires removed targets and keeps them for history")
  {
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
    store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
    CHECK(ids(store->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
    const auto all = store->targets(IncludeRetired::yes);
    REQUIRE(ids(all) == std::vector<std::string>{"acme", "globex"});
    CHECK_FALSE(find(all, "acme")->retired_at);
    REQUIRE(find(all, "globex")->retired_at);
    CHECK(*find(all, "globex")->retired_at == k_t0 + 1h);
    CHECK(find(all, "globex")->first_seen == k_t0);
  }

  SECTION("a retired target that returns is live again with its first_seen")
  {
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
    store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")},
                        k_t0 + 2h);
    const auto live = store->targets(IncludeRetired::no);
    REQUIRE(ids(live) == std::vector<std::string>{"acme", "globex"});
    CHECK_FALSE(find(live, "globex")->retired_at);
    CHECK(find(live, "globex")->first_seen == k_t0);
  }

  SECTION("re-syncing the same targets changes nothing")
  {
    store->sync_targets({make_target("acme", "Acme")}, k_t0);
    store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
    const auto records = store->targets(IncludeRetired::yes);
    REQUIRE(records.size() == 1);
    CHECK(records[0].first_seen == k_t0);
    CHECK_FALSE(records[0].retired_at);
  }
}

TEST_CASE("SqliteStore::claim_targets")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({make_target("a", "A"), make_target("b", "B"), make_target("c", "C")}, k_t0);
  const std::vector<std::string> all{"a", "b", "c"};

  SECTION("claims every due target")
  {
    const auto result = store->claim_targets(all, "one", k_t0, k_t0 + 3min, always_due);
    CHECK(result.claimed == all);
    CHECK(result.held.empty());
  }

  SECTION("respects the predicate, which sees the stored state")
  {
    std::vector<ExecutionWrite> writes{make_write("b", k_t0 - 1min, ExecStatus::alert)};
    store->record_executions(writes);
    std::vector<std::string> seen_failing;
    const auto result = store->claim_targets(
      all, "one", k_t0, k_t0 + 3min, [&](const std::string& id, const TargetState& state) {
        CHECK(state.target_id == id);
        if (state.health == Health::failing) {
          seen_failing.push_back(id);
        }
        return id != "c";
      });
    CHECK(result.claimed == std::vector<std::string>{"a", "b"});
    CHECK(result.held.empty());
    CHECK(seen_failing == std::vector<std::string>{"b"});
  }

  SECTION("a live claim of another owner is held")
  {
    store->claim_targets({"a", "b"}, "one", k_t0, k_t0 + 3min, always_due);
    const auto second = store->claim_targets(all, "two", k_t0 + 1min, k_t0 + 4min, always_due);
    CHECK(second.claimed == std::vector<std::string>{"c"});
    CHECK(second.held == std::vector<std::string>{"a", "b"});
  }

  SECTION("a held target that is not due is neither claimed nor held")
  {
    store->claim_targets({"a"}, "one", k_t0, k_t0 + 3min, always_due);
    const auto second = store->claim_targets(
      all, "two", k_t0, k_t0 + 3min, [](const std::string& id, const TargetState&) { return id != "a"; });
    CHECK(second.claimed == std::vector<std::string>{"b", "c"});
    CHECK(second.held.empty());
  }

  SECTION("an expired claim is taken over")
  {
    store->claim_targets({"a"}, "one", k_t0, k_t0 + 3min, always_due);
    const auto before = store->claim_targets({"a"}, "two", k_t0 + 3min - 1ms, k_t0 + 6min, always_due);
    CHECK(before.held == std::vector<std::string>{"a"});
    const auto at_expiry = store->claim_targets({"a"}, "two", k_t0 + 3min, k_t0 + 6min, always_due);
    CHECK(at_expiry.claimed == std::vector<std::string>{"a"});
    CHECK(at_expiry.held.empty());
    // Now "one" is the one that is shut out.
    const auto first_again = store->claim_targets({"a"}, "one", k_t0 + 4min, k_t0 + 7min, always_due);
    CHECK(first_again.held == std::vector<std::string>{"a"});
  }

  SECTION("release_claims frees only that owner's claims")
  {
    store->claim_targets({"a"}, "one", k_t0, k_t0 + 3min, always_due);
    store->claim_targets({"b"}, "two", k_t0, k_t0 + 3min, always_due);
    store->release_claims("one");
    const auto third = store->claim_targets(all, "three", k_t0, k_t0 + 3min, always_due);
    CHECK(third.claimed == std::vector<std::string>{"a", "c"});
    CHECK(third.held == std::vector<std::string>{"b"});
  }

  SECTION("record_executions releases the claim of its owner")
  {
    store->claim_targets({"a", "b"}, "one", k_t0, k_t0 + 3min, always_due);
    std::vector<ExecutionWrite> writes{make_write("a", k_t0, ExecStatus::all_clear, "one"),
                                       make_write("b", k_t0, ExecStatus::all_clear, "someone-else")};
    store->record_executions(writes);
    const auto second = store->claim_targets({"a", "b"}, "two", k_t0, k_t0 + 3min, always_due);
    CHECK(second.claimed == std::vector<std::string>{"a"});
    CHECK(second.held == std::vector<std::string>{"b"});
  }
}

TEST_CASE("SqliteStore::record_executions")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);

  SECTION("writes the execution with its results, and they read back")
  {
    auto w = make_write("acme", k_t0, ExecStatus::alert);
    w.execution.forced = true;
    w.execution.pulse_id = 42;
    CheckResultRecord second;
    second.check_name = "disk";
    second.status = hb::CheckStatus::warning;
    second.message = "DISK WARNING - 85% used";
    second.latency = 30ms;
    second.phase = "exit_code";
    w.execution.results.push_back(second);
    std::vector<ExecutionWrite> writes{w};
    store->record_executions(writes);
    CHECK(writes[0].execution.id > 0);

    const auto recent = store->recent_executions("acme", 10, WithResults::yes);
    REQUIRE(recent.size() == 1);
    const auto& e = recent[0];
    CHECK(e.id == writes[0].execution.id);
    CHECK(e.target_id == "acme");
    CHECK(e.started_at == k_t0);
    CHECK(e.completed_at == k_t0 + 1200ms);
    CHECK(e.trigger == hb::Trigger::pulse);
    CHECK(e.forced);
    CHECK(e.status == ExecStatus::alert);
    CHECK(e.pulse_id == std::optional<std::int64_t>(42));
    REQUIRE(e.results.size() == 2);
    CHECK(e.results[0].check_name == "http");
    CHECK(e.results[0].status == hb::CheckStatus::alert);
    CHECK(e.results[0].message == "connection refused");
    CHECK(e.results[0].latency == 120ms);
    CHECK(e.results[0].phase == "connect");
    CHECK(e.results[1].check_name == "disk");
    CHECK(e.results[1].status == hb::CheckStatus::warning);

    const auto without = store->recent_executions("acme", 10, WithResults::no);
    REQUIRE(without.size() == 1);
    CHECK(without[0].results.empty());
    CHECK(store->recent_executions("globex", 10, WithResults::yes).empty());
  }

  SECTION("recent_executions is newest first and limited")
  {
    std::vector<ExecutionWrite> writes{make_write("acme", k_t0, ExecStatus::all_clear),
                                       make_write("acme", k_t0 + 30min, ExecStatus::alert),
                                       make_write("acme", k_t0 + 60min, ExecStatus::all_clear)};
    store->record_executions(writes);
    const auto recent = store->recent_executions("acme", 2, WithResults::yes);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].started_at == k_t0 + 60min);
    CHECK(recent[1].started_at == k_t0 + 30min);
    CHECK(recent[1].results.at(0).message == "connection refused");
  }

  SECTION("writes the target state and check states")
  {
    auto w = make_write("acme", k_t0, ExecStatus::alert);
    w.state.last_failure_at = k_t0;
    w.state.last_message = "http: connection refused";
    CheckState cs;
    cs.check_name = "http";
    cs.last_status = hb::CheckStatus::alert;
    cs.consecutive_failures = 2;
    cs.confirmed = hb::CheckStatus::alert;
    cs.bad_since = k_t0 - 30min;
    cs.last_message = "connection refused";
    w.state.checks.push_back(cs);
    std::vector<ExecutionWrite> writes{w};
    store->record_executions(writes);

    const auto state = store->target_state("acme");
    REQUIRE(state);
    CHECK(state->target_id == "acme");
    CHECK(state->health == Health::failing);
    CHECK(state->since == std::optional<TimePoint>(k_t0));
    CHECK(state->consecutive_failures == 1);
    CHECK(state->last_execution_at == std::optional<TimePoint>(k_t0));
    CHECK(state->last_status == std::optional<ExecStatus>(ExecStatus::alert));
    CHECK_FALSE(state->last_success_at);
    CHECK(state->last_failure_at == std::optional<TimePoint>(k_t0));
    CHECK(state->last_message == "http: connection refused");
    REQUIRE(state->checks.size() == 1);
    CHECK(state->checks[0].check_name == "http");
    CHECK(state->checks[0].last_status == hb::CheckStatus::alert);
    CHECK(state->checks[0].consecutive_failures == 2);
    CHECK(state->checks[0].confirmed == hb::CheckStatus::alert);
    CHECK(state->checks[0].bad_since == std::optional<TimePoint>(k_t0 - 30min));
    CHECK(state->checks[0].last_message == "connection refused");

    CHECK_FALSE(store->target_state("globex"));
    const auto states = store->target_states();
    REQUIRE(states.size() == 1);
    CHECK(states.at("acme").health == Health::failing);
  }

  SECTION("a later state replaces the earlier one")
  {
    std::vector<ExecutionWrite> first{make_write("acme", k_t0, ExecStatus::alert)};
    store->record_executions(first);
    std::vector<ExecutionWrite> second{make_write("acme", k_t0 + 30min, ExecStatus::all_clear)};
    store->record_executions(second);
    const auto state = store->target_state("acme");
    REQUIRE(state);
    CHECK(state->health == Health::healthy);
    CHECK(state->last_execution_at == std::optional<TimePoint>(k_t0 + 30min));
    CHECK(state->last_status == std::optional<ExecStatus>(ExecStatus::all_clear));
  }

  SECTION("writes events, read back newest first")
  {
    auto first = make_write("acme", k_t0, ExecStatus::alert);
    first.events.push_back({0, "acme", k_t0 + 1s, hb::EventType::failing, "healthy", "failing",
                            "http: connection refused", true});
    auto second = make_write("acme", k_t0 + 30min, ExecStatus::all_clear);
    second.events.push_back({0, "acme", k_t0 + 30min + 1s, hb::EventType::recovered, "failing", "healthy",
                             "all checks pass", false});
    auto other = make_write("globex", k_t0 + 10min, ExecStatus::alert);
    other.events.push_back({0, "globex", k_t0 + 10min, hb::EventType::failing, "unknown", "failing", "down", false});
    std::vector<ExecutionWrite> writes{first, second, other};
    store->record_executions(writes);
    CHECK(writes[0].events[0].id > 0);

    const auto events = store->recent_events("acme", 10);
    REQUIRE(events.size() == 2);
    CHECK(to_string(events[0].type) == "recovered");
    CHECK(events[0].at == k_t0 + 30min + 1s);
    CHECK(events[0].old_state == "failing");
    CHECK(events[0].new_state == "healthy");
    CHECK(events[0].message == "all checks pass");
    CHECK_FALSE(events[0].in_grace);
    CHECK(to_string(events[1].type) == "failing");
    CHECK(events[1].in_grace);
    CHECK(events[1].message == "http: connection refused");

    const auto everything = store->recent_events("", 10);
    REQUIRE(everything.size() == 3);
    CHECK(everything[0].target_id == "acme");
    CHECK(everything[1].target_id == "globex");
    CHECK(everything[2].target_id == "acme");
    CHECK(store->recent_events("", 1).size() == 1);
  }

  SECTION("a batch is atomic: a failing write leaves nothing behind")
  {
    auto good = make_write("acme", k_t0, ExecStatus::alert);
    good.events.push_back({0, "acme", k_t0, hb::EventType::failing, "unknown", "failing", "down", false});
    auto bad = make_write("globex", k_t0, ExecStatus::all_clear);
    bad.execution.results.push_back(bad.execution.results[0]);  // duplicate check name
    std::vector<ExecutionWrite> writes{good, bad};
    CHECK_THROWS_AS(store->record_executions(writes), hb::StoreError);
    CHECK(store->recent_executions("acme", 10, WithResults::yes).empty());
    CHECK_FALSE(store->target_state("acme"));
    CHECK(store->recent_events("", 10).empty());
    CHECK(count_rows(db_path(dir), "check_results") == 0);
  }

  SECTION("an empty batch is fine")
  {
    std::vector<ExecutionWrite> writes;
    CHECK_NOTHROW(store->record_executions(writes));
  }

  SECTION("metrics round-trip")
  {
    auto w = make_write("acme", k_t0, ExecStatus::all_clear);
    hb::Metric full{"time", 0.125, "s", "1", "2", 0.0, 10.5};
    hb::Metric bare;
    bare.name = "size";
    bare.value = 42;
    w.execution.results[0].metrics = {full, bare};
    std::vector<ExecutionWrite> writes{w};
    store->record_executions(writes);
    const auto recent = store->recent_executions("acme", 1, WithResults::yes);
    REQUIRE(recent.size() == 1);
    REQUIRE(recent[0].results.size() == 1);
    const auto& metrics = recent[0].results[0].metrics;
    REQUIRE(metrics.size() == 2);
    CHECK(metrics[0].name == "time");
    CHECK(metrics[0].value == 0.125);
    CHECK(metrics[0].unit == "s");
    CHECK(metrics[0].warn == "1");
    CHECK(metrics[0].crit == "2");
    CHECK(metrics[0].min == std::optional<double>(0.0));
    CHECK(metrics[0].max == std::optional<double>(10.5));
    CHECK(metrics[1].name == "size");
    CHECK(metrics[1].value == 42);
    CHECK(metrics[1].unit.empty());
    CHECK(metrics[1].warn.empty());
    CHECK_FALSE(metrics[1].min);
    CHECK_FALSE(metrics[1].max);
  }
}

// record_executions upserts check_states but never deletes the rows of checks that are no
// longer in the written state, so a removed check's state is read back forever.
TEST_CASE("SqliteStore::record_executions drops the states of removed checks")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({make_target("acme", "Acme", {"http", "disk"})}, k_t0);

  SECTION("the stored check states are the ones last written")
  {
    auto first = make_write("acme", k_t0, ExecStatus::all_clear);
    first.state.checks = {CheckState{"disk", hb::CheckStatus::ok, 0, 1, hb::CheckStatus::ok, {}, "ok"},
                          CheckState{"http", hb::CheckStatus::ok, 0, 1, hb::CheckStatus::ok, {}, "ok"}};
    std::vector<ExecutionWrite> writes{first};
    store->record_executions(writes);
    auto second = make_write("acme", k_t0 + 30min, ExecStatus::all_clear);
    second.state.checks = {CheckState{"http", hb::CheckStatus::ok, 0, 2, hb::CheckStatus::ok, {}, "ok"}};
    writes = {second};
    store->record_executions(writes);
    const auto state = store->target_state("acme");
    REQUIRE(state);
    REQUIRE(state->checks.size() == 1);
    CHECK(state->checks[0].check_name == "http");
  }
}

TEST_CASE("SqliteStore::execution_stats")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
  std::vector<ExecutionWrite> writes{make_write("acme", k_t0 - 25h, ExecStatus::alert),
                                     make_write("acme", k_t0 - 2h, ExecStatus::all_clear),
                                     make_write("acme", k_t0 - 1h, ExecStatus::warning),
                                     make_write("acme", k_t0, ExecStatus::error),
                                     make_write("globex", k_t0 - 30h, ExecStatus::alert)};
  store->record_executions(writes);

  SECTION("counts executions and failures since a time")
  {
    const auto stats = store->execution_stats(k_t0 - 24h);
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].target_id == "acme");
    CHECK(stats[0].executions == 3);
    CHECK(stats[0].failures == 2);
  }

  SECTION("the window start is inclusive")
  {
    const auto stats = store->execution_stats(k_t0 - 2h);
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].executions == 3);
    CHECK(store->execution_stats(k_t0 - 2h + 1ms)[0].executions == 2);
  }

  SECTION("everything")
  {
    auto stats = store->execution_stats(k_t0 - 1000h);
    std::sort(stats.begin(), stats.end(),
              [](const ExecutionStats& a, const ExecutionStats& b) { return a.target_id < b.target_id; });
    REQUIRE(stats.size() == 2);
    CHECK(stats[0].executions == 4);
    CHECK(stats[0].failures == 3);
    CHECK(stats[1].target_id == "globex");
    CHECK(stats[1].executions == 1);
    CHECK(stats[1].failures == 1);
  }
}

TEST_CASE("SqliteStore pulses")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);

  PulseRecord p;
  p.owner = "host:1:abc";
  p.started_at = k_t0;
  p.interval = 5min;
  p.deadline = 2min;
  p.next_expected = k_t0 + 5min;

  SECTION("no pulse yet")
  {
    CHECK_FALSE(store->last_pulse());
    CHECK_FALSE(store->last_finished_pulse());
  }

  SECTION("begin_pulse records a running pulse")
  {
    const auto id = store->begin_pulse(p);
    CHECK(id > 0);
    const auto last = store->last_pulse();
    REQUIRE(last);
    CHECK(last->id == id);
    CHECK(last->owner == "host:1:abc");
    CHECK(to_string(last->status) == "running");
    CHECK(last->started_at == k_t0);
    CHECK_FALSE(last->completed_at);
    CHECK(last->interval == 5min);
    CHECK(last->deadline == 2min);
    CHECK(last->next_expected == k_t0 + 5min);
    CHECK_FALSE(store->last_finished_pulse());
  }

  SECTION("finish_pulse records the outcome")
  {
    p.id = store->begin_pulse(p);
    p.completed_at = k_t0 + 3s;
    p.status = hb::PulseStatus::error;
    p.targets_total = 5;
    p.targets_due = 4;
    p.targets_run = 3;
    p.targets_held = 1;
    p.checks_run = 9;
    p.errors = 2;
    p.message = "2 checks failed internally";
    p.next_expected = k_t0 + 5min + 3s;
    store->finish_pulse(p);
    const auto last = store->last_finished_pulse();
    REQUIRE(last);
    CHECK(last->id == p.id);
    CHECK(last->completed_at == std::optional<TimePoint>(k_t0 + 3s));
    CHECK(to_string(last->status) == "error");
    CHECK(last->targets_total == 5);
    CHECK(last->targets_due == 4);
    CHECK(last->targets_run == 3);
    CHECK(last->targets_held == 1);
    CHECK(last->checks_run == 9);
    CHECK(last->errors == 2);
    CHECK(last->message == "2 checks failed internally");
    CHECK(last->next_expected == k_t0 + 5min + 3s);
  }

  SECTION("finish_pulse releases the claims its owner still holds, and only those")
  {
    store->sync_targets({make_target("a", "A"), make_target("b", "B")}, k_t0);
    p.id = store->begin_pulse(p);
    store->claim_targets({"a"}, p.owner, k_t0, k_t0 + 3min, always_due);
    store->claim_targets({"b"}, "someone else", k_t0, k_t0 + 3min, always_due);
    p.completed_at = k_t0 + 3s;
    p.status = hb::PulseStatus::ok;
    store->finish_pulse(p);
    const auto next = store->claim_targets({"a", "b"}, "next", k_t0 + 4s, k_t0 + 3min, always_due);
    CHECK(next.claimed == std::vector<std::string>{"a"});
    CHECK(next.held == std::vector<std::string>{"b"});
  }

  SECTION("last_pulse is the latest started, last_finished_pulse the latest finished")
  {
    p.id = store->begin_pulse(p);
    p.completed_at = k_t0 + 3s;
    p.status = hb::PulseStatus::ok;
    store->finish_pulse(p);
    PulseRecord running = p;
    running.started_at = k_t0 + 5min;
    running.completed_at.reset();
    running.id = store->begin_pulse(running);
    CHECK(store->last_pulse()->id == running.id);
    CHECK(to_string(store->last_pulse()->status) == "running");
    CHECK(store->last_finished_pulse()->id == p.id);
    CHECK(to_string(store->last_finished_pulse()->status) == "ok");
  }
}
