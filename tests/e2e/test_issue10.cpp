// SPDX-License-Identifier: MIT
// End-to-end regression tests for behaviour found by trying the tools as a new user would
// (issue 10): discovery failures, --tag and narrowed pulses, task attempts and overdue tasks,
// shell-quoted command lines, secrets in plugin output.
#include "e2e_helpers.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

using namespace hb::test;
using nlohmann::json;

namespace {

json dummy_check(const std::string& name, const std::string& text)
{
  return {{"name", name}, {"type", "command"}, {"command", {plugin("check_dummy"), "0", text}}};
}

} // namespace

TEST_CASE("a failing discovery command does not abort the pulse")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const std::string script = (ws.dir / "list-tenants").string();
  ws.dir.write("list-tenants", "#!/bin/sh\n"
                               "if [ -f \"$0.json\" ]; then cat \"$0.json\"; exit 0; fi\n"
                               "echo 'tenant API unavailable' >&2\nexit 2\n");
  ::chmod(script.c_str(), 0755);
  ws.dir.write("list-tenants.json",
               json::array({{{"id", "acme"}, {"checks", {dummy_check("up", "acme fine")}}}}).dump());
  ws.write_config(json{{"targets", {{{"id", "web"}, {"checks", {dummy_check("up", "web fine")}}}}},
                       {"discovery", {{{"command", {script}}}}}}
                    .dump());

  const auto first = ws.pulse_json({}, "2026-02-18T09:00:00Z");
  CHECK(detail(first, "acme")["status"] == "all_clear");

  std::filesystem::remove(ws.dir / "list-tenants.json");
  const auto r = ws.pulse({"--json"}, "2026-02-18T09:31:00Z");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  const std::string failure =
    fmt::format("discovery[0] (\"{}\"): exited with code 2: tenant API unavailable", script);
  CHECK(out["status"] == "error");
  CHECK(out["message"] == "discovery failed: " + failure + "; 1 discovered target not run");
  CHECK(detail(out, "web")["status"] == "all_clear");
  CHECK(detail(out, "acme")["status"] == "not_run");
  CHECK(detail(out, "acme")["reason"]
        == "not run: discovery failed and its checks need the discovered config (last known "
           "definition kept)");
  CHECK(out["systemEvents"][0]["type"] == "discovery_failed");
  // Kept, not retired; the failure is an event about no one target.
  CHECK(ws.scalar("SELECT count(*) FROM targets WHERE id = 'acme' AND retired_at IS NULL") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM checks WHERE target_id = 'acme'") == 1);
  CHECK(ws.text("SELECT message FROM events WHERE type = 'discovery_failed' AND target_id = ''")
        == failure);
  CHECK(ws.text("SELECT status FROM pulses ORDER BY id DESC LIMIT 1") == "error");
}

TEST_CASE("hb-pulse: a --tag that matches nothing is a usage error")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets",
                        {{{"id", "web"}, {"tags", {"prod", "edge"}}, {"checks", {dummy_check("up", "ok")}}},
                         {{"id", "db"}, {"tags", {"prod"}}, {"checks", {dummy_check("up", "ok")}}}}}}
                    .dump());
  const auto r = ws.pulse({"--tag", "prdo"});
  CHECK(r.exit_code == 64);
  CHECK(r.err == "hb-pulse: error: --tag: no target has the tag \"prdo\" (known tags: edge, prod)\n");
  CHECK(ws.pulse({"--tag", "edge"}).exit_code == 0);
}

TEST_CASE("narrowed and forced pulses are not the scheduler's pulse")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"pulse", {{"interval", "5m"}}},
                       {"targets", {{{"id", "web"}, {"tags", {"prod"}}, {"checks", {dummy_check("up", "ok")}}}}}}
                    .dump());
  ws.pulse_json({}, "2026-02-18T09:00:00Z");
  ws.pulse_json({"--force", "--target", "web"}, "2026-02-18T09:06:00Z");
  ws.pulse_json({"--tag", "prod"}, "2026-02-18T09:07:00Z");
  CHECK(ws.scalar("SELECT count(*) FROM pulses WHERE NOT scheduled") == 2);
  // The scheduler's last pulse is 8 minutes old: more than 1.5 × 5m.
  const auto s = ws.status_json({}, "2026-02-18T09:08:00Z");
  CHECK(s["pulse"]["state"] == "warning");
}

TEST_CASE("task attempts are numbered from 1 for the first run, everywhere")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", json::array()},
                       {"schedules",
                        {{{"name", "flaky-export"}, {"cron", "0 9 * * *"},
                          {"command", {"/bin/sh", "-c", "echo upstream 503; exit 4"}},
                          {"retries", 2}, {"retry_backoff", "1m"}}}}}
                    .dump());
  ws.pulse_json({}, "2026-02-18T08:59:00Z");
  const auto first = detail(ws.pulse_json({}, "2026-02-18T09:00:10Z"), "flaky-export");
  CHECK(first["attempt"] == 1);
  CHECK(first["reason"] == "attempt 2 of 3 at 2026-02-18T09:01:10Z");
  const auto waiting = detail(ws.pulse_json({"-v"}, "2026-02-18T09:00:40Z"), "flaky-export");
  CHECK(waiting["reason"] == "attempt 1 failed; attempt 2 of 3 at 2026-02-18T09:01:10Z");
  const auto second = detail(ws.pulse_json({}, "2026-02-18T09:01:20Z"), "flaky-export");
  CHECK(second["attempt"] == 2);
  CHECK(second["reason"] == "attempt 3 of 3 at 2026-02-18T09:03:20Z");
  CHECK(ws.scalar("SELECT attempt FROM task_runs ORDER BY id DESC LIMIT 1") == 2);
  const auto status = ws.status({}, "2026-02-18T09:01:30Z");
  CHECK(status.out.find("retrying (attempt 2 failed): exited with code 4")
        != std::string::npos);
}

TEST_CASE("a task missed while no pulse ran shows as overdue in hb-status")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", json::array()},
                       {"schedules", {{{"name", "nightly"}, {"cron", "0 2 * * *"},
                                       {"command", {"/bin/true"}}}}}}
                    .dump());
  ws.pulse_json({}, "2026-02-18T01:00:00Z");
  const auto s = ws.status_json({}, "2026-02-18T02:30:00Z");
  CHECK(s["schedules"][0]["overdueSince"] == "2026-02-18T02:00:00Z");
  const auto text = ws.status({"--color", "never"}, "2026-02-18T02:30:00Z");
  CHECK(text.out.find("overdue since 2026-02-18T02:00:00Z (missed while no pulse ran)")
        != std::string::npos);
  // Not before 1.5 pulse intervals have passed: the next pulse may simply not have come yet.
  CHECK(ws.status_json({}, "2026-02-18T02:05:00Z")["schedules"][0]["overdueSince"].is_null());
}

TEST_CASE("command lines are shown shell-quoted")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(
    json{{"targets", {{{"id", "web"},
                       {"checks", {{{"name", "say"}, {"type", "command"},
                                    {"command", {"/bin/echo", "it's fine"}}}}}}}},
         {"schedules", {{{"name", "tick"}, {"cron", "* * * * *"},
                         {"command", {"/bin/sh", "-c", "echo tick; date"}}}}}}
      .dump());
  ws.pulse_json({}, "2026-02-18T09:00:00Z");
  // hb-beat records a job's command line the same way.
  CHECK(ws.beat({"backup", "--create", "--", "/bin/sh", "-c", "echo 'hi'"}).exit_code == 0);
  CHECK(ws.text("SELECT command FROM job_runs") == R"(/bin/sh -c 'echo '\''hi'\''')");
  CHECK(ws.status_json({}, "2026-02-18T09:00:30Z")["schedules"][0]["command"]
        == "sh -c 'echo tick; date'");
  CHECK(ws.text("SELECT description FROM checks WHERE name = 'say'")
        == "echo 'it'\\''s fine'");
}

TEST_CASE("a command check's output never repeats a resolved secret")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(
    json{{"targets",
          {{{"id", "api"},
            {"checks", {{{"name", "auth"}, {"type", "command"},
                         {"command", {"/bin/sh", "-c",
                                      "echo \"CRITICAL: login $1 rejected token $API_TOKEN|t=1\"; exit 2",
                                      "sh", "${HB_E2E_USER}"}},
                         {"env", {{"API_TOKEN", {{"env", "HB_E2E_TOKEN"}}}}}},
                        {{"name", "login"}, {"type", "command"},
                         {"command", {"/bin/echo", "--password=hunter2", "--token", "t0k3n", "plain"}}}}}}}}}
      .dump());
  const auto r = ws.pulse({"--json"}, "2026-02-18T09:00:00Z",
                          {{"HB_E2E_TOKEN", "s3cr3t-t0ken"}, {"HB_E2E_USER", "svc-admin"}});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  CHECK(detail(out, "api")["failing"][0]["message"] == "CRITICAL: login *** rejected token ***");
  CHECK(ws.text("SELECT message FROM check_results") == "CRITICAL: login *** rejected token ***");
  CHECK(r.out.find("s3cr3t-t0ken") == std::string::npos);
  // Option values that look like secrets are masked in the command shown, and in its output.
  CHECK(ws.text("SELECT description FROM checks WHERE name = 'login'")
        == "echo --password=*** --token *** plain");
  CHECK(ws.text("SELECT message FROM check_results WHERE check_name = 'login'")
        == "--password=*** --token *** plain");
}
