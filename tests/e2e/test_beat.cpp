// SPDX-License-Identifier: MIT
// End-to-end tests of hb-beat: agents pushing beats, jobs wrapped by it, and what hb-pulse and
// hb-status make of them, replayed on a timeline with HB_NOW.
#include "e2e_helpers.hpp"

#include "store/store.hpp"

#include "util/time.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

using namespace hb::test;
using nlohmann::json;

namespace {

std::string config_with(json targets) { return json{{"targets", std::move(targets)}}.dump(2); }

json agent(const std::string& id, json heartbeat = json::object())
{
  json t{{"id", id}, {"kind", "agent"}};
  if (!heartbeat.empty()) {
    t["heartbeat"] = std::move(heartbeat);
  }
  return t;
}

json job(const std::string& id, json heartbeat = json::object(), json extra = json::object())
{
  json t{{"id", id}, {"kind", "job"}};
  if (!heartbeat.empty()) {
    t["heartbeat"] = std::move(heartbeat);
  }
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

json row(const json& status, const std::string& id)
{
  for (const auto& t : status.at("targets")) {
    if (t.at("id") == id) {
      return t;
    }
  }
  FAIL("no row for target " << id);
  return {};
}

// True while `pid` runs (a zombie nobody has reaped yet counts as gone).
bool process_exists(pid_t pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) {
    return false;
  }
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

} // namespace

TEST_CASE("hb-beat: an agent's timeline of beats, silence and recovery")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({agent("worker")}));
  // The agent beats before any pulse ran: hb-beat syncs the config itself.
  auto r = ws.beat({"worker", "--metric", "cpu=45%", "--metric", "mem=61%"}, "2026-03-02T12:00:00Z");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  r = ws.beat({"worker", "-m", "steady"}, "2026-03-02T12:00:30Z");
  REQUIRE(r.exit_code == 0);

  auto s = ws.status_json({}, "2026-03-02T12:00:40Z");
  auto w = row(s, "worker");
  CHECK(w["agent"]["state"] == "online");
  CHECK(w["agent"]["lastSeen"] == "2026-03-02T12:00:30Z");
  CHECK(w["agent"]["missedBeats"] == 0);
  CHECK(w["agent"]["metrics"].empty());  // the last beat carried none
  CHECK(s["counts"]["agents"] == json{{"total", 1}, {"online", 1}, {"degraded", 0}, {"offline", 0}, {"unknown", 0}});

  // Silence. 12:01:05: one beat missed (due 12:01:00, grace 3 s): degraded.
  s = ws.status_json({}, "2026-03-02T12:01:05Z");
  CHECK(row(s, "worker")["agent"]["state"] == "degraded");
  CHECK(row(s, "worker")["agent"]["missedBeats"] == 1);
  CHECK(s["exitCode"] == 1);
  // 12:02:10: three missed: offline and stale; hb-pulse records it although the agent never called.
  auto p = ws.pulse_json({}, "2026-03-02T12:02:10Z");
  // hb-status only showed degraded: hb-pulse records both transitions, dated when they happened.
  REQUIRE(p["beatEvents"].size() == 2);
  CHECK(p["beatEvents"][0]["to"] == "degraded");
  CHECK(p["beatEvents"][0]["at"] == "2026-03-02T12:01:03Z");
  CHECK(p["beatEvents"][1]["to"] == "offline");
  CHECK(p["beatEvents"][1]["at"] == "2026-03-02T12:02:03Z");
  s = ws.status_json({}, "2026-03-02T12:02:15Z");
  w = row(s, "worker");
  CHECK(w["agent"]["state"] == "offline");
  CHECK(w["health"] == "failing");
  CHECK(w["agent"]["issues"][0]["type"] == "stale");
  CHECK(s["exitCode"] == 2);
  // Five minutes offline: extended_offline.
  s = ws.status_json({}, "2026-03-02T12:07:10Z");
  auto issues = row(s, "worker")["agent"]["issues"];
  REQUIRE(issues.size() == 2);
  CHECK(issues[1]["type"] == "extended_offline");

  // Back: the first healthy beat is not enough, the second is.
  REQUIRE(ws.beat({"worker"}, "2026-03-02T12:08:00Z").exit_code == 0);
  CHECK(row(ws.status_json({}, "2026-03-02T12:08:05Z"), "worker")["agent"]["state"] == "offline");
  r = ws.beat({"worker", "--json"}, "2026-03-02T12:08:30Z");
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  CHECK(out["state"] == "online");
  REQUIRE(out["events"].size() == 1);
  CHECK(out["events"][0]["from"] == "offline");
  CHECK(ws.status({}, "2026-03-02T12:08:35Z").exit_code == 0);

  // Every transition is an event with old and new state, in order.
  std::vector<std::string> seen;
  for (const auto& row : ws.rows("SELECT type, old_state, new_state FROM events "
                                 "WHERE target_id = 'worker' ORDER BY at, id")) {
    seen.push_back(row[0] + ":" + row[1] + "->" + row[2]);
  }
  CHECK(seen == std::vector<std::string>{"agent_online:unknown->online", "agent_degraded:online->degraded",
                                         "agent_offline:degraded->offline", "agent_online:offline->online"});
  CHECK(ws.scalar("SELECT count(*) FROM beats WHERE target_id = 'worker'") == 4);

  // hb-status TARGET shows the agent in depth.
  const auto detail_text = ws.status({"worker", "--color", "never"}, "2026-03-02T12:08:40Z");
  CHECK(detail_text.exit_code == 0);
  CHECK(detail_text.out.find("agent: online") != std::string::npos);
  CHECK(detail_text.out.find("last seen: 10s ago; missed beats: 0") != std::string::npos);
  CHECK(detail_text.out.find("recent beats:") != std::string::npos);
}

TEST_CASE("hb-beat: degraded and failing beats, and the status table")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({agent("a"), agent("b"), agent("c")}));
  REQUIRE(ws.beat({"a"}, "2026-03-02T12:00:00Z").exit_code == 0);
  REQUIRE(ws.beat({"b", "--status", "degraded", "--message", "queue backing up", "--metric", "queue=1200"}, "2026-03-02T12:00:00Z").exit_code == 0);
  REQUIRE(ws.beat({"c", "-s", "failing", "-m", "disk full"}, "2026-03-02T12:00:00Z").exit_code == 0);
  const auto r = ws.status({"--color", "never"}, "2026-03-02T12:00:10Z");
  INFO(r.out);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("agents: 3 total, 1 online, 1 degraded, 1 offline") != std::string::npos);
  CHECK(r.out.find("seen 10s ago") != std::string::npos);
  CHECK(r.out.find("queue=1200") != std::string::npos);
  CHECK(r.out.find("degraded_performance: agent reports degraded") != std::string::npos);
  const auto s = ws.status_json({}, "2026-03-02T12:00:10Z");
  CHECK(row(s, "b")["agent"]["metrics"]["queue"] == 1200);
  CHECK(row(s, "c")["agent"]["lastMessage"] == "disk full");
}

TEST_CASE("hb-beat: bad input is refused with the documented exit code, nothing recorded")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({agent("worker"), json{{"id", "api"}}}));
  REQUIRE(ws.pulse().exit_code == 0);

  auto r = ws.beat({"ghost"});
  CHECK(r.exit_code == 65);
  CHECK(r.err == "hb-beat: error: unknown target \"ghost\": it is not in the database (targets in "
                 "the config are synced by hb-pulse; pass --create to create it from this beat)\n");
  r = ws.beat({"api"});
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("takes no beats") != std::string::npos);
  r = ws.beat({"worker", "--metric", "cpu=lots"});
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("--metric: metric \"cpu\": expected a number") != std::string::npos);
  r = ws.beat({"worker", "--status", "sideways"});
  CHECK(r.exit_code == 64);
  r = ws.beat({"Not An Id"});
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("invalid target id \"Not An Id\"") != std::string::npos);
  r = ws.beat({"worker", "--timeout", "5s"});
  CHECK(r.exit_code == 64);
  r = ws.beat({"worker", "--"});
  CHECK(r.exit_code == 64);
  CHECK(ws.scalar("SELECT count(*) FROM beats") == 0);

  // --create makes an agent the config does not declare; the next pulse keeps it.
  r = ws.beat({"ghost", "--create"});
  CHECK(r.exit_code == 0);
  REQUIRE(ws.pulse().exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM targets WHERE id = 'ghost' AND retired_at IS NULL") == 1);

  // A huge message is capped, invalid UTF-8 replaced.
  r = ws.beat({"worker", "--message", std::string(100000, 'x') + "\xff"});
  CHECK(r.exit_code == 0);
  CHECK(ws.scalar("SELECT length(message) FROM beats WHERE target_id = 'worker'") <= 1024);
}

TEST_CASE("hb-beat wraps a job: exit code, output, duration")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({job("backup")}));

  auto r = ws.beat({"backup", "--", "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.out == "to-stdout\n");  // passed through, on the right stream
  CHECK(r.err.find("to-stderr\n") != std::string::npos);
  CHECK(ws.text("SELECT status FROM job_runs") == "failed");
  CHECK(ws.scalar("SELECT exit_code FROM job_runs") == 3);
  CHECK(ws.text("SELECT output_tail FROM job_runs") == "to-stdout\nto-stderr\n");
  CHECK(ws.text("SELECT message FROM job_runs") == "exited with code 3: to-stderr");
  CHECK(ws.text("SELECT state FROM beat_states") == "failed");

  // The tail keeps the last 20 lines, capped in size.
  r = ws.beat({"backup", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 500 ]; do echo line $i; i=$((i+1)); done"});
  CHECK(r.exit_code == 0);
  const auto tail = ws.text("SELECT output_tail FROM job_runs ORDER BY id DESC LIMIT 1");
  CHECK(tail.rfind("line 480\n", 0) == 0);
  CHECK(tail.find("line 499\n") != std::string::npos);
  CHECK(ws.text("SELECT state FROM beat_states") == "ok");
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'job_recovered'") == 1);
  CHECK(ws.scalar("SELECT completed_at - started_at >= 0 FROM job_runs ORDER BY id DESC LIMIT 1") == 1);

  // A real Nagios plugin as the job: its exit code passes through.
  if (has_plugin("check_dummy")) {
    r = ws.beat({"backup", "--", plugin("check_dummy"), "2", "broken"});
    CHECK(r.exit_code == 2);
    CHECK(r.out == "CRITICAL: broken\n");
  }

  // Not found / not executable: the shell's 127 / 126, recorded as failed.
  r = ws.beat({"backup", "--", "/nonexistent/backup"});
  CHECK(r.exit_code == 127);
  CHECK(ws.text("SELECT status FROM job_runs ORDER BY id DESC LIMIT 1") == "failed");
  ws.dir.write("not-executable", "#!/bin/sh\n");
  r = ws.beat({"backup", "--", (ws.dir / "not-executable").string()});
  CHECK(r.exit_code == 126);

  const auto detail_text = ws.status({"backup", "--color", "never"});
  CHECK(detail_text.out.find("recent runs:") != std::string::npos);

  // Secrets on the command line are not stored; the job gets them unchanged.
  r = ws.beat({"backup", "--", "/bin/echo", "--password=hunter2", "--token", "t0ps3cret",
               "https://user:pa55@example.com/x", "plain"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "--password=hunter2 --token t0ps3cret https://user:pa55@example.com/x plain\n");
  const auto stored = ws.text("SELECT command FROM job_runs ORDER BY id DESC LIMIT 1");
  CHECK(stored.find("hunter2") == std::string::npos);
  CHECK(stored.find("t0ps3cret") == std::string::npos);
  CHECK(stored.find("pa55") == std::string::npos);
  CHECK(stored.find("plain") != std::string::npos);

  // Escape sequences in the job's output do not reach the terminal through hb-status.
  r = ws.beat({"backup", "--", "/usr/bin/printf", "\033[2Jcleared\n"});
  CHECK(r.exit_code == 0);
  const auto shown = ws.status({"backup", "--color", "never"});
  CHECK(shown.out.find("\033[2J") == std::string::npos);
  CHECK(shown.out.find("cleared") != std::string::npos);
}

TEST_CASE("hb-beat: a job that outlives --timeout is killed with its process group, exit 124")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({job("slow")}));
  const auto pid_file = ws.dir / "grandchild.pid";
  const auto start = std::chrono::steady_clock::now();
  const auto r = ws.beat({"slow", "--timeout", "500ms", "--", "/bin/sh", "-c",
                          "sleep 30 & echo $! > \"$0\"; wait", pid_file.string()});
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  CHECK(r.exit_code == 124);
  CHECK(ws.text("SELECT status FROM job_runs") == "timed_out");
  CHECK(ws.scalar("SELECT exit_code FROM job_runs") == 124);
  REQUIRE(wait_for_file(pid_file, std::chrono::milliseconds(100)));
  const pid_t grandchild = std::stoi(read_file(pid_file));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(process_exists(grandchild));
}

TEST_CASE("hb-beat passes signals on to the job and records how it ended")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({job("worker-job")}));
  const auto ready = ws.dir / "ready";
  const pid_t pid = spawn_tool(
    "hb-beat",
    {"--config", ws.config, "--db", ws.db, "worker-job", "--", "/bin/sh", "-c",
     "trap 'echo got TERM; exit 42' TERM; echo up > \"$0\"; while :; do sleep 0.05; done",
     ready.string()},
    {}, ws.dir / "out", ws.dir / "err");
  REQUIRE(wait_for_file(ready, std::chrono::milliseconds(5000)));
  ::kill(pid, SIGTERM);
  CHECK(wait_exit(pid) == 42);  // the job chose its exit code; hb-beat passed it on
  CHECK(read_file(ws.dir / "out") == "got TERM\n");
  CHECK(ws.text("SELECT status FROM job_runs") == "failed");
  CHECK(ws.scalar("SELECT exit_code FROM job_runs") == 42);

  // A job killed by a signal: 128 + signal, recorded.
  const auto r = ws.beat({"worker-job", "--", "/bin/sh", "-c", "kill -KILL $$"});
  CHECK(r.exit_code == 137);
  CHECK(ws.text("SELECT message FROM job_runs ORDER BY id DESC LIMIT 1") == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("hb-beat: the job runs even when it cannot be recorded, or heartbeat is switched off")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({job("known")}));
  const auto marker = ws.dir / "ran";
  auto r = ws.beat({"unknown-job", "--", "/bin/sh", "-c", "touch \"$0\"; exit 5", marker.string()});
  CHECK(r.exit_code == 5);
  CHECK(std::filesystem::exists(marker));
  CHECK(r.err.find("unknown target \"unknown-job\"") != std::string::npos);
  CHECK(r.err.find("running the job anyway, unrecorded") != std::string::npos);

  std::filesystem::remove(marker);
  r = ws.beat({"known", "--", "/bin/sh", "-c", "touch \"$0\"; exit 4", marker.string()}, "",
              {{"HEARTBEAT_ENABLED", "false"}});
  CHECK(r.exit_code == 4);
  CHECK(std::filesystem::exists(marker));
  CHECK(ws.scalar("SELECT count(*) FROM job_runs") == 0);

  // A plain beat with heartbeat switched off does nothing.
  Workspace fresh;
  fresh.write_config(config_with({agent("a")}));
  r = fresh.beat({"a"}, "", {{"HEARTBEAT_ENABLED", "false"}});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(fresh.db));
}

TEST_CASE("hb-beat: a scheduled job that is late, then hung, then fine")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({job("nightly", {{"schedule", "0 3 * * *"}, {"grace", "30m"}, {"max_runtime", "2h"}},
                                   {{"timezone", "America/New_York"}})}));
  // First seen 2026-03-02 10:00 New York (15:00Z).
  REQUIRE(ws.pulse({}, "2026-03-02T15:00:00Z").exit_code == 0);
  // The 03:00 run (08:00Z) on the 3rd succeeds.
  auto r = ws.beat({"nightly", "--", "/bin/true"}, "2026-03-03T08:00:02Z");
  REQUIRE(r.exit_code == 0);
  // hb-pulse runs all along (every 5 minutes in real life): a pulse just before each look.
  auto look = [&](const std::string& now) {
    const auto before = hb::util::format_rfc3339(*hb::util::parse_rfc3339(now) - std::chrono::minutes(1));
    REQUIRE(ws.pulse({}, before).exit_code == 0);
    return ws.status_json({}, now);
  };
  auto s = look("2026-03-03T12:00:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "ok");
  CHECK(row(s, "nightly")["job"]["nextExpected"] == "2026-03-04T08:00:00Z");
  CHECK(s["exitCode"] == 0);

  // The 4th: no run by 03:30 New York -> late.
  s = look("2026-03-04T08:29:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "ok");
  s = look("2026-03-04T08:31:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "late");
  CHECK(row(s, "nightly")["job"]["issues"][0]["type"] == "late");
  CHECK(s["exitCode"] == 2);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'job_late'") == 1);

  // A run starts at 08:40Z and its wrapper is killed outright: never finishes.
  const auto ready = ws.dir / "ready";
  const pid_t pid = spawn_tool("hb-beat",
                               {"--config", ws.config, "--db", ws.db, "nightly", "--", "/bin/sh", "-c",
                                "echo up > \"$0\"; exec sleep 30", ready.string()},
                               {{"HB_NOW", "2026-03-04T08:40:00Z"}}, ws.dir / "out", ws.dir / "err");
  REQUIRE(wait_for_file(ready, std::chrono::milliseconds(5000)));
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  ::kill(-pid, SIGKILL);  // the orphaned job, in its own process group... if hb-beat made one
  s = ws.status_json({}, "2026-03-04T09:00:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "running");
  CHECK(s["counts"]["jobs"]["running"] == 1);
  s = ws.status_json({}, "2026-03-04T10:41:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "hung");
  CHECK(row(s, "nightly")["job"]["issues"][0]["type"] == "hung");
  // hb-status only shows it; the next pulse records it.
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'job_hung'") == 0);
  REQUIRE(ws.pulse({}, "2026-03-04T10:41:00Z").exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'job_hung'") == 1);

  // The next night's run succeeds: recovered.
  REQUIRE(ws.beat({"nightly", "--", "/bin/true"}, "2026-03-05T08:00:01Z").exit_code == 0);
  s = look("2026-03-05T08:05:00Z");
  CHECK(row(s, "nightly")["job"]["state"] == "ok");
  CHECK(s["exitCode"] == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'job_recovered'") == 1);
}

TEST_CASE("hb-beat: 50 concurrent processes lose no beat")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  json agents = json::array();
  for (int i = 0; i < 10; ++i) {
    agents.push_back(agent("agent-" + std::to_string(i)));
  }
  ws.write_config(config_with(agents));
  REQUIRE(ws.pulse().exit_code == 0);
  constexpr int k_processes = 50;
  constexpr int k_rounds = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < k_processes; ++p) {
    threads.emplace_back([&, p] {
      for (int round = 0; round < k_rounds; ++round) {
        const auto r = ws.beat({"agent-" + std::to_string(p % 10), "--metric", "round=" + std::to_string(round)});
        if (r.exit_code != 0) {
          ++failures;
          UNSCOPED_INFO("beat failed: " << r.err);
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(failures == 0);
  CHECK(ws.scalar("SELECT count(*) FROM beats") == k_processes * k_rounds);
  CHECK(ws.scalar("SELECT sum(beats) FROM beat_states") == k_processes * k_rounds);
}

TEST_CASE("hb-beat and hb-status start without loading libcurl or libpq")
{
  // libcurl and its ~40 dependencies are opened on the first HTTP request only (util/http.cpp),
  // and libpq on the first postgresql:// connection (store/postgres/libpq_api.cpp): a beat must
  // stay cheap enough for hundreds per second. glibc's loader lists what it loads.
  Workspace ws;
  ws.write_config(config_with(json::array(
      {agent("a1"),
       json{{"id", "web"},
            {"checks", json::array({json{{"name", "home"},
                                         {"type", "http"},
                                         {"url", "http://127.0.0.1:1/"}}})}}})));
  REQUIRE(ws.beat({"a1"}).exit_code == 0); // the first beat syncs the config

  const std::map<std::string, std::string> debug{{"LD_DEBUG", "libs"}};
  const auto beat = ws.beat({"a1"}, "", debug);
  CHECK(beat.exit_code == 0);
  CHECK(beat.err.find("calling init:") != std::string::npos); // the loader did report
  CHECK(beat.err.find("libcurl") == std::string::npos);
  const auto status = ws.status({}, "", debug);
  CHECK(status.err.find("calling init:") != std::string::npos);
  CHECK(status.err.find("libcurl") == std::string::npos);
  // libpq is loaded exactly when the database is PostgreSQL.
  const bool libpq_loaded = status.err.find("libpq.so.5") != std::string::npos;
  CHECK(libpq_loaded == ws.on_postgres());
  CHECK((beat.err.find("libpq.so.5") != std::string::npos) == ws.on_postgres());

  // A pulse with an HTTP check does load it, and the check runs.
  const auto pulse = ws.pulse({}, "", debug);
  CHECK(pulse.err.find("libcurl.so.4") != std::string::npos);
  CHECK(ws.scalar("SELECT COUNT(*) FROM check_results") == 1);
}

TEST_CASE("hb-status writes nothing: silence is shown, hb-pulse records it")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({agent("worker")}));
  REQUIRE(ws.beat({"worker"}, "2026-03-02T12:00:00Z").exit_code == 0);
  auto events = [&] {
    auto store = hb::store::open_store(ws.db, hb::store::OpenMode::existing);
    return store->recent_events("worker", 10);
  };
  REQUIRE(events().size() == 1);  // agent_online

  // Five minutes of silence: offline, as hb-status shows it, but it records no event.
  auto s = ws.status_json({}, "2026-03-02T12:05:00Z");
  CHECK(row(s, "worker")["agent"]["state"] == "offline");
  CHECK(ws.status({"worker"}, "2026-03-02T12:05:00Z").exit_code == 2);
  CHECK(events().size() == 1);

  // hb-pulse records the transitions, dated when they happened.
  auto p = ws.pulse_json({}, "2026-03-02T12:05:10Z");
  REQUIRE(p["beatEvents"].size() == 2);
  const auto recorded = events();
  REQUIRE(recorded.size() == 3);
  CHECK(hb::to_string(recorded[0].type) == "agent_offline");
  CHECK(hb::util::format_rfc3339(recorded[0].at) == "2026-03-02T12:01:33Z");
}

TEST_CASE("hb-beat warns when the last pulse is stale, and not when it is fresh")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({agent("worker"), job("backup")}));
  REQUIRE(ws.pulse({}, "2026-03-02T12:00:00Z").exit_code == 0);  // every 5m by default

  // 4 minutes later the pulse is fresh: a beat says nothing.
  auto r = ws.beat({"worker"}, "2026-03-02T12:04:00Z");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  // Past 1.5 × 5m the scheduler has stopped running hb-pulse: every beat says so on stderr.
  r = ws.beat({"worker"}, "2026-03-02T12:30:00Z");
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err == "hb-beat: warning: system pulse is warning: last pulse 30m ago, expected every "
                 "5m: is the scheduler still running hb-pulse?\n");
  // ... and so does a wrapped job, whose exit code stays its own.
  r = ws.beat({"backup", "--", "/bin/sh", "-c", "exit 3"}, "2026-03-02T12:30:00Z");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("system pulse is warning") != std::string::npos);
  CHECK(ws.text("SELECT status FROM job_runs") == "failed");
  // Quiet means quiet.
  CHECK(ws.beat({"worker", "-q"}, "2026-03-02T12:30:00Z").err.empty());
}
