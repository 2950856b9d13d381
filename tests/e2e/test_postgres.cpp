// SPDX-License-Identifier: MIT
// What only a shared PostgreSQL database makes possible: moving a SQLite history into it with
// hb-migrate, and several runners sharing one fleet's pulse. Run in the PostgreSQL pass of the
// suite only (HB_TEST_DB=postgres, tag [postgres]).
#include "e2e_helpers.hpp"
#include "reliability_helpers.hpp"

#include "util/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <string>
#include <vector>

using namespace hb::test;
using json = nlohmann::json;

namespace {

const std::string k_t0 = "2026-03-02T10:00:00Z";

std::string at_minutes(double minutes)
{
  const auto t = *hb::util::parse_rfc3339(k_t0) +
                 std::chrono::milliseconds(static_cast<long long>(minutes * 60'000));
  return hb::util::format_rfc3339(t);
}

json http_target(const std::string& id, const std::string& url)
{
  return {{"id", id},
          {"interval", "5m"},
          {"checks", json::array({{{"name", "health"}, {"type", "http"}, {"timeout", "5s"},
                                   {"url", url}}})}};
}

// hb-status --json without what names the database: the same fleet read from two databases.
json without_location(json status)
{
  status.erase("database");
  return status;
}

} // namespace

TEST_CASE("hb-migrate copies a SQLite history into PostgreSQL, and the fleet carries on there",
          "[postgres]")
{
  TestHttpServer server;
  Workspace ws;  // its database is PostgreSQL in this pass
  const std::string sqlite_db = (ws.dir / "old.db").string();
  json config{{"targets", json::array({http_target("api", server.url("/ok")),
                                       http_target("web", server.url("/status/500")),
                                       {{"id", "worker"},
                                        {"kind", "agent"},
                                        {"heartbeat", {{"every", "1m"}}}}})},
              {"pulse", {{"interval", "5m"}}}};
  ws.write_config(config.dump(2));
  auto on_sqlite = [&](const std::string& tool, std::vector<std::string> args,
                       const std::string& now) {
    args.insert(args.begin(), {"--config", ws.config, "--db", sqlite_db});
    return run_tool(tool, args, {{"HB_NOW", now}});
  };
  // A day of history: pulses every 5 minutes, beats, a failing target (events, incidents).
  for (int minute = 0; minute < 24 * 60; minute += 5) {
    REQUIRE(on_sqlite("hb-pulse", {}, at_minutes(minute)).exit_code == 0);
    if (minute % 60 == 0) {
      REQUIRE(on_sqlite("hb-beat", {"worker"}, at_minutes(minute + 1)).exit_code == 0);
    }
  }
  // Half a minute off the beats' and pulses' whole minutes: the two hb-status runs below each
  // start their clock at HB_NOW and take their own time, and "no beat for 1h 1m" must not
  // depend on which of them crossed a minute first.
  const std::string later = at_minutes(24 * 60 + 2.5);
  const auto before = on_sqlite("hb-status", {"--json"}, later);
  REQUIRE(before.exit_code == 2);  // web fails

  SECTION("every table, whole; the same status read from either database")
  {
    const auto r = run_tool("hb-migrate",
                            {"--config", ws.config, "--from", sqlite_db, "--to", ws.db, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json copied = json::parse(r.out);
    CHECK(copied.at("tables").at("executions") == 2 * 24 * 12);
    CHECK(copied.at("tables").at("check_results") == 2 * 24 * 12);
    CHECK(copied.at("tables").at("beats") == 24);
    CHECK(copied.at("rows").get<long long>() > 4 * 24 * 12);
    CHECK(ws.scalar("SELECT count(*) FROM executions") == 2 * 24 * 12);
    // Vacuumed and analysed before autovacuum could have come by: the planner knows the rows.
    // (Not relallvisible: the test server commits asynchronously, and VACUUM marks no page
    // all-visible until those commits are flushed.)
    CHECK(ws.scalar("SELECT reltuples::bigint FROM pg_class WHERE oid = 'executions'::regclass")
          == 2 * 24 * 12);
    CHECK(ws.scalar("SELECT count(*) FROM pg_stat_user_tables WHERE relid = "
                    "'executions'::regclass AND last_vacuum IS NOT NULL "
                    "AND last_analyze IS NOT NULL")
          == 1);

    const auto after = ws.status({"--json"}, later);
    CHECK(after.exit_code == 2);
    CHECK(without_location(json::parse(after.out)) == without_location(json::parse(before.out)));

    // The fleet carries on: the next pulse and beat write after the copied rows.
    const json pulse = ws.pulse_json({}, at_minutes(24 * 60 + 5));
    CHECK(pulse.at("summary").at("ran") == 2);
    REQUIRE(ws.beat({"worker"}, at_minutes(24 * 60 + 5)).exit_code == 0);
    CHECK(ws.scalar("SELECT count(*) FROM executions") == 2 * 24 * 12 + 2);
    CHECK(ws.scalar("SELECT max(id) FROM executions")
          == ws.scalar("SELECT count(*) FROM executions"));

    // A second copy into the same database is refused: histories are never merged.
    const auto again =
      run_tool("hb-migrate", {"--config", ws.config, "--from", sqlite_db, "--to", ws.db});
    CHECK(again.exit_code == 65);
    CHECK_THAT(again.err, Catch::Contains("already holds heartbeat data"));
  }

  SECTION("a password in the location is used but never printed")
  {
    const std::string url = pg_server_url();
    const std::string with_password =
      "postgresql://hb_secret:s3cret-pg-pass" + url.substr(url.find('@'))
      + ws.db.substr(ws.db.find('?'));
    const auto r = run_tool("hb-migrate", {"--from", sqlite_db, "--to", with_password, "-v"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("hb_secret@127.0.0.1"));
    CHECK(r.out.find("s3cret-pg-pass") == std::string::npos);
    CHECK(r.err.find("s3cret-pg-pass") == std::string::npos);
  }

  SECTION("what it cannot do, it says, and copies nothing")
  {
    const auto missing = run_tool("hb-migrate", {"--from", (ws.dir / "none.db").string(),
                                                 "--to", ws.db});
    CHECK(missing.exit_code == 65);
    CHECK_THAT(missing.err, Catch::Contains("no heartbeat database at"));
    const auto backwards = run_tool("hb-migrate", {"--from", ws.db, "--to", sqlite_db});
    CHECK(backwards.exit_code == 64);
    CHECK_THAT(backwards.err, Catch::Contains("copies from a SQLite database to a PostgreSQL one"));
    const auto no_target = run_tool("hb-migrate", {"--from", sqlite_db});
    CHECK(no_target.exit_code == 64);
    CHECK(ws.text("SELECT to_regclass('executions') IS NULL") == "t");  // not even a schema
  }
}

TEST_CASE("scale-out: 4 runners share 10,000 targets, each run once per interval, none lost "
          "to a killed runner",
          "[postgres]")
{
  TestHttpServer server;
  Workspace ws;
  constexpr int k_targets = 10'000;
  constexpr int k_runners = 4;
  json targets = json::array();
  for (int i = 0; i < k_targets; ++i) {
    targets.push_back(http_target(fmt::format("t{:05}", i), server.url("/ok")));
  }
  ws.write_config(json{{"targets", targets},
                       {"pulse", {{"interval", "5m"}, {"deadline", "4m"}, {"concurrency", 32}}}}
                    .dump());
  // One sync of the config before the runners start, as a deployment would do.
  REQUIRE(ws.pulse({"--dry-run"}, at_minutes(0)).exit_code == 0);

  // Starts the runners at `now` together; returns their pids.
  auto start = [&](const std::string& now, int round) {
    std::vector<pid_t> pids;
    for (int i = 0; i < k_runners; ++i) {
      pids.push_back(spawn_tool("hb-pulse", {"--config", ws.config, "--db", ws.db, "--json"},
                                {{"HB_NOW", now}},
                                ws.dir / fmt::format("out-{}-{}.json", round, i),
                                ws.dir / fmt::format("err-{}-{}.txt", round, i)));
    }
    return pids;
  };
  auto runs_per_target_other_than = [&](int expected) {
    return ws.scalar(fmt::format("SELECT count(*) FROM (SELECT t.id FROM targets t LEFT JOIN "
                                 "executions e ON e.target_id = t.id GROUP BY t.id "
                                 "HAVING count(e.id) <> {}) x",
                                 expected));
  };

  // Rounds 10 minutes apart (the interval is 5): each tool's clock starts at HB_NOW and runs on,
  // so on a slow machine the last targets of a round are recorded a minute or more after it
  // began; they are due again at the next round all the same.
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    const auto pids = start(at_minutes(10 * round + 0.5), round);
    for (const pid_t pid : pids) {
      CHECK(wait_exit(pid) == 0);
    }
    // Every due target ran exactly once, by exactly one runner, and every runner took a share.
    CHECK(runs_per_target_other_than(round + 1) == 0);
    for (int i = 0; i < k_runners; ++i) {
      const json out = json::parse(read_file(ws.dir / fmt::format("out-{}-{}.json", round, i)));
      const int ran = out.at("summary").at("ran");
      INFO("runner " << i << " ran " << ran);
      CHECK(ran >= k_targets / k_runners / 4);
    }
  }

  // Round 3: one runner is killed mid-pulse. What it recorded is whole; what it claimed and had
  // not recorded stays claimed (no one runs it twice) until the lease passes, then runs.
  const std::string third = at_minutes(20.5);
  auto pids = start(third, 2);
  const auto round_start = *hb::util::parse_rfc3339(third);
  const long long since = hb::util::to_unix_ms(round_start);
  while (ws.scalar(fmt::format("SELECT count(*) FROM executions WHERE started_at >= {}", since))
         < k_targets / 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pids[0], SIGKILL);
  CHECK(wait_exit(pids[0]) == 128 + SIGKILL);
  for (std::size_t i = 1; i < pids.size(); ++i) {
    CHECK(wait_exit(pids[i]) == 0);
  }
  CHECK(database_problems(ws.db, pulse_invariants()).empty());
  const long long left = ws.scalar("SELECT count(*) FROM leases");
  INFO(left << " targets still claimed by the killed runner");
  CHECK(runs_per_target_other_than(3) == left);

  // One runner alone over the 10,000 targets, without run_tool's one-minute limit: on a loaded
  // machine walking them all takes longer than that.
  auto pulse_alone = [&](const std::string& now, const std::string& name) {
    const pid_t pid = spawn_tool("hb-pulse", {"--config", ws.config, "--db", ws.db, "--json"},
                                 {{"HB_NOW", now}}, ws.dir / (name + ".json"),
                                 ws.dir / (name + ".txt"));
    const int exit_code = wait_exit(pid);
    INFO(read_file(ws.dir / (name + ".txt")));
    REQUIRE(exit_code == 0);
    return json::parse(read_file(ws.dir / (name + ".json")));
  };
  // Before the lease passes, a new pulse leaves them alone (held) ... (3.5 minutes on: within
  // the interval of what the third round ran, past it for what the killed runner left)
  json held = pulse_alone(at_minutes(24), "held");
  CHECK(held.at("summary").at("held") == left);
  CHECK(runs_per_target_other_than(3) == left);
  // ... after it, they run: every target exactly three times, none twice in one interval.
  expire_claims(ws.db);
  const json picked_up = pulse_alone(at_minutes(24.5), "picked-up");
  CHECK(picked_up.at("summary").at("ran") == left);
  CHECK(runs_per_target_other_than(3) == 0);
  CHECK(database_problems(ws.db, pulse_invariants()).empty());
}

TEST_CASE("a PostgreSQL server that cannot be reached is exit 75 for every tool, nothing guessed",
          "[postgres]")
{
  Workspace ws;
  ws.write_config(json{{"targets", json::array({{{"id", "api"},
                                                 {"checks", json::array({{{"name", "port"},
                                                                          {"type", "tcp"},
                                                                          {"host", "127.0.0.1"},
                                                                          {"port", 9}}})}}})}}
                    .dump());
  // The suite server's port plus one: nobody listens there.
  const std::string url = pg_server_url();
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const std::string dead =
    fmt::format("postgresql://hb:not-shown@127.0.0.1:{}/heartbeat?connect_timeout=2", port + 1);
  for (const std::string tool : {"hb-pulse", "hb-status", "hb-beat", "hb-recover", "hb-diagnose"}) {
    std::vector<std::string> args{"--config", ws.config, "--db", dead};
    if (tool == "hb-beat") {
      args.push_back("api");
    }
    const auto r = run_tool(tool, args);
    INFO(tool << ": " << r.out << r.err);
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err, Catch::Contains("cannot connect") && Catch::Contains("try again"));
    CHECK(r.err.find("not-shown") == std::string::npos);
    CHECK(r.out.find("not-shown") == std::string::npos);
  }
}
