// SPDX-License-Identifier: MIT
// End-to-end tests of hb-pulse: the built binary, a real HTTP server on 127.0.0.1, real Nagios
// plugins, a real SQLite file.
#include "e2e_helpers.hpp"

#include <chrono>
#include <sstream>
#include <csignal>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hb::test;
using nlohmann::json;

namespace {

json http_check(const std::string& name, const std::string& url)
{
  return {{"name", name}, {"type", "http"}, {"url", url}};
}

json command_check(const std::string& name, std::vector<std::string> argv, std::string timeout = "10s")
{
  return {{"name", name}, {"type", "command"}, {"command", argv}, {"timeout", timeout}};
}

json target(const std::string& id, json checks, json extra = json::object())
{
  json t{{"id", id}, {"checks", std::move(checks)}};
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

std::string config_text(json targets, json pulse = json::object(), json defaults = json::object())
{
  json c{{"targets", std::move(targets)}};
  if (!pulse.empty()) {
    c["pulse"] = std::move(pulse);
  }
  if (!defaults.empty()) {
    c["defaults"] = std::move(defaults);
  }
  return c.dump(2);
}

} // namespace

TEST_CASE("hb-pulse runs due checks and records executions")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("web", {http_check("home", server.url("/ok")), http_check("api", server.url("/body/fine"))}),
    target("shop", {http_check("home", server.url("/status/503"))}),
    target("disk", {command_check("dummy", {plugin("check_dummy"), "1", "disk 91% full"})}),
  }));

  const auto out = ws.pulse_json();
  CHECK(out["success"] == true);
  CHECK(out["pulse"] == "alive");
  CHECK(out["processed"] == 3);
  CHECK(detail(out, "web")["status"] == "all_clear");
  CHECK(detail(out, "web")["failing"].empty());
  CHECK(detail(out, "shop")["status"] == "alert");
  CHECK(detail(out, "shop")["failing"][0]["check"] == "home");
  CHECK(detail(out, "shop")["failing"][0]["message"] == "HTTP 503 (expected 200-399)");
  CHECK(detail(out, "disk")["status"] == "warning");
  CHECK(detail(out, "disk")["failing"][0]["message"] == "WARNING: disk 91% full");
  CHECK(out["heartbeat"]["timestamp"].is_string());
  CHECK(out["heartbeat"]["nextExpected"].is_string());

  SECTION("execution records are saved with every check result")
  {
    CHECK(ws.scalar("SELECT count(*) FROM executions") == 3);
    CHECK(ws.scalar("SELECT count(*) FROM check_results") == 4);
    CHECK(ws.text("SELECT status FROM executions WHERE target_id = 'shop'") == "alert");
    CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'shop'") == "failing");
    CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'web'") == "healthy");
    CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'disk'") == "warning");
    CHECK(ws.scalar("SELECT count(*) FROM events WHERE target_id = 'shop' AND type = 'failing'") == 1);
    CHECK(ws.scalar("SELECT count(*) FROM events WHERE target_id = 'web'") == 0);
    CHECK(ws.scalar("SELECT count(*) FROM pulses WHERE status = 'ok'") == 1);
    CHECK(ws.scalar("SELECT count(*) FROM leases") == 0);
  }

  SECTION("the database file is private")
  {
    if (ws.on_postgres()) {
      return;  // no file: the server's roles and grants say who reads it (docs/postgresql.md)
    }
    struct stat st {};
    REQUIRE(::stat(ws.db.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }

  SECTION("cron gets silence on success")
  {
    const auto r = ws.pulse({"--force"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
}

TEST_CASE("interval backoff prevents re-running before the interval")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({target("api", {http_check("home", server.url("/ok"))},
                                      {{"interval", "30m"}})}));

  CHECK(ws.pulse_json({}, "2026-02-18T14:00:00Z")["processed"] == 1);
  const auto early = ws.pulse_json({}, "2026-02-18T14:10:00Z");
  CHECK(early["processed"] == 0);
  CHECK(detail(early, "api")["status"] == "skipped");
  CHECK(detail(early, "api")["nextRun"] == "2026-02-18T14:30:00Z");
  // A pulse a few seconds before the interval ends still runs it (start-up jitter of cron).
  CHECK(ws.pulse_json({}, "2026-02-18T14:29:50Z")["processed"] == 1);
  CHECK(server.hits("/ok") == 2);
  CHECK(ws.scalar("SELECT count(*) FROM executions") == 2);
  // --force ignores the interval.
  CHECK(ws.pulse_json({"--force"}, "2026-02-18T14:31:00Z")["processed"] == 1);
  CHECK(ws.scalar("SELECT forced FROM executions ORDER BY id DESC LIMIT 1") == 1);
}

TEST_CASE("active hours are enforced in the target's timezone and --force bypasses them")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const json hours{{"start", "09:00"}, {"end", "17:00"}};
  ws.write_config(config_text({
    target("new-york", {http_check("home", server.url("/ok"))},
           {{"timezone", "America/New_York"}, {"active_hours", hours}}),
    target("london", {http_check("home", server.url("/ok"))},
           {{"timezone", "Europe/London"}, {"active_hours", hours}}),
  }));

  // 13:00 UTC is 08:00 in New York (EST) and 13:00 in London.
  const auto morning = ws.pulse_json({}, "2026-02-18T13:00:00Z");
  CHECK(detail(morning, "new-york")["status"] == "skipped");
  CHECK(detail(morning, "new-york")["reason"] == "outside active hours 09:00-17:00 America/New_York");
  CHECK(detail(morning, "london")["status"] == "all_clear");

  SECTION("--force runs it anyway")
  {
    const auto forced = ws.pulse_json({"--force"}, "2026-02-18T13:00:00Z");
    CHECK(detail(forced, "new-york")["status"] == "all_clear");
  }
  SECTION("inside the window it runs")
  {
    // 14:30 UTC is 09:30 in New York.
    const auto later = ws.pulse_json({}, "2026-02-18T14:30:00Z");
    CHECK(detail(later, "new-york")["status"] == "all_clear");
  }
  SECTION("summer time moves the window in UTC")
  {
    // 13:30 UTC in July is 09:30 EDT.
    const auto july = ws.pulse_json({}, "2026-07-01T13:30:00Z");
    CHECK(detail(july, "new-york")["status"] == "all_clear");
  }
}

TEST_CASE("a check that hangs is cut off and the others complete")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("mixed", {command_check("stuck", {"/bin/sleep", "30"}, "1s"),
                     http_check("home", server.url("/ok")),
                     json{{"name", "hangs"}, {"type", "http"}, {"url", server.url("/hang")}, {"timeout", "1s"}}}),
    target("other", {http_check("home", server.url("/ok"))}),
  }));

  const auto start = std::chrono::steady_clock::now();
  const auto out = ws.pulse_json();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::seconds(10));
  const auto mixed = detail(out, "mixed");
  CHECK(mixed["status"] == "error");
  bool saw_stuck = false;
  for (const auto& c : mixed["checks"]) {
    if (c["check"] == "stuck") {
      saw_stuck = true;
      CHECK(c["status"] == "error");
      CHECK(c["phase"] == "timeout");
    } else if (c["check"] == "home") {
      CHECK(c["status"] == "ok");
    } else if (c["check"] == "hangs") {
      CHECK(c["status"] == "alert");
      CHECK(c["phase"] == "timeout");
    }
  }
  CHECK(saw_stuck);
  CHECK(detail(out, "other")["status"] == "all_clear");
  CHECK(out["success"] == true);
}

TEST_CASE("the pulse deadline is respected")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text(
    {
      target("slow", {command_check("sleepy", {"/bin/sleep", "30"}, "60s")}),
      target("fast", {http_check("home", server.url("/ok"))}),
    },
    {{"deadline", "3s"}}));

  const auto start = std::chrono::steady_clock::now();
  const auto r = ws.pulse({"--json"});
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(took < std::chrono::milliseconds(4500));
  const auto out = json::parse(r.out);
  CHECK(out["success"] == false);
  CHECK(out["pulse"] == "error");
  CHECK(detail(out, "fast")["status"] == "all_clear");
  const auto slow = detail(out, "slow");
  CHECK(slow["status"] == "error");
  CHECK(slow["failing"][0]["message"] == "cut off at the pulse deadline (3s)");
  CHECK(ws.text("SELECT status FROM pulses") == "error");
  CHECK(ws.text("SELECT message FROM check_results WHERE check_name = 'sleepy'")
        == "cut off at the pulse deadline (3s)");
  CHECK(r.err.find("pulse deadline (3s) reached") != std::string::npos);
  // Running out of time is the monitor's problem: no event, the target's health is unchanged.
  CHECK(ws.scalar("SELECT count(*) FROM events") == 0);
  CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'slow'") == "unknown");
}

TEST_CASE("paused targets are skipped and new targets raise no alerts during their grace")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("paused", {http_check("home", server.url("/ok"))}, {{"paused", true}}),
    target("fresh", {http_check("home", server.url("/status/500"))}, {{"new_target_grace", "7d"}}),
    target("old", {http_check("home", server.url("/status/500"))}),
  }));

  const auto out = ws.pulse_json({"--force"}, "2026-02-18T14:00:00Z");
  CHECK(detail(out, "paused")["status"] == "skipped");
  CHECK(detail(out, "paused")["reason"] == "paused");
  CHECK(server.hits("/ok") == 0);
  // Checked and recorded, but its failing event is marked as inside the grace period.
  CHECK(detail(out, "fresh")["status"] == "alert");
  CHECK(detail(out, "fresh")["grace"] == true);
  CHECK(ws.scalar("SELECT in_grace FROM events WHERE target_id = 'fresh'") == 1);
  CHECK(ws.scalar("SELECT in_grace FROM events WHERE target_id = 'old'") == 0);

  // Eight days later the grace is over.
  const auto later = ws.pulse_json({"--force"}, "2026-02-26T14:00:00Z");
  CHECK_FALSE(detail(later, "fresh").contains("grace"));
}

TEST_CASE("overlapping pulses never run the same target twice")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  json targets = json::array();
  for (int i = 0; i < 6; ++i) {
    targets.push_back(target("t" + std::to_string(i), {http_check("slow", server.url("/slow/1500"))}));
  }
  ws.write_config(config_text(targets, {{"concurrency", 8}}));

  ToolResult a;
  ToolResult b;
  std::thread first([&] { a = ws.pulse({"--json"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::thread second([&] { b = ws.pulse({"--json"}); });
  first.join();
  second.join();
  INFO("a: " << a.err << "\nb: " << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(server.hits("/slow/1500") == 6);
  CHECK(ws.scalar("SELECT count(*) FROM executions") == 6);
  // Each pulse claims all its due targets in one transaction, so whichever claimed second found
  // all six held by the other, whatever the scheduling of the two processes.
  const auto first_out = json::parse(a.out);
  const auto second_out = json::parse(b.out);
  CHECK(first_out["processed"].get<int>() + second_out["processed"].get<int>() == 6);
  CHECK(first_out["summary"]["held"].get<int>() + second_out["summary"]["held"].get<int>() == 6);
  const auto& later = second_out["processed"] == 0 ? second_out : first_out;
  CHECK(detail(later, "t0")["status"] == "held");
  CHECK(detail(later, "t0")["reason"] == "claimed by an overlapping pulse");
}

TEST_CASE("configuration errors exit 78 and name the file and the JSON path")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(R"({"targets": [{"id": "api", "checks": [
    {"name": "home", "type": "http", "url": "http://127.0.0.1/", "timeout": "abc"}]}]})");
  const auto r = ws.pulse();
  CHECK(r.exit_code == 78);
  // Files are named relative to the main config's folder, as in SPEC §3.
  CHECK(r.err == "hb-pulse: error: heartbeat.json: targets[0].checks[0].timeout: expected a "
                 "duration like \"30s\", got \"abc\"\n");
  CHECK_FALSE(std::filesystem::exists(ws.db));

  SECTION("a missing config file")
  {
    const auto missing = run_tool("hb-pulse", {"--config", (ws.dir / "nope.json").string()});
    CHECK(missing.exit_code == 78);
    CHECK(missing.err.find("nope.json") != std::string::npos);
  }
}

TEST_CASE("HEARTBEAT_ENABLED=false turns hb-pulse into a no-op")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({target("api", {http_check("home", server.url("/ok"))})}));
  const auto r = ws.pulse({}, "", {{"HEARTBEAT_ENABLED", "false"}});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("HEARTBEAT_ENABLED is false") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(ws.db));
  CHECK(server.total_hits() == 0);
  // Even a broken config is not read.
  ws.write_config("{ this is not json");
  CHECK(ws.pulse({}, "", {{"HEARTBEAT_ENABLED", "false"}}).exit_code == 0);
  const auto status = ws.status({}, "", {{"HEARTBEAT_ENABLED", "FALSE"}});
  CHECK(status.exit_code == 0);
}

TEST_CASE("hb-pulse --fail-on makes it a CI smoke check")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("ok", {http_check("home", server.url("/ok"))}),
    target("warn", {command_check("dummy", {plugin("check_dummy"), "1", "meh"})}),
  }));
  CHECK(ws.pulse({"--force", "--fail-on", "alert"}).exit_code == 0);
  const auto warn = ws.pulse({"--force", "--fail-on", "warning"});
  CHECK(warn.exit_code == 1);
  CHECK(warn.out.find("warn") != std::string::npos);
  server.set_status("/ok", 500);
  CHECK(ws.pulse({"--force", "--fail-on", "warning"}).exit_code == 2);
  CHECK(ws.pulse({"--force", "--fail-on", "bogus"}).exit_code == 64);
}

TEST_CASE("hb-pulse --dry-run lists what is due and runs nothing")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({target("api", {http_check("home", server.url("/ok"))})}));
  const auto out = ws.pulse_json({"--dry-run"});
  CHECK(out["dryRun"] == true);
  CHECK(out["processed"] == 0);
  CHECK(detail(out, "api")["status"] == "due");
  CHECK(server.total_hits() == 0);
  CHECK(ws.scalar("SELECT count(*) FROM executions") == 0);
  CHECK(ws.scalar("SELECT count(*) FROM pulses") == 0);
}

TEST_CASE("hb-pulse --target and --tag narrow the run")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("api", {http_check("home", server.url("/ok"))}, {{"tags", {"core"}}}),
    target("shop", {http_check("home", server.url("/ok"))}, {{"tags", {"edge"}}}),
    target("blog", {http_check("home", server.url("/ok"))}),
  }));
  const auto only = ws.pulse_json({"--target", "shop"});
  CHECK(only["processed"] == 1);
  CHECK(only["details"].size() == 1);
  CHECK(ws.pulse_json({"--tag", "core"})["details"][0]["id"] == "api");

  const auto unknown = ws.pulse({"--target", "shpo"});
  CHECK(unknown.exit_code == 64);
  CHECK(unknown.err == "hb-pulse: error: --target: unknown target \"shpo\" (did you mean \"shop\"?)\n");
}

TEST_CASE("a malformed HB_NOW is a usage error")
{
  Workspace ws;
  ws.write_config(config_text(json::array()));
  const auto r = ws.pulse({}, "yesterday");
  CHECK(r.exit_code == 64);
  CHECK(r.err == "hb-pulse: error: HB_NOW: expected an RFC 3339 timestamp like "
                 "\"2026-02-18T14:05:00Z\", got \"yesterday\"\n");
}

TEST_CASE("SIGTERM ends a pulse gracefully and records what was cut off")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({
    target("slow", {command_check("sleepy", {"/bin/sleep", "30"}, "60s")}),
    target("fast", {http_check("home", server.url("/ok"))}),
  }));
  const std::string bin = tool_path("hb-pulse");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(bin.c_str(), bin.c_str(), "--config", ws.config.c_str(), "--db", ws.db.c_str(),
            "-q", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  ::kill(pid, SIGTERM);
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  ::waitpid(pid, &status, 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(ws.text("SELECT status FROM pulses") == "interrupted");
  CHECK(ws.text("SELECT message FROM check_results WHERE check_name = 'sleepy'")
        == "interrupted by SIGTERM");
  CHECK(ws.text("SELECT status FROM executions WHERE target_id = 'fast'") == "all_clear");
  CHECK(ws.scalar("SELECT count(*) FROM leases") == 0);
}

TEST_CASE("real Nagios plugins run as command checks")
{
  if (!has_plugin("check_dummy") || !has_plugin("check_tcp") || !has_plugin("check_http")) {
    WARN("monitoring-plugins-basic is not installed: skipping");
    std::exit(125);
  }
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const std::string port = std::to_string(server.port());
  ws.write_config(config_text({
    target("plugins",
           {command_check("dummy-ok", {plugin("check_dummy"), "0", "fine"}),
            command_check("tcp", {plugin("check_tcp"), "-H", "127.0.0.1", "-p", port}),
            command_check("http", {plugin("check_http"), "-H", "127.0.0.1", "-p", port, "-u", "/ok"})}),
    target("broken",
           {command_check("http-500", {plugin("check_http"), "-H", "127.0.0.1", "-p", port, "-u", "/status/500"}),
            command_check("unknown", {plugin("check_dummy"), "3", "no idea"})}),
  }));
  const auto out = ws.pulse_json();
  CHECK(detail(out, "plugins")["status"] == "all_clear");
  const auto broken = detail(out, "broken");
  CHECK(broken["status"] == "error");
  for (const auto& c : broken["checks"]) {
    if (c["check"] == "http-500") {
      CHECK(c["status"] == "alert");
    } else {
      CHECK(c["status"] == "error");
      CHECK(c["message"] == "UNKNOWN: no idea");
    }
  }
  // check_http's performance data became metrics.
  const auto metrics = ws.text(
    "SELECT metrics FROM check_results WHERE check_name = 'http' ORDER BY execution_id LIMIT 1");
  const auto parsed = json::parse(metrics);
  bool has_time = false;
  for (const auto& m : parsed) {
    has_time = has_time || m["name"] == "time";
  }
  CHECK(has_time);
}

TEST_CASE("confirm and recover_after thresholds shape target health")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text({target(
    "api", {json{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}, {"confirm", 2}, {"recover_after", 2}}})}));
  auto health = [&] { return ws.text("SELECT health FROM target_states"); };

  ws.pulse_json({"--force"}, "2026-02-18T14:00:00Z");
  CHECK(health() == "healthy");
  server.set_status("/ok", 500);
  ws.pulse_json({"--force"}, "2026-02-18T14:05:00Z");
  CHECK(health() == "healthy");  // one failure is not confirmed yet
  ws.pulse_json({"--force"}, "2026-02-18T14:10:00Z");
  CHECK(health() == "failing");
  // The incident is dated from the first bad observation.
  const auto since = ws.scalar("SELECT since FROM target_states");
  CHECK(since >= 1771423500000LL);  // 14:05:00, plus the moment the check started
  CHECK(since < 1771423501000LL);
  server.clear_status("/ok");
  ws.pulse_json({"--force"}, "2026-02-18T14:15:00Z");
  CHECK(health() == "failing");  // one success is not enough to recover
  const auto recovered = ws.pulse_json({"--force"}, "2026-02-18T14:20:00Z");
  CHECK(health() == "healthy");
  CHECK(detail(recovered, "api")["events"][0]["type"] == "recovered");
  CHECK(ws.scalar("SELECT count(*) FROM events") == 2);
}

TEST_CASE("hb-pulse --log-format json writes one JSON object per line on stderr")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(R"({"targets": [{"id": "Bad Id", "checks": []}]})");
  const auto r = ws.pulse({"--log-format", "json"});
  CHECK(r.exit_code == 78);
  REQUIRE(!r.err.empty());
  const auto line = json::parse(r.err.substr(0, r.err.find('\n')));
  CHECK(line["severity"] == "ERROR");
  CHECK(line["message"].get<std::string>().rfind("heartbeat.json: targets[0].id: expected", 0) == 0);
  CHECK(line["logging.googleapis.com/labels"]["tool"] == "hb-pulse");
  CHECK(line["time"].is_string());
  // Each run has its own id, in the line and in its labels.
  const std::string run_id = line["run_id"];
  CHECK(run_id.size() == 16);
  CHECK(line["logging.googleapis.com/labels"]["run_id"] == run_id);
  const auto again = json::parse(ws.pulse({"--log-format", "json"}).err);
  CHECK(again["run_id"] != run_id);
  // Chosen automatically under Cloud Run, with the job's execution and task in the labels.
  const auto cloud = ws.pulse({}, "", {{"CLOUD_RUN_JOB", "hb-pulse"},
                                       {"CLOUD_RUN_EXECUTION", "hb-pulse-x7k2p"},
                                       {"CLOUD_RUN_TASK_INDEX", "0"},
                                       {"CLOUD_RUN_TASK_ATTEMPT", "2"}});
  const auto cloud_line = json::parse(cloud.err.substr(0, cloud.err.find('\n')));
  CHECK(cloud_line["severity"] == "ERROR");
  const json labels = cloud_line["logging.googleapis.com/labels"];
  CHECK(labels["job"] == "hb-pulse");
  CHECK(labels["execution"] == "hb-pulse-x7k2p");
  CHECK(labels["task_index"] == "0");
  CHECK(labels["task_attempt"] == "2");
}

TEST_CASE("under systemd every stderr line carries its syslog priority for journald")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text(json::array({json{{"id", "api"},
                                                {"checks", json::array({json{
                                                  {"name", "up"},
                                                  {"type", "command"},
                                                  {"command", {"/bin/true"}}}})}}})));
  // systemd sets JOURNAL_STREAM to the device and inode of the stream it connects stderr to.
  const std::filesystem::path err = ws.dir / "stderr.txt";
  const std::filesystem::path out = ws.dir / "stdout.txt";
  auto run = [&](std::vector<std::string> args, const std::string& journal_stream) {
    std::vector<std::string> all{"--config", ws.config, "--db", ws.db};
    all.insert(all.end(), args.begin(), args.end());
    ws.dir.write("stderr.txt", "");
    struct stat st {};
    REQUIRE(::stat(err.c_str(), &st) == 0);
    const std::string stream =
      journal_stream.empty() ? std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)
                             : journal_stream;
    const pid_t pid = spawn_tool("hb-pulse", all, {{"JOURNAL_STREAM", stream}}, out, err);
    wait_exit(pid);
    return read_file(err);
  };

  // -v: info lines are <6>; a usage error is <3>.
  const std::string verbose = run({"-v"}, "");
  INFO(verbose);
  REQUIRE(!verbose.empty());
  std::istringstream lines(verbose);
  for (std::string line; std::getline(lines, line);) {
    CHECK(line.rfind("<6>hb-pulse: info: ", 0) == 0);
  }
  CHECK(run({"--fail-on", "sideways"}, "").rfind("<3>hb-pulse: error: ", 0) == 0);
  // JSON lines too: journald strips the prefix and keeps the object.
  const std::string json_lines = run({"-v", "--log-format", "json"}, "");
  REQUIRE(json_lines.rfind("<6>{", 0) == 0);
  CHECK(json::parse(json_lines.substr(3, json_lines.find('\n') - 3))["severity"] == "INFO");

  // A child of a service whose stderr goes elsewhere inherits JOURNAL_STREAM: no prefix then.
  const std::string elsewhere = run({"-v"}, "1:2");
  REQUIRE(!elsewhere.empty());
  CHECK(elsewhere.rfind("hb-pulse: info: ", 0) == 0);
  CHECK(elsewhere.find("<6>") == std::string::npos);
}

TEST_CASE("hb-pulse --log-format json reports a usage error as JSON")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(config_text(json::array()));
  const std::vector<std::vector<std::string>> usage_errors{
    {"--log-format", "json", "--bogus-flag"},
    {"--bogus-flag", "--log-format", "json"},
    {"--log-format", "json", "--fail-on", "sideways"},
  };
  for (const auto& args : usage_errors) {
    INFO("hb-pulse " << json(args).dump());
    const auto r = ws.pulse(args);
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    REQUIRE(!r.err.empty());
    REQUIRE(r.err.back() == '\n');
    // Every line on stderr is one JSON object.
    std::size_t start = 0;
    int lines = 0;
    while (start < r.err.size()) {
      const std::size_t end = r.err.find('\n', start);
      const std::string line = r.err.substr(start, end - start);
      INFO("line: " << line);
      REQUIRE(json::accept(line));
      const json entry = json::parse(line);
      CHECK(entry["severity"] == "ERROR");
      CHECK(entry["logging.googleapis.com/labels"]["tool"] == "hb-pulse");
      CHECK(entry["message"].get<std::string>().find("(run hb-pulse --help for usage)") !=
            std::string::npos);
      ++lines;
      start = end + 1;
    }
    CHECK(lines == 1);
  }
  // In text, the same error stays one line for people.
  const auto text = ws.pulse({"--bogus-flag"});
  CHECK(text.exit_code == 64);
  CHECK(text.err == "hb-pulse: error: The following argument was not expected: --bogus-flag "
                    "(run hb-pulse --help for usage)\n");
  // --help still goes to stdout as plain text.
  const auto help = ws.pulse({"--log-format", "json", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.err.empty());
  CHECK(help.out.find("Usage:") != std::string::npos);
}
