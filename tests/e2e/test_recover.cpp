// SPDX-License-Identifier: MIT
// End-to-end tests of hb-recover: the built tools, a real HTTP service on 127.0.0.1 that is down
// until a real "restart" script (written by the test) flips it, real recovery actions and
// escalation commands, a real SQLite file, and timelines replayed with HB_NOW.
#include "e2e_helpers.hpp"

#include "util/time.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace hb::test;
using nlohmann::json;

namespace {

const std::string k_t0 = "2026-03-02T10:00:00Z";

std::string at_minutes(double minutes)
{
  const auto t = *hb::util::parse_rfc3339(k_t0) +
                 std::chrono::milliseconds(static_cast<long long>(minutes * 60'000));
  return hb::util::format_rfc3339(t);
}

// Writes an executable shell script (the test's stand-in for systemctl & co).
std::string script(const Workspace& ws, const std::string& name, const std::string& body)
{
  const auto path = ws.dir.write(name, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path.string();
}

int count_lines(const std::filesystem::path& path)
{
  const std::string text = read_file(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// A target whose health check is the test server's /flag for `flag` (down until it exists).
json flag_target(const std::string& id, const TestHttpServer& server, const std::filesystem::path& flag,
                 json extra = json::object())
{
  json t{{"id", id},
         {"interval", "1h"},
         {"checks", json::array({{{"name", "health"},
                                  {"type", "http"},
                                  {"timeout", "3s"},
                                  {"url", server.url("/flag?path=" + flag.string())}}})}};
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

// Appends `count` targets tenant-1.. whose one HTTP check calls `dead_port` on 127.0.0.1 (a
// port nobody listens on): a shared cause once they are `shared_cause_min` or more.
void add_dead_port_targets(json& targets, int count, int dead_port)
{
  for (int i = 1; i <= count; ++i) {
    targets.push_back({{"id", "tenant-" + std::to_string(i)},
                       {"interval", "1h"},
                       {"checks", json::array({{{"name", "home"},
                                                {"type", "http"},
                                                {"url", fmt::format("http://127.0.0.1:{}/t{}",
                                                                    dead_port, i)}}})}});
  }
}

// A script body that waits (at most 30 s) until the file `name` exists beside the script: how a
// test holds an action or an escalation command until it lets it go.
std::string wait_for_file(const std::string& name)
{
  return "i=0; while [ ! -e \"$(dirname \"$0\")/" + name +
         "\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done";
}

std::string config_text(json targets, json recovery, json extra = json::object())
{
  // Hourly pulses: tests jump minutes and hours ahead without pulse_stale events.
  json c{{"targets", std::move(targets)}, {"recovery", std::move(recovery)},
         {"pulse", {{"interval", "1h"}}}};
  for (auto& [k, v] : extra.items()) {
    c[k] = v;
  }
  return c.dump(2);
}

json target_of(const json& report, const std::string& id)
{
  for (const auto& t : report.at("targets")) {
    if (t.at("id") == id) {
      return t;
    }
  }
  FAIL("no target " << id << " in " << report.dump());
  return {};
}

} // namespace

TEST_CASE("hb-recover: a stale target is fixed by the forced check run (a), no action needed")
{
  TestHttpServer server;
  Workspace ws;
  const auto flag = ws.dir / "up";
  ws.dir.write("up", "");
  ws.write_config(config_text(
      json::array({flag_target("api", server, flag, {{"stale_after", "1h"}})}),
      {{"actions", {{"stale", json::array({script(ws, "never.sh", "echo ran >> \"$0.log\"")})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  // Two hours later nothing has run it: stale. The forced run passes.
  const json report = ws.recover_json({}, at_minutes(120));
  const json api = target_of(report, "api");
  CHECK(api.at("verdict") == "unhealthy");
  CHECK(api.at("issue") == "stale");
  REQUIRE(api.at("attempt").is_object());
  CHECK(api.at("attempt").at("result") == "recovered");
  CHECK(api.at("attempt").at("steps").size() == 1);
  CHECK(api.at("attempt").at("steps")[0].at("kind") == "check");
  CHECK_FALSE(std::filesystem::exists(ws.dir / "never.sh.log"));
  CHECK(report.at("run").at("recovered") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM executions WHERE trigger = 'recover' AND forced") == 1);

  // hb-status shows the run and the attempt.
  const json status = ws.status_json({}, at_minutes(121));
  CHECK(status.at("recovery").at("state") == "alive");
  CHECK(status.at("recovery").at("succeeded24h") == 1);
  const json detail = ws.status_json({"api"}, at_minutes(121));
  CHECK(detail.at("recovery").at("attempts")[0].at("result") == "recovered");
}

TEST_CASE("hb-recover: a failing target is fixed by its action (b), verified by a re-check")
{
  TestHttpServer server;
  Workspace ws;
  const auto flag = ws.dir / "up";
  const std::string restart =
      script(ws, "restart.sh", "echo \"restart $1\" >> \"$0.log\"; touch '" + flag.string() + "'; echo restarted");
  ws.write_config(config_text(
      json::array({flag_target("api", server, flag)}),
      {{"verify_after", "0s"},
       {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'api'") == "failing");

  // The dry run says what it would do, and does nothing.
  const auto dry = ws.recover({"--dry-run"}, at_minutes(1));
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would: re-check, then ") && Catch::Contains("restart.sh api (failing)"));
  CHECK_FALSE(std::filesystem::exists(ws.dir / "restart.sh.log"));

  const json report = ws.recover_json({}, at_minutes(1));
  const json attempt = target_of(report, "api").at("attempt");
  CHECK(attempt.at("result") == "recovered");
  CHECK(attempt.at("issue") == "failing");
  CHECK(attempt.at("check") == "health");
  CHECK(attempt.at("phase") == "http_status");
  REQUIRE(attempt.at("steps").size() == 3);
  CHECK(attempt.at("steps")[0].at("result") == "failing");
  CHECK(attempt.at("steps")[1].at("kind") == "action");
  CHECK(attempt.at("steps")[1].at("exit_code") == 0);
  CHECK_THAT(attempt.at("steps")[1].at("output").get<std::string>(), Catch::Contains("restarted"));
  CHECK(attempt.at("steps")[2].at("kind") == "verify");
  CHECK(attempt.at("steps")[2].at("result") == "ok");
  CHECK(read_file(ws.dir / "restart.sh.log") == "restart api\n");
  // The verifying run recorded the recovery as an event of the target.
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE target_id = 'api' AND type = 'recovered'") == 1);
  CHECK(ws.text("SELECT health FROM target_states WHERE target_id = 'api'") == "healthy");
  CHECK(ws.scalar("SELECT count(*) FROM escalations") == 0);

  // The failing runs before the verified recovery (2 of the 3 in the failure window, the
  // ladder's re-check among them) are not a high error rate afterwards: nothing to repair.
  const json after = ws.recover_json({}, at_minutes(6));
  CHECK(target_of(after, "api").at("verdict") == "healthy");
  CHECK(target_of(after, "api").at("attempt").is_null());
  CHECK(read_file(ws.dir / "restart.sh.log") == "restart api\n");
}

TEST_CASE("hb-recover: a hopeless target backs off, escalates once, is suspended, resumes on --reset "
          "and resolves its escalation when it heals")
{
  TestHttpServer server;
  Workspace ws;
  const auto flag = ws.dir / "up";
  // An action that exits 0 but fixes nothing: the counters must not reset.
  const std::string restart = script(ws, "restart.sh", "echo restart >> \"$0.log\"; exit 0");
  const std::string dispatch = script(ws, "dispatch.sh", "cat >> \"$0.json\"");
  ws.write_config(config_text(
      json::array({flag_target("api", server, flag)}),
      {{"verify_after", "0s"},
       {"backoff", "1m"},
       {"backoff_max", "2m"},
       {"escalate_after", 2},
       {"max_attempts", 3},
       {"escalation", {{"channels", {"hook"}}, {"command", json::array({dispatch})}}},
       {"actions", {{"failing", json::array({restart})}}}},
      {{"channels", {{"hook", {{"type", "webhook"}, {"url", server.url("/record/hook")}}}}},
       {"notify", json::array({{{"channels", {"hook"}}}})}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  // Attempt 1 fails; the next waits out a backoff of at most 1m (full jitter, at least 1 s).
  json r1 = ws.recover_json({}, at_minutes(1));
  CHECK(target_of(r1, "api").at("attempt").at("result") == "failed");
  json d = ws.status_json({"api"}, at_minutes(1));
  CHECK(d.at("recovery").at("state").at("failedAttempts") == 1);
  const auto next = *hb::util::parse_rfc3339(d.at("recovery").at("state").at("nextAttemptAt").get<std::string>());
  const auto attempted_at = *hb::util::parse_rfc3339(at_minutes(1));
  CHECK(next >= attempted_at + std::chrono::seconds(1));
  CHECK(next <= attempted_at + std::chrono::minutes(1) + std::chrono::seconds(5));

  // Within the backoff: nothing is attempted, and the plan says until when.
  json backing = ws.recover_json({}, at_minutes(1.01));
  CHECK(target_of(backing, "api").at("plan") == "backoff");
  CHECK(target_of(backing, "api").at("attempt").is_null());

  // Attempt 2 fails (the action exited 0, the check still fails): escalate_after reached.
  json r2 = ws.recover_json({}, at_minutes(3));
  CHECK(target_of(r2, "api").at("attempt").at("result") == "failed");
  REQUIRE(r2.at("escalations_opened").size() == 1);
  // The run's report says what escalation.command did with it, as the database keeps it.
  CHECK_THAT(r2.at("escalations_opened")[0].at("command_result").get<std::string>(),
             Catch::Contains("dispatch.sh") && Catch::Contains("exited 0"));
  d = ws.status_json({"api"}, at_minutes(3));
  CHECK(d.at("recovery").at("state").at("failedAttempts") == 2);
  REQUIRE(std::filesystem::exists(ws.dir / "dispatch.sh.json"));
  CHECK(count_lines(ws.dir / "dispatch.sh.json") == 1);
  const json escalation = json::parse(read_file(ws.dir / "dispatch.sh.json"));
  CHECK(escalation.at("priority") == "critical");
  CHECK(escalation.at("target").at("id") == "api");
  CHECK(escalation.at("failed_attempts") == 2);
  CHECK(escalation.at("attempts").size() == 2);
  CHECK(escalation.at("diagnosis").at("failing_checks")[0].at("name") == "health");
  CHECK_FALSE(escalation.at("next_steps").empty());
  CHECK(escalation.at("id").get<long long>() > 0);
  // Delivered to the escalation channel at critical level.
  int escalated = 0;
  for (const auto& rec : server.recorded()) {
    const json body = json::parse(rec.body);
    if (body.at("event").at("type") == "escalated") {
      ++escalated;
      CHECK(body.at("severity") == "critical");
    }
  }
  CHECK(escalated == 1);

  // Attempt 3 fails: the budget (3 within 6h) is spent; recovery is suspended.
  json r3 = ws.recover_json({}, at_minutes(6));
  CHECK(target_of(r3, "api").at("attempt").at("result") == "failed");
  CHECK(r3.at("escalations_opened").empty());
  json r4 = ws.recover_json({"--force"}, at_minutes(30));
  CHECK(target_of(r4, "api").at("plan") == "suspended");
  CHECK(target_of(r4, "api").at("attempt").is_null());
  CHECK(count_lines(ws.dir / "restart.sh.log") == 3);
  CHECK(count_lines(ws.dir / "dispatch.sh.json") == 1);  // escalated exactly once
  const json status = ws.status_json({}, at_minutes(30));
  CHECK(status.at("recovery").at("suspended") == 1);
  CHECK(status.at("recovery").at("openEscalations").size() == 1);

  // --reset resumes it.
  const auto reset = ws.recover({"--reset", "api"}, at_minutes(31));
  CHECK(reset.exit_code == 0);
  CHECK_THAT(reset.out, Catch::Contains("counters reset"));
  json r5 = ws.recover_json({}, at_minutes(32));
  CHECK(target_of(r5, "api").at("attempt").at("result") == "failed");
  CHECK(count_lines(ws.dir / "restart.sh.log") == 4);
  CHECK(count_lines(ws.dir / "dispatch.sh.json") == 1);  // the open escalation stays the one

  // It heals (someone fixed it by hand): the next run verifies it with a check run, resolves the
  // escalation and tells the escalation channel.
  ws.dir.write("up", "");
  json r6 = ws.recover_json({"--force"}, at_minutes(40));
  CHECK(target_of(r6, "api").at("attempt").at("result") == "recovered");
  CHECK(r6.at("escalations_resolved").size() == 1);
  CHECK(ws.scalar("SELECT count(*) FROM escalations WHERE resolved_at IS NULL") == 0);
  int resolved = 0;
  int recovered = 0;
  for (const auto& rec : server.recorded()) {
    const json body = json::parse(rec.body);
    resolved += body.at("event").at("type") == "escalation_resolved" ? 1 : 0;
    recovered += body.at("event").at("type") == "recovered" ? 1 : 0;
  }
  CHECK(resolved == 1);
  CHECK(recovered == 1);
  d = ws.status_json({"api"}, at_minutes(41));
  CHECK(d.at("recovery").at("state").at("failedAttempts") == 0);
}

TEST_CASE("hb-recover: five targets failing on one dead port are one shared cause, not five restarts")
{
  TestHttpServer server;
  Workspace ws;
  const int dead_port = closed_port();
  const std::string restart = script(ws, "restart.sh", "echo \"$1\" >> \"$0.log\"");
  json targets = json::array();
  add_dead_port_targets(targets, 5, dead_port);
  ws.write_config(config_text(targets, {{"shared_cause_min", 3},
                                        {"verify_after", "0s"},
                                        {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  const json report = ws.recover_json({}, at_minutes(1));
  REQUIRE(report.at("shared_causes").size() == 1);
  CHECK(report.at("shared_causes")[0].at("cause") == "connect 127.0.0.1:" + std::to_string(dead_port));
  CHECK(report.at("shared_causes")[0].at("targets").size() == 5);
  CHECK(report.at("run").at("attempted") == 0);
  CHECK(report.at("escalations_opened").size() == 1);
  CHECK_FALSE(std::filesystem::exists(ws.dir / "restart.sh.log"));
  for (int i = 1; i <= 5; ++i) {
    CHECK(target_of(report, "tenant-" + std::to_string(i)).at("plan") == "shared_cause");
  }
  // Escalated once while it lasts.
  const json again = ws.recover_json({}, at_minutes(10));
  CHECK(again.at("escalations_opened").empty());
  CHECK(ws.scalar("SELECT count(*) FROM escalations") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'escalated' AND target_id = ''") == 1);
}

TEST_CASE("hb-recover: at most `concurrency` targets are worked on at once")
{
  TestHttpServer server;
  Workspace ws;
  // Each action logs its start and end; the log's order shows how many ran at once.
  const std::string restart =
      script(ws, "restart.sh", "echo \"start $1\" >> \"$0.log\"; sleep 0.5; echo \"end $1\" >> \"$0.log\"");
  json targets = json::array();
  for (int i = 1; i <= 6; ++i) {
    targets.push_back(flag_target("svc-" + std::to_string(i), server, ws.dir / ("up-" + std::to_string(i))));
  }
  ws.write_config(config_text(targets, {{"concurrency", 2},
                                        {"shared_cause_min", 100},
                                        {"verify_after", "0s"},
                                        {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  const json report = ws.recover_json({}, at_minutes(1));
  CHECK(report.at("run").at("attempted") == 6);

  std::istringstream log(read_file(ws.dir / "restart.sh.log"));
  std::string word;
  std::string id;
  int running = 0;
  int most = 0;
  int starts = 0;
  while (log >> word >> id) {
    running += word == "start" ? 1 : -1;
    starts += word == "start" ? 1 : 0;
    most = std::max(most, running);
  }
  CHECK(starts == 6);
  CHECK(most <= 2);
  CHECK(most == 2);  // and it does use them: 0.5 s actions overlap
}

TEST_CASE("hb-recover: two runs at once never work on the same target")
{
  TestHttpServer server;
  Workspace ws;
  // Each action logs the target and takes a while, then fixes it; the log shows who ran what.
  json targets = json::array();
  for (int i = 1; i <= 4; ++i) {
    targets.push_back(flag_target("svc-" + std::to_string(i), server, ws.dir / ("up-" + std::to_string(i))));
  }
  const std::string restart = script(
    ws, "restart.sh",
    "echo \"$1\" >> \"$0.log\"; sleep 1; touch \"$(dirname \"$0\")/up-${1#svc-}\"");
  ws.write_config(config_text(targets, {{"concurrency", 2},
                                        {"shared_cause_min", 100},
                                        {"verify_after", "0s"},
                                        {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  std::vector<pid_t> runs;
  for (int r = 0; r < 2; ++r) {
    runs.push_back(spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db, "--json"},
                              {{"HB_NOW", at_minutes(1)}}, ws.dir / fmt::format("run-{}.out", r),
                              ws.dir / fmt::format("run-{}.err", r)));
  }
  std::map<std::string, int> attempts;
  for (int r = 0; r < 2; ++r) {
    INFO("run " << r << ": " << read_file(ws.dir / fmt::format("run-{}.err", r)));
    REQUIRE(wait_exit(runs[static_cast<std::size_t>(r)]) == 0);
    const json report = json::parse(read_file(ws.dir / fmt::format("run-{}.out", r)));
    CHECK(schema_errors(schema_file("hb-recover.schema.json"), report.dump()).empty());
    for (const auto& t : report.at("targets")) {
      if (!t.at("attempt").is_null()) {
        ++attempts[t.at("id").get<std::string>()];
      }
    }
  }
  // Each target was repaired once, by one of the two runs; the other found it claimed (held) or,
  // starting later, already healthy.
  for (int i = 1; i <= 4; ++i) {
    const std::string id = "svc-" + std::to_string(i);
    INFO(id);
    CHECK(attempts[id] == 1);
  }
  std::istringstream log(read_file(ws.dir / "restart.sh.log"));
  std::map<std::string, int> actions;
  for (std::string id; log >> id;) {
    ++actions[id];
  }
  CHECK(actions == std::map<std::string, int>{{"svc-1", 1}, {"svc-2", 1}, {"svc-3", 1}, {"svc-4", 1}});
  CHECK(ws.scalar("SELECT count(*) FROM recovery_attempts") == 4);
}

TEST_CASE("hb-recover: a target another run attempted after this run's assessment is not attempted again")
{
  TestHttpServer server;
  Workspace ws;
  // Run A stops between its assessment and its claim: it runs the escalation command of a shared
  // cause there, and the command waits for the test's "go". Meanwhile run B climbs api's ladder
  // to the end (and backs it off for an hour). A, once let go, must see that and leave api alone.
  const int dead_port = closed_port();
  json targets = json::array({flag_target("api", server, ws.dir / "up")});
  add_dead_port_targets(targets, 3, dead_port);
  const std::string restart = script(ws, "restart.sh", "echo \"$1\" >> \"$0.log\"");
  const std::string dispatch =
    script(ws, "dispatch.sh", "cat > /dev/null; echo called >> \"$0.log\"; " + wait_for_file("go"));
  ws.write_config(config_text(targets, {{"shared_cause_min", 3},
                                        {"verify_after", "0s"},
                                        {"backoff", "1h"},
                                        {"backoff_max", "2h"},
                                        {"escalate_after", 5},
                                        {"escalation", {{"command", json::array({dispatch})}}},
                                        {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  const pid_t a = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db, "--json"},
                             {{"HB_NOW", at_minutes(1)}}, ws.dir / "a.out", ws.dir / "a.err");
  int exit_code = 0;
  REQUIRE(wait_for_file_or_exit(ws.dir / "dispatch.sh.log", a, exit_code));
  const json b = ws.recover_json({"--target", "api"}, at_minutes(1.2));
  REQUIRE_FALSE(target_of(b, "api").at("attempt").is_null());
  CHECK(count_lines(ws.dir / "restart.sh.log") == 1);
  ws.dir.write("go", "");
  INFO("run A: " << read_file(ws.dir / "a.err"));
  REQUIRE(wait_exit(a) == 0);

  const json report = json::parse(read_file(ws.dir / "a.out"));
  const json api = target_of(report, "api");
  CHECK(api.at("attempt").is_null());
  CHECK(api.at("held") == true);
  CHECK_THAT(api.at("plan_reason").get<std::string>(),
             Catch::Contains("attempted by another hb-recover run since this one assessed it"));
  CHECK(count_lines(ws.dir / "restart.sh.log") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM recovery_attempts WHERE target_id = 'api'") == 1);
  CHECK(ws.scalar("SELECT failed_attempts FROM recovery_state WHERE target_id = 'api'") == 1);
  // The escalation command ran once, by A; B found it claimed.
  CHECK(count_lines(ws.dir / "dispatch.sh.log") == 1);
}

TEST_CASE("hb-recover: an attempt another run had under way at this run's assessment is not repeated")
{
  TestHttpServer server;
  Workspace ws;
  // Run B is in api's action (it waits for "go-b") when run A assesses; A then waits in a shared
  // cause's escalation command (for "go-a") while B fails, backs api off for an hour and lets go.
  // api's last attempt started before A's assessment, so only its new counters tell A.
  const int dead_port = closed_port();
  json targets = json::array({flag_target("api", server, ws.dir / "up")});
  add_dead_port_targets(targets, 3, dead_port);
  const std::string restart =
    script(ws, "restart.sh", "echo \"$1\" >> \"$0.log\"; " + wait_for_file("go-b"));
  const std::string dispatch =
    script(ws, "dispatch.sh", "cat > /dev/null; echo called >> \"$0.log\"; " + wait_for_file("go-a"));
  ws.write_config(config_text(targets, {{"shared_cause_min", 3},
                                        {"verify_after", "0s"},
                                        {"backoff", "1h"},
                                        {"backoff_max", "2h"},
                                        {"escalate_after", 5},
                                        {"escalation", {{"command", json::array({dispatch})}}},
                                        {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  const pid_t b = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db, "--target", "api"},
                             {{"HB_NOW", at_minutes(1)}}, ws.dir / "b.out", ws.dir / "b.err");
  int exit_code = 0;
  REQUIRE(wait_for_file_or_exit(ws.dir / "restart.sh.log", b, exit_code));
  const pid_t a = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db, "--json"},
                             {{"HB_NOW", at_minutes(1)}}, ws.dir / "a.out", ws.dir / "a.err");
  REQUIRE(wait_for_file_or_exit(ws.dir / "dispatch.sh.log", a, exit_code));
  ws.dir.write("go-b", "");
  INFO("run B: " << read_file(ws.dir / "b.err"));
  REQUIRE(wait_exit(b) == 0);
  ws.dir.write("go-a", "");
  INFO("run A: " << read_file(ws.dir / "a.err"));
  REQUIRE(wait_exit(a) == 0);

  const json api = target_of(json::parse(read_file(ws.dir / "a.out")), "api");
  CHECK(api.at("attempt").is_null());
  CHECK(api.at("held") == true);
  CHECK_THAT(api.at("plan_reason").get<std::string>(), Catch::Contains("backing off"));
  CHECK(count_lines(ws.dir / "restart.sh.log") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM recovery_attempts WHERE target_id = 'api'") == 1);
}

TEST_CASE("hb-recover: runs that overlap record a shared cause once")
{
  Workspace ws;
  const int dead_port = closed_port();
  json targets = json::array();
  add_dead_port_targets(targets, 5, dead_port);
  ws.write_config(config_text(targets, {{"shared_cause_min", 3}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  std::vector<pid_t> runs;
  for (int r = 0; r < 4; ++r) {
    runs.push_back(spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db, "--json"},
                              {{"HB_NOW", at_minutes(1)}}, ws.dir / fmt::format("run-{}.out", r),
                              ws.dir / fmt::format("run-{}.err", r)));
  }
  int opened = 0;
  for (int r = 0; r < 4; ++r) {
    INFO("run " << r << ": " << read_file(ws.dir / fmt::format("run-{}.err", r)));
    REQUIRE(wait_exit(runs[static_cast<std::size_t>(r)]) == 0);
    const json report = json::parse(read_file(ws.dir / fmt::format("run-{}.out", r)));
    opened += static_cast<int>(report.at("escalations_opened").size());
    CHECK(report.at("run").at("escalated") == report.at("escalations_opened").size());
  }
  CHECK(opened == 1);
  CHECK(ws.scalar("SELECT count(*) FROM escalations") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'escalated'") == 1);
}

TEST_CASE("hb-recover: --reset while an attempt runs wins over that attempt's failure")
{
  TestHttpServer server;
  Workspace ws;
  // The action says it started, takes a while, and fixes nothing: the attempt fails.
  const std::string restart =
    script(ws, "restart.sh", "echo started >> \"$0.log\"; sleep 2");
  ws.write_config(config_text(json::array({flag_target("api", server, ws.dir / "up")}),
                              {{"verify_after", "0s"},
                               {"escalate_after", 1},
                               {"actions", {{"failing", json::array({restart, "${target.id}"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  const pid_t run = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                               {{"HB_NOW", at_minutes(1)}}, ws.dir / "run.out", ws.dir / "run.err");
  int exit_code = 0;
  REQUIRE(wait_for_file_or_exit(ws.dir / "restart.sh.log", run, exit_code));
  // The operator resets the target while its action runs (a later instant than the attempt's).
  const auto reset = ws.recover({"--reset", "api"}, at_minutes(1.5));
  INFO("--reset: " << reset.out << reset.err);
  CHECK(reset.exit_code == 0);
  CHECK_THAT(reset.out, Catch::Contains("counters reset"));
  INFO("the run: " << read_file(ws.dir / "run.err"));
  REQUIRE(wait_exit(run) == 0);

  // The attempt is recorded as failed, but the reset stands: no failed attempt counted, no
  // backoff, no escalation (escalate_after 1 would have opened one).
  CHECK(ws.text("SELECT result FROM recovery_attempts WHERE target_id = 'api'") == "failed");
  CHECK_THAT(ws.text("SELECT message FROM recovery_attempts WHERE target_id = 'api'"),
             Catch::Contains("not counted: hb-recover --reset ran while it did"));
  CHECK(ws.scalar("SELECT failed_attempts FROM recovery_state WHERE target_id = 'api'") == 0);
  CHECK(ws.scalar("SELECT count(*) FROM recovery_state WHERE target_id = 'api' AND "
                  "next_attempt_at IS NULL") == 1);
  CHECK(ws.scalar("SELECT count(*) FROM escalations") == 0);
  // And the next run attempts it again at once.
  const json next = ws.recover_json({}, at_minutes(2));
  CHECK(target_of(next, "api").at("plan") == "attempt");
}

TEST_CASE("hb-recover: SIGTERM ends a running action, records the attempt as interrupted and "
          "releases the target, and after SIGKILL the next run takes over")
{
  TestHttpServer server;
  Workspace ws;
  const auto started = ws.dir / "started";
  const std::string slow = script(ws, "slow.sh", "echo $$ > '" + started.string() + "'; exec sleep 30");
  ws.write_config(config_text(
      json::array({flag_target("api", server, ws.dir / "up", {{"checks", json::array({{{"name", "health"},
          {"type", "http"}, {"timeout", "1s"}, {"url", server.url("/status/503")}}})}})}),
      {{"verify_after", "0s"}, {"actions", {{"failing", {{"command", json::array({slow})}, {"timeout", "5s"}}}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);

  SECTION("SIGTERM")
  {
    const pid_t pid = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                                 {{"HB_NOW", at_minutes(1)}}, ws.dir / "out", ws.dir / "err");
    REQUIRE(wait_for_file(started, std::chrono::seconds(20)));
    const pid_t action = std::stoi(read_file(started));
    ::kill(pid, SIGTERM);
    CHECK(wait_exit(pid) == 143);
    CHECK(::kill(action, 0) != 0);  // the action was terminated with the run
    CHECK(ws.text("SELECT result FROM recovery_attempts") == "interrupted");
    CHECK(ws.text("SELECT status FROM recovery_runs") == "interrupted");
    // Released: the next run attempts at once (an interrupted attempt sets no backoff).
    std::filesystem::remove(started);
    const pid_t next = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                                  {{"HB_NOW", at_minutes(2)}}, ws.dir / "out2", ws.dir / "err2");
    REQUIRE(wait_for_file(started, std::chrono::seconds(20)));
    ::kill(next, SIGTERM);
    CHECK(wait_exit(next) == 143);
  }
  SECTION("SIGKILL")
  {
    const pid_t pid = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                                 {{"HB_NOW", at_minutes(1)}}, ws.dir / "out", ws.dir / "err");
    REQUIRE(wait_for_file(started, std::chrono::seconds(20)));
    const pid_t action = std::stoi(read_file(started));
    ::kill(pid, SIGKILL);
    wait_exit(pid);
    ::kill(action, SIGKILL);
    CHECK(ws.text("SELECT result FROM recovery_attempts") == "running");

    // While the dead run's claim lasts, nobody else works on the target.
    const json held = ws.recover_json({}, at_minutes(2));
    CHECK(target_of(held, "api").at("held") == true);
    CHECK(target_of(held, "api").at("attempt").is_null());

    // After the claim expires the next run takes over, and the dead attempt is closed.
    // Each run either ends at once (still held) or starts the action (taken over).
    bool taken = false;
    for (int i = 0; i < 90 && !taken; ++i) {
      std::filesystem::remove(started);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const pid_t next = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                                    {{"HB_NOW", at_minutes(3)}}, ws.dir / "out3", ws.dir / "err3");
      int exit_code = -1;
      if (wait_for_file_or_exit(started, next, exit_code)) {
        taken = true;
        ::kill(next, SIGTERM);
        CHECK(wait_exit(next) == 143);
      } else {
        REQUIRE(exit_code == 0);
      }
    }
    CHECK(taken);
    CHECK(ws.scalar("SELECT count(*) FROM recovery_attempts WHERE result = 'running'") == 0);
    CHECK(ws.scalar("SELECT count(*) FROM recovery_attempts WHERE result = 'interrupted'") == 2);
  }
}

TEST_CASE("hb-recover: --dry-run says why targets are left alone")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(
      json::array({flag_target("paused-one", server, ws.dir / "x", {{"paused", true}}),
                   flag_target("opted-out", server, ws.dir / "x", {{"recovery", {{"enabled", false}}}}),
                   flag_target("db", server, ws.dir / "x"),
                   flag_target("app", server, ws.dir / "x", {{"depends_on", {"db"}}}),
                   flag_target("maint", server, ws.dir / "x")}),
      json::object(),
      {{"maintenance", json::array({{{"name", "upgrade"}, {"targets", {"maint"}},
                                     {"start", k_t0}, {"end", at_minutes(120)}}})}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  const auto r = ws.recover({"--dry-run"}, at_minutes(1));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("paused-one") && Catch::Contains("paused"));
  CHECK_THAT(r.out, Catch::Contains("disabled for this target"));
  CHECK_THAT(r.out, Catch::Contains("upstream db is failing"));
  CHECK_THAT(r.out, Catch::Contains("maintenance \"upgrade\""));
  CHECK_THAT(r.out, Catch::Contains("re-check (no action configured)"));
  CHECK(ws.scalar("SELECT count(*) FROM recovery_runs") == 0);
}

TEST_CASE("hb-recover: an offline agent gets its `offline` action, verified by its beats")
{
  TestHttpServer server;
  Workspace ws;
  // The "restart" makes the agent beat again, as a restarted agent would.
  const std::string restart = script(
      ws, "restart-agent.sh",
      "'" + tool_path("hb-beat") + "' --config '" + ws.config + "' --db '" + ws.db + "' \"$1\"");
  ws.write_config(config_text(
      json::array({{{"id", "worker"}, {"kind", "agent"},
                    {"heartbeat", {{"every", "30s"}, {"recover_after", 1}}},
                    {"recovery", {{"actions", {{"offline", json::array({restart, "${target.id}"})}}}}}}}),
      {{"verify_after", "0s"}}));
  REQUIRE(ws.beat({"worker"}, k_t0).exit_code == 0);
  // Silent for 10 minutes: offline. The action runs hb-beat (which inherits HB_NOW, so it beats
  // at the run's instant), and the verification reads the beats.
  const json report = ws.recover_json({}, at_minutes(10));
  const json worker = target_of(report, "worker");
  CHECK(worker.at("issue") == "offline");
  REQUIRE(worker.at("attempt").is_object());
  CHECK(worker.at("attempt").at("steps")[0].at("kind") == "check");
  CHECK(worker.at("attempt").at("steps")[0].at("what") == "read its beats");
  CHECK(worker.at("attempt").at("steps")[1].at("kind") == "action");
  CHECK(worker.at("attempt").at("result") == "recovered");
}

TEST_CASE("hb-recover: a stopped hb-recover scheduler is reported once by the next pulses")
{
  TestHttpServer server;
  Workspace ws;
  ws.dir.write("up", "");
  ws.write_config(R"({"recovery": {"interval": "5m"}, "pulse": {"interval": "1h"},
    "targets": [{"id": "api", "interval": "1h", "checks": [{"name": "h", "type": "http", "url": ")" +
                  server.url("/ok") + R"("}]}]})");
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  REQUIRE(ws.recover({}, at_minutes(1)).exit_code == 0);
  CHECK(ws.status_json({}, at_minutes(2)).at("recovery").at("state") == "alive");

  // An hour without hb-recover: stale. The next pulse records it once; the one after does not.
  const json stale = ws.status_json({}, at_minutes(60));
  CHECK(stale.at("recovery").at("state") == "stale");
  CHECK(stale.at("exitCode") == 1);  // a warning: everything else is healthy
  REQUIRE(ws.pulse({}, at_minutes(61)).exit_code == 0);
  REQUIRE(ws.pulse({}, at_minutes(122)).exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'recover_stale'") == 1);
  // Running again makes it alive; stopping again is a new incident.
  REQUIRE(ws.recover({}, at_minutes(123)).exit_code == 0);
  CHECK(ws.status_json({}, at_minutes(124)).at("recovery").at("state") == "alive");
  REQUIRE(ws.pulse({}, at_minutes(200)).exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'recover_stale'") == 2);
}

TEST_CASE("hb-recover: an escalation command cut short by a crash runs again at the next run")
{
  TestHttpServer server;
  Workspace ws;
  const auto flag = ws.dir / "up";
  const auto log = ws.dir / "dispatch.log";
  // Slow until the file "quick" exists; says when it starts and ends.
  const std::string dispatch = script(
    ws, "dispatch.sh",
    "echo \"start $$\" >> '" + log.string() + "'; [ -e '" + (ws.dir / "quick").string() +
      "' ] || sleep 60; cat > /dev/null; echo \"done $$\" >> '" + log.string() + "'; echo dispatched");
  ws.write_config(config_text(
    json::array({flag_target("api", server, flag)}),
    {{"verify_after", "0s"},
     {"escalate_after", 1},
     {"escalation", {{"command", {{"command", json::array({dispatch})}, {"timeout", "1s"}}}}},
     {"actions", {{"failing", json::array({"/bin/false"})}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const auto text_of = [&] { return std::filesystem::exists(log) ? read_file(log) : std::string(); };

  // The first run opens the escalation and starts the command; it is killed meanwhile.
  const pid_t pid = spawn_tool("hb-recover", {"--config", ws.config, "--db", ws.db},
                               {{"HB_NOW", at_minutes(1)}}, ws.dir / "out1", ws.dir / "err1");
  for (int i = 0; i < 200 && text_of().find("start") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_THAT(text_of(), Catch::Contains("start"));
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  const std::string first = text_of();
  const auto script_pid = std::stoi(first.substr(first.find(' ') + 1));
  ::kill(script_pid, SIGKILL);
  CHECK(ws.text("SELECT command_result FROM escalations") == "");

  // A run while the claim lasts (by the database's clock: the command's timeout, 1 s, and 5 s)
  // leaves the command alone.
  ws.dir.write("quick", "");
  REQUIRE(ws.recover({}, at_minutes(5)).exit_code >= 0);
  CHECK(count_lines(log) == 1);
  // The next run after it expired runs the command to its end and records it; the run after
  // that does not run it again.
  std::this_thread::sleep_for(std::chrono::milliseconds(6500));
  REQUIRE(ws.recover({}, at_minutes(10)).exit_code >= 0);
  CHECK(count_lines(log) == 3);  // start (killed), start, done
  CHECK_THAT(ws.text("SELECT command_result FROM escalations"), Catch::Contains("dispatch.sh: exited 0"));
  REQUIRE(ws.recover({}, at_minutes(20)).exit_code >= 0);
  CHECK(count_lines(log) == 3);
}
