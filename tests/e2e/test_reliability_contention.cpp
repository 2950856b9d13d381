// SPDX-License-Identifier: MIT
// Contention (SPEC §5, §7): a hundred tools started in the same instant against one database all
// succeed, none loses a write, and the database stays consistent.
#include "e2e_helpers.hpp"
#include "reliability_helpers.hpp"

#include <chrono>
#include <thread>

#include <sys/stat.h>

using namespace hb::test;
using nlohmann::json;

namespace {

// Ten agents, three targets with a command check, a job.
constexpr int k_storm_agents = 10;
std::string storm_config()
{
  json targets = json::array();
  for (int i = 0; i < k_storm_agents; ++i) {
    targets.push_back({{"id", fmt::format("agent-{}", i)}, {"kind", "agent"}});
  }
  for (int i = 0; i < 3; ++i) {
    targets.push_back(
        {{"id", fmt::format("web-{}", i)},
         {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}});
  }
  targets.push_back({{"id", "job"}, {"kind", "job"}});
  return json{{"targets", targets}}.dump(2);
}

struct Storm {
  int failures = 0;   // tools that failed, or said "locked" or "busy"
  int beats_sent = 0; // plain beats among them
  int runs_sent = 0;  // wrapped job runs among them
};

// Starts 100 tools at `db` (storm_config()) before waiting for any: 60 beats, 15 wrapped job
// runs, 15 forced pulses and 10 hb-status, interleaved. Writers must exit 0; hb-status reads
// whatever it finds (no database yet: 3; targets not run yet), never a database error. Their
// output goes to `scratch`.
Storm storm(const Workspace& ws, const std::string& db, const std::filesystem::path& scratch)
{
  struct Started {
    std::string tool;
    pid_t pid;
    std::filesystem::path out;
    std::filesystem::path err;
  };
  std::filesystem::create_directories(scratch);
  Storm out;
  std::vector<Started> started;
  for (int i = 0; i < 100; ++i) {
    const int slot = i % 20;
    Started s;
    std::vector<std::string> args{"--config", ws.config, "--db", db};
    if (slot < 12) {
      s.tool = "hb-beat";
      args.insert(args.end(), {fmt::format("agent-{}", i % k_storm_agents), "--metric",
                               fmt::format("storm={}", i)});
      ++out.beats_sent;
    } else if (slot < 15) {
      s.tool = "hb-beat";
      args.insert(args.end(), {"job", "--", "/bin/true"});
      ++out.runs_sent;
    } else if (slot < 18) {
      s.tool = "hb-pulse";
      args.insert(args.end(), {"--force", "--json"});
    } else {
      s.tool = "hb-status";
      args.push_back("--json");
    }
    s.out = scratch / fmt::format("{}-{}.out", i, s.tool);
    s.err = scratch / fmt::format("{}-{}.err", i, s.tool);
    s.pid = spawn_in_group(s.tool, args, {}, s.out, s.err);
    started.push_back(std::move(s));
  }
  std::vector<std::filesystem::path> reports;
  for (const auto& s : started) {
    const int code = reap(s.pid);
    const std::string err = read_file(s.err);
    const bool contended =
        err.find("locked") != std::string::npos || err.find("busy") != std::string::npos;
    const bool ok = s.tool == "hb-status" ? code >= 0 && code <= 3 : code == 0;
    if (!ok || contended) {
      ++out.failures;
      UNSCOPED_INFO(s.tool << " exited " << code << ": " << err);
    } else if (s.tool == "hb-status") {
      reports.push_back(s.out);
    }
  }
  // Once the storm is over, so that the validator is no part of it.
  check_status_schema_files(reports);
  return out;
}

// What a storm must leave: the current schema, every beat and run, a whole database.
void check_after_storm(const std::string& db, const Storm& storm, long long beats_before,
                       long long runs_before)
{
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  CHECK(database.execAndGet("PRAGMA user_version").getInt() ==
        hb::store::sqlite::sqlite_schema_version());
  CHECK(database.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(database.execAndGet("SELECT count(*) FROM beats").getInt64() ==
        beats_before + storm.beats_sent);
  CHECK(
      database.execAndGet("SELECT count(*) FROM job_runs WHERE status = 'succeeded'").getInt64() ==
      runs_before + storm.runs_sent);
  std::vector<Invariant> invariants = pulse_invariants();
  invariants.insert(invariants.end(), beat_invariants().begin(), beat_invariants().end());
  const auto problems = database_problems(db, invariants);
  for (const auto& p : problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(problems.empty());
}

// A copy of `db` as `VACUUM INTO` writes it (docs/operations.md's backup): in rollback-journal
// mode, as a database restored from such a backup is.
void restore_backup(const std::string& db, const std::string& copy)
{
  {
    SQLite::Database source(db, SQLite::OPEN_READWRITE);
    SQLite::Statement vacuum(source, "VACUUM INTO ?");
    vacuum.bind(1, copy);
    vacuum.exec();
  }
  // VACUUM INTO creates the file 0644, which the tools would warn about (rightly).
  std::filesystem::permissions(copy, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
  SQLite::Database restored(copy, SQLite::OPEN_READONLY);
  REQUIRE(restored.execAndGet("PRAGMA journal_mode").getString() == "delete");
}

} // namespace

TEST_CASE("reliability: contention: 100 tools started at once against one database all succeed",
          "[reliability]")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  constexpr int k_agents = 10;
  json targets = json::array();
  for (int i = 0; i < k_agents; ++i) {
    targets.push_back({{"id", fmt::format("agent-{}", i)}, {"kind", "agent"}});
  }
  for (int i = 0; i < 6; ++i) {
    targets.push_back({{"id", fmt::format("web-{}", i)},
                       {"checks",
                        {{{"name", "home"},
                          {"type", "http"},
                          {"url", server.url(i % 2 == 0 ? "/ok" : "/slow/20")}}}}});
  }
  targets.push_back({{"id", "job"}, {"kind", "job"}});
  ws.write_config(json{{"targets", targets}}.dump(2));

  // Everything healthy first, so that hb-status has one right answer during the storm: 0.
  REQUIRE(ws.pulse().exit_code == 0);
  for (int i = 0; i < k_agents; ++i) {
    REQUIRE(ws.beat({fmt::format("agent-{}", i)}).exit_code == 0);
  }
  REQUIRE(ws.beat({"job", "--", "/bin/true"}).exit_code == 0);
  {
    const auto before = ws.status();
    INFO("hb-status before the storm: " << before.out << before.err);
    REQUIRE(before.exit_code == 0);
  }
  const long long executions_before = ws.scalar("SELECT count(*) FROM executions");

  // 70 hb-beat (50 beats, 20 wrapped job runs), 15 hb-pulse and 15 hb-status, interleaved, all
  // started before any is waited for.
  struct Started {
    std::string tool;
    pid_t pid;
    std::filesystem::path out;
    std::filesystem::path err;
  };
  std::vector<Started> started;
  int beats_sent = 0;
  int runs_sent = 0;
  std::filesystem::create_directories(ws.dir / "storm");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    const int slot = i % 20;
    Started s;
    std::vector<std::string> args{"--config", ws.config, "--db", ws.db};
    if (slot < 10) {
      s.tool = "hb-beat";
      args.insert(args.end(),
                  {fmt::format("agent-{}", i % k_agents), "--metric", fmt::format("storm={}", i)});
      ++beats_sent;
    } else if (slot < 14) {
      s.tool = "hb-beat";
      args.insert(args.end(), {"job", "--", "/bin/true"});
      ++runs_sent;
    } else if (slot < 17) {
      s.tool = "hb-pulse";
      args.insert(args.end(), {"--force", "--json"});
    } else {
      s.tool = "hb-status";
      args.push_back("--json");
    }
    s.out = ws.dir / "storm" / fmt::format("{}-{}.out", i, s.tool);
    s.err = ws.dir / "storm" / fmt::format("{}-{}.err", i, s.tool);
    s.pid = spawn_in_group(s.tool, args, {}, s.out, s.err);
    started.push_back(std::move(s));
  }
  REQUIRE(beats_sent + runs_sent == 70);

  int failures = 0;
  long long processed = 0;
  std::vector<std::filesystem::path> reports;
  for (const auto& s : started) {
    const int code = reap(s.pid);
    const std::string out = read_file(s.out);
    const std::string err = read_file(s.err);
    const bool contended =
        err.find("locked") != std::string::npos || err.find("busy") != std::string::npos;
    if (code != 0 || contended) {
      ++failures;
      UNSCOPED_INFO(s.tool << " exited " << code << ": " << err);
      continue;
    }
    if (s.tool == "hb-pulse") {
      processed += json::parse(out).at("processed").get<long long>();
    } else if (s.tool == "hb-status") {
      reports.push_back(s.out);
      if (json::parse(out).at("exitCode") != 0) {
        ++failures;
        UNSCOPED_INFO("hb-status saw a problem: " << out);
      }
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("the storm took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms");
  CHECK(failures == 0);
  check_status_schema_files(reports);

  // No beat and no execution is lost; everything is whole.
  CHECK(ws.scalar("SELECT count(*) FROM beats") == k_agents + beats_sent);
  CHECK(ws.scalar("SELECT sum(s.beats) FROM beat_states s JOIN targets t ON t.id = s.target_id "
                  "WHERE t.kind = 'agent'") == k_agents + beats_sent);
  CHECK(ws.scalar("SELECT count(*) FROM job_runs WHERE status = 'succeeded'") == 1 + runs_sent);
  CHECK(ws.scalar("SELECT count(*) FROM executions") == executions_before + processed);
  CHECK(processed >= 6); // --force: at least one pulse ran every target
  CHECK(ws.scalar("SELECT count(*) FROM pulses WHERE status != 'ok'") == 0);
  CHECK(ws.scalar("SELECT count(*) FROM leases") == 0);
  std::vector<Invariant> invariants = pulse_invariants();
  invariants.insert(invariants.end(), beat_invariants().begin(), beat_invariants().end());
  const auto problems = database_problems(ws.db, invariants);
  for (const auto& p : problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(problems.empty());
  CHECK(ws.status().exit_code == 0);
}

TEST_CASE("reliability: contention: 100 tools started at once against a database that does not "
          "exist yet all succeed",
          "[reliability]")
{
  // Issue 11: ~1-5% of them failed with "database is locked" while the database was created.
  // Each round starts 100 tools at a database whose folder does not exist either: one creates
  // and migrates it, the others wait like any write.
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(storm_config());
  constexpr int k_rounds = k_sanitized ? 2 : 5;
  for (int round = 0; round < k_rounds; ++round) {
    INFO("round " << round);
    const auto folder = ws.dir / fmt::format("round-{}", round);
    const std::string db = (folder / "state" / "heartbeat.db").string();
    REQUIRE_FALSE(std::filesystem::exists(folder));
    const Storm result = storm(ws, db, ws.dir / fmt::format("storm-{}", round));
    CHECK(result.failures == 0);
    check_after_storm(db, result, 0, 0);
    struct stat st {};
    REQUIRE(::stat((folder / "state").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    if (result.failures != 0) {
      break;
    }
  }
}

TEST_CASE("reliability: contention: a database restored in rollback mode is switched to WAL "
          "while others write",
          "[reliability][sqlite]")
{
  // Switching to WAL takes the write lock from inside a read, and SQLite answers SQLITE_BUSY at
  // once, without the busy timeout, when another process holds it: the tools racing to switch
  // a new (or restored) database failed with exit 75 "database is locked". This holds the lock
  // for 0.5 s, deterministically; the tool must wait for it.
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(storm_config());
  REQUIRE(ws.beat({"agent-0"}).exit_code == 0);
  const std::string restored = (ws.dir / "restored.db").string();
  restore_backup(ws.db, restored);
  {
    SQLite::Database writer(restored, SQLite::OPEN_READWRITE);
    writer.exec("BEGIN IMMEDIATE");
    std::thread release([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      writer.exec("COMMIT");
    });
    const auto start = std::chrono::steady_clock::now();
    const auto beat = run_tool("hb-beat", {"--config", ws.config, "--db", restored, "agent-0"});
    const auto took = std::chrono::steady_clock::now() - start;
    release.join();
    INFO("hb-beat: " << beat.err);
    CHECK(beat.exit_code == 0);
    CHECK(beat.err.empty());
    CHECK(took >= std::chrono::milliseconds(400));
  }

  // And 100 tools at once at a freshly restored copy.
  const std::string again = (ws.dir / "again.db").string();
  restore_backup(ws.db, again);
  const Storm result = storm(ws, again, ws.dir / "storm");
  CHECK(result.failures == 0);
  check_after_storm(again, result, 1, 0);
}
