// SPDX-License-Identifier: MIT
// End-to-end tests of scheduled tasks run by hb-pulse and listed by hb-status.
#include "e2e_helpers.hpp"

#include <algorithm>
#include <csignal>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace hb::test;
using nlohmann::json;

namespace {

json task(const std::string& name, const std::string& cron, std::vector<std::string> command,
          json extra = json::object())
{
  json t{{"name", name}, {"cron", cron}, {"command", std::move(command)}};
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

std::string config_with(json schedules, json pulse = json::object())
{
  json c{{"targets", json::array()}, {"schedules", std::move(schedules)}};
  if (!pulse.empty()) {
    c["pulse"] = std::move(pulse);
  }
  return c.dump(2);
}

int line_count(const std::filesystem::path& path)
{
  const std::string text = read_file(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST_CASE("hb-pulse runs a task when it is due and not before")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto log = (ws.dir / "ran.log").string();
  ws.write_config(config_with({task("daily-report", "0 9 * * *",
                                    {"/bin/sh", "-c", "echo ran >> \"$1\"", "sh", log},
                                    {{"timezone", "America/New_York"}})}));

  // First sight at 08:55 New York (13:55Z): nothing due, the next run is 09:00 local.
  const auto before = ws.pulse_json({}, "2026-02-18T13:55:00Z");
  CHECK(detail(before, "daily-report")["status"] == "skipped");
  CHECK(detail(before, "daily-report")["nextRun"] == "2026-02-18T14:00:00Z");
  CHECK_FALSE(std::filesystem::exists(log));

  const auto due = ws.pulse_json({}, "2026-02-18T14:02:00Z");
  const auto d = detail(due, "daily-report");
  CHECK(d["status"] == "executed");
  CHECK(d["result"] == "succeeded");
  CHECK(d["exitCode"] == 0);
  CHECK(d["nextRun"] == "2026-02-19T14:00:00Z");
  CHECK(due["processed"] == 1);
  CHECK(line_count(log) == 1);

  // Later pulses the same day do not run it again.
  CHECK(detail(ws.pulse_json({}, "2026-02-18T14:07:00Z"), "daily-report")["status"] == "skipped");
  CHECK(line_count(log) == 1);
  CHECK(ws.scalar("SELECT count(*) FROM task_runs") == 1);
  CHECK(ws.text("SELECT status FROM task_runs") == "succeeded");
  CHECK(ws.text("SELECT output_tail FROM task_runs") == "");
  CHECK(ws.scalar("SELECT tasks_run FROM pulses ORDER BY id DESC LIMIT 1") == 0);

  SECTION("hb-status lists the schedule with its next run")
  {
    const auto r = ws.status({"--json"}, "2026-02-18T15:00:00Z");
    const auto j = json::parse(r.out);
    REQUIRE(j["schedules"].size() == 1);
    const auto s = j["schedules"][0];
    CHECK(s["name"] == "daily-report");
    CHECK(s["cron"] == "0 9 * * *");
    CHECK(s["timezone"] == "America/New_York");
    CHECK(s["lastResult"] == "succeeded");
    CHECK(s["lastRun"] == "2026-02-18T14:02:00Z");
    CHECK(s["nextRun"] == "2026-02-19T14:00:00Z");
    CHECK(s["command"] == "sh -c 'echo ran >> \"$1\"' sh " + log);
    const auto table = ws.status({}, "2026-02-18T15:00:00Z");
    CHECK(table.out.find("daily-report") != std::string::npos);
    CHECK(table.out.find("2026-02-19T14:00:00Z") != std::string::npos);
  }
  SECTION("--no-tasks leaves tasks alone; --dry-run shows what would run")
  {
    const auto dry = ws.pulse_json({"--dry-run"}, "2026-02-19T14:01:00Z");
    CHECK(detail(dry, "daily-report")["status"] == "due");
    CHECK(line_count(log) == 1);
    const auto none = ws.pulse_json({"--no-tasks"}, "2026-02-19T14:01:00Z");
    CHECK(none["details"].empty());
    CHECK(line_count(log) == 1);
    CHECK(detail(ws.pulse_json({}, "2026-02-19T14:03:00Z"), "daily-report")["status"] == "executed");
    CHECK(line_count(log) == 2);
  }
}

TEST_CASE("a task still running in one hb-pulse is not started by another")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto log = (ws.dir / "ran.log").string();
  ws.write_config(config_with({task("slow-sync", "*/5 * * * *",
                                    {"/bin/sh", "-c", "echo start >> \"$1\"; sleep 2", "sh", log})}));
  ws.pulse_json({}, "2026-02-18T13:59:00Z");  // first sight: the schedule exists from here on

  ToolResult a;
  ToolResult b;
  std::thread first([&] { a = ws.pulse({"--json"}, "2026-02-18T14:00:30Z"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  std::thread second([&] { b = ws.pulse({"--json"}, "2026-02-18T14:00:31Z"); });
  first.join();
  second.join();
  INFO("a: " << a.err << "\nb: " << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(line_count(log) == 1);
  CHECK(ws.scalar("SELECT count(*) FROM task_runs") == 1);
  const auto later = json::parse(b.out);
  CHECK(detail(later, "slow-sync")["status"] == "held");
  CHECK(detail(json::parse(a.out), "slow-sync")["status"] == "executed");
}

TEST_CASE("a failed task is retried with backoff until its retries run out")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto log = (ws.dir / "ran.log").string();
  ws.write_config(config_with({task("flaky-export", "0 9 * * *",
                                    {"/bin/sh", "-c", "echo try >> \"$1\"; echo upstream 503; exit 4", "sh", log},
                                    {{"retries", 2}, {"retry_backoff", "1m"}})}));
  ws.pulse_json({}, "2026-02-18T08:59:00Z");

  const auto first = detail(ws.pulse_json({}, "2026-02-18T09:00:10Z"), "flaky-export");
  CHECK(first["status"] == "failed");
  CHECK(first["result"] == "failed");
  CHECK(first["exitCode"] == 4);
  CHECK(first["message"] == "exited with code 4: upstream 503");
  CHECK(first["nextRun"] == "2026-02-18T09:01:10Z");
  // Not before the backoff.
  CHECK(detail(ws.pulse_json({}, "2026-02-18T09:00:40Z"), "flaky-export")["status"] == "skipped");
  CHECK(line_count(log) == 1);
  // Second attempt after 1m, third after a further 2m.
  CHECK(detail(ws.pulse_json({}, "2026-02-18T09:01:20Z"), "flaky-export")["attempt"] == 2);
  CHECK(detail(ws.pulse_json({}, "2026-02-18T09:02:30Z"), "flaky-export")["status"] == "skipped");
  CHECK(detail(ws.pulse_json({}, "2026-02-18T09:03:30Z"), "flaky-export")["attempt"] == 3);
  // Retries are used up: nothing more until tomorrow.
  const auto done = detail(ws.pulse_json({}, "2026-02-18T09:30:00Z"), "flaky-export");
  CHECK(done["status"] == "skipped");
  CHECK(done["nextRun"] == "2026-02-19T09:00:00Z");
  CHECK(line_count(log) == 3);
  CHECK(ws.scalar("SELECT count(*) FROM task_runs WHERE status = 'failed'") == 3);
  CHECK(ws.scalar("SELECT max(attempt) FROM task_runs") == 3);
  CHECK(ws.text("SELECT output_tail FROM task_runs ORDER BY id DESC LIMIT 1") == "upstream 503\n");

  // A task that failed for good makes hb-status critical.
  const auto status = ws.status({"--json"}, "2026-02-18T09:31:00Z");
  CHECK(status.exit_code == 2);
  CHECK(json::parse(status.out)["schedules"][0]["lastResult"] == "failed");
}

TEST_CASE("after a gap of several hours a missed task runs once")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto log = (ws.dir / "ran.log").string();
  const auto skip_log = (ws.dir / "skip.log").string();
  ws.write_config(config_with({
    task("every-10m", "*/10 * * * *", {"/bin/sh", "-c", "echo ran >> \"$1\"", "sh", log}),
    task("no-catch-up", "*/10 * * * *", {"/bin/sh", "-c", "echo ran >> \"$1\"", "sh", skip_log},
         {{"catch_up", false}}),
  }));
  ws.pulse_json({}, "2026-02-18T09:05:00Z");
  // No pulse ran from 09:05 until 13:03: 24 fire times were missed.
  // The latest fire time, 13:00, is 8 minutes old: older than 1.5 pulse intervals (7m30s).
  const auto after = ws.pulse_json({}, "2026-02-18T13:08:00Z");
  CHECK(detail(after, "every-10m")["status"] == "executed");
  CHECK(line_count(log) == 1);
  CHECK(ws.scalar("SELECT fire_at FROM task_runs WHERE schedule = 'every-10m'") == 1771419600000LL);  // 13:00Z
  // Without catch-up the missed window is recorded as skipped, nothing runs.
  CHECK(detail(after, "no-catch-up")["status"] == "skipped");
  CHECK(detail(after, "no-catch-up")["result"] == "skipped");
  CHECK_FALSE(std::filesystem::exists(skip_log));
  CHECK(ws.text("SELECT status FROM task_runs WHERE schedule = 'no-catch-up'") == "skipped");
  // Both run normally at their next fire time.
  const auto next = ws.pulse_json({}, "2026-02-18T13:10:30Z");
  CHECK(detail(next, "every-10m")["status"] == "executed");
  CHECK(detail(next, "no-catch-up")["status"] == "executed");
}

TEST_CASE("a task that times out is killed with its whole process group")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto pidfile = (ws.dir / "child.pid").string();
  ws.write_config(config_with({task("stuck", "* * * * *",
                                    {"/bin/sh", "-c", "sleep 100 & echo $! > \"$1\"; sleep 100", "sh", pidfile},
                                    {{"timeout", "1s"}})}));
  ws.pulse_json({}, "2026-02-18T09:00:30Z");
  const auto start = std::chrono::steady_clock::now();
  const auto out = ws.pulse_json({}, "2026-02-18T09:01:30Z");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
  const auto d = detail(out, "stuck");
  CHECK(d["status"] == "failed");
  CHECK(d["result"] == "timed_out");
  CHECK(d["message"] == "timed out after 1s");
  const pid_t child = std::stoi(read_file(pidfile));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The grandchild is gone too (or a zombie waiting for init to reap it).
  const std::string stat = read_file("/proc/" + std::to_string(child) + "/stat");
  const auto state = stat.find(") ");
  CHECK((stat.empty() || (state != std::string::npos && stat[state + 2] == 'Z')));
}

TEST_CASE("schedule config errors name the schedule and the field")
{
  Workspace ws;
  ws.write_config(config_with({task("bad", "0 0 32 * *", {"/bin/true"})}));
  const auto r = ws.pulse();
  CHECK(r.exit_code == 78);
  CHECK(r.err == "hb-pulse: error: heartbeat.json: schedules[0].cron: day-of-month 32 out of range 1-31\n");
  ws.write_config(config_with({task("bad", "0 9 * * *", {"/bin/true"}, {{"target", "nope"}})}));
  CHECK(ws.pulse().err == "hb-pulse: error: heartbeat.json: schedules[0].target: unknown target \"nope\" (no target has this id)\n");
}

TEST_CASE("stopping hb-pulse does not use up a task's run")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto log = (ws.dir / "ran.log").string();
  ws.write_config(config_with({task("nightly", "0 2 * * *",
                                    {"/bin/sh", "-c", "echo start >> \"$1\"; sleep 20", "sh", log})}));
  ws.pulse_json({}, "2026-02-18T01:59:00Z");
  const std::string bin = tool_path("hb-pulse");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("HB_NOW", "2026-02-18T02:00:30Z", 1);
    ::execl(bin.c_str(), bin.c_str(), "--config", ws.config.c_str(), "--db", ws.db.c_str(), "-q",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 100 && line_count(log) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(ws.text("SELECT status FROM task_runs") == "interrupted");
  CHECK(ws.text("SELECT message FROM task_runs") == "interrupted by SIGTERM");
  // Not a failure: hb-status is not alarmed, and the next pulse runs it again as attempt 1.
  const auto s = json::parse(ws.status({"--json"}, "2026-02-18T02:01:00Z").out);
  CHECK(s["schedules"][0]["retrying"] == true);
  ws.write_config(config_with({task("nightly", "0 2 * * *",
                                    {"/bin/sh", "-c", "echo again >> \"$1\"", "sh", log})}));
  const auto again = detail(ws.pulse_json({}, "2026-02-18T02:02:00Z"), "nightly");
  CHECK(again["status"] == "executed");
  CHECK(again["attempt"] == 1);
}

TEST_CASE("hb-status with only scheduled tasks, and schedules synced by every pulse")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({task("hourly", "@hourly", {"/bin/true"})}));
  ws.pulse_json({}, "2026-02-18T09:59:00Z");
  ws.pulse_json({}, "2026-02-18T10:00:30Z");
  CHECK(ws.status({}, "2026-02-18T10:01:00Z").exit_code == 0);

  // Removed from the config: even a checks-only pulse retires it.
  ws.write_config(config_with(json::array()));
  ws.pulse_json({"--no-tasks"}, "2026-02-18T10:02:00Z");
  CHECK(json::parse(ws.status({"--json"}, "2026-02-18T10:03:00Z").out)["schedules"].empty());
}

TEST_CASE("a task cut off at the pulse deadline makes the pulse an error")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_with({task("long", "* * * * *", {"/bin/sleep", "30"}, {{"timeout", "10m"}})},
                              {{"deadline", "2s"}}));
  ws.pulse_json({}, "2026-02-18T09:00:30Z");
  const auto r = ws.pulse({"--json"}, "2026-02-18T09:01:30Z");
  CHECK(r.exit_code == 0);
  const auto out = json::parse(r.out);
  CHECK(detail(out, "long")["result"] == "timed_out");
  CHECK(detail(out, "long")["message"] == "cut off at the pulse deadline (2s)");
  CHECK(out["pulse"] == "error");
  CHECK(ws.text("SELECT message FROM pulses ORDER BY id DESC LIMIT 1")
        == "pulse deadline (2s) reached: 1 task cut off or not started");
}
