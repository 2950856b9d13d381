// SPDX-License-Identifier: MIT
// End-to-end tests of hb-diagnose: each finding built for real (a local HTTP server answering
// 429, hanging or slow, a plugin path that does not exist, a missing environment variable, five
// targets on one dead port, a flapping service, a recovery action that exits 0 while the check
// keeps failing, a channel that always fails, a stale pulse through HB_NOW), and the finding's
// id, severity and evidence checked. Every --json is validated against its schema.
#include "e2e_helpers.hpp"

#include "output/style.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

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

json http_target(const std::string& id, const std::string& url, json extra = json::object())
{
  json t{{"id", id},
         {"interval", "5m"},
         {"checks", json::array({{{"name", "health"}, {"type", "http"}, {"timeout", "2s"},
                                  {"url", url}}})}};
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

std::string config_text(json targets, json extra = json::object())
{
  json c{{"targets", std::move(targets)}, {"pulse", {{"interval", "5m"}}}};
  for (auto& [k, v] : extra.items()) {
    c[k] = v;
  }
  return c.dump(2);
}

ToolResult diagnose(const Workspace& ws, std::vector<std::string> args, const std::string& now,
                    std::map<std::string, std::string> env = {})
{
  args.insert(args.begin(), {"--config", ws.config, "--db", ws.db});
  env["HB_NOW"] = now;
  auto r = run_tool("hb-diagnose", args, env);
  if (std::find(args.begin(), args.end(), "--json") != args.end() && !r.out.empty()) {
    const std::string errors = schema_errors(schema_file("hb-diagnose.schema.json"), r.out);
    if (!errors.empty()) {
      FAIL_CHECK("hb-diagnose --json does not match its schema:\n" << errors);
    }
  }
  return r;
}

// Runs hb-diagnose --json and returns what it printed; its exit code must be the JSON's.
json diagnose_json(const Workspace& ws, std::vector<std::string> args, const std::string& now,
                   std::map<std::string, std::string> env = {})
{
  args.push_back("--json");
  const auto r = diagnose(ws, args, now, std::move(env));
  INFO("stderr: " << r.err);
  REQUIRE((r.exit_code >= 0 && r.exit_code <= 2));
  auto out = json::parse(r.out);
  CHECK(out.at("exitCode") == r.exit_code);
  // scripts/diagnose-examples collects what the tests saw, for docs/diagnose.md.
  if (const char* file = std::getenv("HB_DIAGNOSE_EXAMPLES"); file != nullptr && *file != '\0') {
    std::ofstream(file, std::ios::app) << out.dump() << '\n';
  }
  return out;
}

std::vector<json> findings(const json& report, const std::string& id)
{
  std::vector<json> out;
  for (const auto& f : report.at("findings")) {
    if (f.at("id") == id) {
      out.push_back(f);
    }
  }
  return out;
}

json the_finding(const json& report, const std::string& id)
{
  const auto found = findings(report, id);
  INFO(report.dump(2));
  REQUIRE(found.size() == 1);
  return found.front();
}

std::string evidence(const json& finding)
{
  std::string text;
  for (const auto& line : finding.at("evidence")) {
    text += line.get<std::string>() + "\n";
  }
  return text;
}

std::string file_bytes(const std::filesystem::path& path)
{
  return std::filesystem::exists(path) ? read_file(path) : std::string("<none>");
}

} // namespace

TEST_CASE("hb-diagnose: a healthy fleet has no findings and exit 0")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("api", server.url("/ok")),
                                           http_target("web", server.url("/ok"))})));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(ws.pulse({}, at_minutes(5 * i)).exit_code == 0);
  }
  const json report = diagnose_json(ws, {}, at_minutes(11));
  CHECK(report.at("findings").empty());
  CHECK(report.at("exitCode") == 0);
  CHECK(report.at("targetsExamined") == 2);
  CHECK(report.at("databaseInfo").at("integrity") == "ok");
  CHECK(report.at("databaseInfo").at("rowsLastDay") == 6);

  const auto text = diagnose(ws, {}, at_minutes(11));
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("No findings") && Catch::Contains("integrity ok"));

  // Read-only: the database and its WAL are byte for byte what they were.
  const std::string before = file_bytes(ws.db) + file_bytes(ws.db + "-wal");
  REQUIRE(diagnose(ws, {"--integrity"}, at_minutes(12)).exit_code == 0);
  CHECK((file_bytes(ws.db) + file_bytes(ws.db + "-wal")) == before);
}

TEST_CASE("hb-diagnose: HTTP 429 is rate limiting with the seeds' advice")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("pos", server.url("/status/429")),
                                           http_target("api", server.url("/ok"))})));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(ws.pulse({}, at_minutes(5 * i)).exit_code >= 0);
  }
  const json report = diagnose_json(ws, {}, at_minutes(11));
  CHECK(report.at("exitCode") == 2);
  const json f = the_finding(report, "check.rate_limited");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "pos");
  CHECK(f.at("check") == "health");
  CHECK_THAT(evidence(f), Catch::Contains("3 of 3 (100%) runs failed") &&
                            Catch::Contains("3× HTTP 429") &&
                            Catch::Contains("failing since " + k_t0));
  CHECK_THAT(f.at("recommendation").get<std::string>(),
             Catch::Contains("rate limiting") && Catch::Contains("cache"));
  CHECK(report.at("findings").size() == 1);  // the healthy target is not mentioned

  // One target only, and the threshold.
  CHECK(diagnose_json(ws, {"api"}, at_minutes(11)).at("findings").empty());
  CHECK(diagnose_json(ws, {"pos"}, at_minutes(11)).at("findings").size() == 1);
}

TEST_CASE("hb-diagnose: a service that does not answer is a timeout")
{
  TestHttpServer server;
  Workspace ws;
  json target = http_target("slowpoke", server.url("/hang"));
  target["checks"][0]["timeout"] = "1s";
  ws.write_config(config_text(json::array({target})));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json f = the_finding(diagnose_json(ws, {}, at_minutes(1)), "check.timeout");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "slowpoke");
  CHECK_THAT(evidence(f), Catch::Contains("1× timed out") && Catch::Contains("/hang"));
}

TEST_CASE("hb-diagnose: a plugin path that does not exist")
{
  Workspace ws;
  const json target{{"id", "disk"},
                    {"interval", "5m"},
                    {"checks", json::array({{{"name", "root"},
                                             {"type", "command"},
                                             {"command", json::array({"/nonexistent/check_disk", "-w", "10%"})}}})}};
  ws.write_config(config_text(json::array({target})));
  // Found from the config alone, before any pulse ran.
  json report = diagnose_json(ws, {}, k_t0);
  json f = the_finding(report, "config.command_missing");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "disk");
  CHECK(f.at("check") == "root");
  CHECK_THAT(evidence(f), Catch::Contains("/nonexistent/check_disk\" does not exist"));
  CHECK(findings(report, "scheduler.pulse_never_ran").size() == 1);

  // After a pulse, the check's failure is explained too.
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  report = diagnose_json(ws, {}, at_minutes(1));
  CHECK(findings(report, "config.command_missing").size() == 1);
  f = the_finding(report, "check.cannot_run");
  CHECK(f.at("target") == "disk");
}

TEST_CASE("hb-diagnose: a secret variable that is not set")
{
  TestHttpServer server;
  Workspace ws;
  json target = http_target("api", server.url("/ok"));
  target["checks"][0]["headers"] = {{"Authorization", "Bearer ${HB_TEST_DIAG_TOKEN}"}};
  ws.write_config(config_text(json::array({target})));
  REQUIRE(ws.pulse({}, k_t0, {{"HB_TEST_DIAG_TOKEN", "s3cr3t-value"}}).exit_code == 0);

  // hb-diagnose explains instead of exiting 78, and still reads the database.
  const json report = diagnose_json(ws, {}, at_minutes(1));
  const json f = the_finding(report, "config.secret_missing");
  CHECK(f.at("severity") == "critical");
  CHECK_THAT(f.at("title").get<std::string>(), Catch::Contains("HB_TEST_DIAG_TOKEN"));
  CHECK(report.at("databaseExists") == true);
  CHECK(report.at("exitCode") == 2);

  // With it set, nothing to say; the secret never appears.
  const auto r = diagnose(ws, {"--json"}, at_minutes(1), {{"HB_TEST_DIAG_TOKEN", "s3cr3t-value"}});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("s3cr3t") == std::string::npos);
}

TEST_CASE("hb-diagnose: five targets on one dead port are one shared cause")
{
  Workspace ws;
  json targets = json::array();
  for (int i = 1; i <= 5; ++i) {
    targets.push_back(http_target(fmt::format("tenant{}", i),
                                  fmt::format("http://127.0.0.1:9/tenant/{}", i)));
  }
  ws.write_config(config_text(targets));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(1));
  const json f = the_finding(report, "shared.cause");
  CHECK(f.at("severity") == "critical");
  CHECK_THAT(f.at("title").get<std::string>(),
             Catch::Contains("5 targets") && Catch::Contains("127.0.0.1:9"));
  CHECK_THAT(evidence(f), Catch::Contains("tenant1, tenant2, tenant3, tenant4, tenant5"));
  CHECK_THAT(f.at("recommendation").get<std::string>(), Catch::Contains("Do not restart"));
  // Each target's own finding names the refused connection.
  CHECK(findings(report, "check.refused").size() == 5);
  // Diagnosing one of them still shows the shared cause.
  CHECK(findings(diagnose_json(ws, {"tenant3"}, at_minutes(1)), "shared.cause").size() == 1);
}

TEST_CASE("hb-diagnose: a flapping service with its transitions")
{
  TestHttpServer server;
  Workspace ws;
  const auto flag = ws.dir / "up";
  ws.write_config(config_text(json::array({http_target("flappy", server.url("/flag?path=" + flag.string()))})));
  for (int i = 0; i < 8; ++i) {
    if (i % 2 == 0) {
      ws.dir.write("up", "");
    } else {
      std::filesystem::remove(flag);
    }
    REQUIRE(ws.pulse({}, at_minutes(5 * i)).exit_code >= 0);
  }
  const json report = diagnose_json(ws, {}, at_minutes(36));
  const json f = the_finding(report, "target.flapping");
  CHECK(f.at("severity") == "warning");
  CHECK(f.at("target") == "flappy");
  CHECK_THAT(evidence(f), Catch::Contains("failing") && Catch::Contains("recovered") &&
                            Catch::Contains("7 changes of state"));
}

TEST_CASE("hb-diagnose: a recovery action that exits 0 while the check keeps failing")
{
  TestHttpServer server;
  Workspace ws;
  json c = json::parse(config_text(json::array({http_target("api", server.url("/status/503"))})));
  c["recovery"] = {{"verify_after", "0s"}, {"actions", {{"failing", json::array({"/bin/true"})}}}};
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(1)).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(2));
  const json f = the_finding(report, "recovery.action_ineffective");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "api");
  CHECK_THAT(evidence(f), Catch::Contains("1 attempt") && Catch::Contains("exit code 0") &&
                            Catch::Contains("true"));
  CHECK(findings(report, "check.server_error").size() == 1);
}

TEST_CASE("hb-diagnose: a channel that always fails")
{
  TestHttpServer server;
  Workspace ws;
  server.set_status("/record/hook", 404);
  json c = json::parse(config_text(json::array({http_target("api", server.url("/status/503"))})));
  c["channels"] = {{"hook", {{"type", "webhook"}, {"url", server.url("/record/hook")}}}};
  c["notify"] = json::array({{{"channels", {"hook"}}}});
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(1));
  const json f = the_finding(report, "notify.channel_failing");
  CHECK(f.at("severity") == "critical");
  CHECK_THAT(f.at("title").get<std::string>(), Catch::Contains("\"hook\""));
  CHECK_THAT(evidence(f), Catch::Contains("0 sent, 1 failed") && Catch::Contains("404"));
}

TEST_CASE("hb-diagnose: a stale pulse, with the cron line to check")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("api", server.url("/ok"))})));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  // Three hours later no pulse has run.
  const json report = diagnose_json(ws, {}, at_minutes(180));
  const json f = the_finding(report, "scheduler.pulse_stale");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target").is_null());
  CHECK_THAT(evidence(f), Catch::Contains("last scheduled pulse started " + k_t0) &&
                            Catch::Contains("3h ago") && Catch::Contains("every 5m"));
  CHECK_THAT(f.at("recommendation").get<std::string>(),
             Catch::Contains("*/5 * * * * hb-pulse --config " + ws.config));
  CHECK(report.at("exitCode") == 2);
  // --severity critical keeps it; the text fits 80 columns.
  const auto text = diagnose(ws, {"--severity", "critical"}, at_minutes(180));
  CHECK(text.exit_code == 2);
  std::istringstream lines(text.out);
  for (std::string line; std::getline(lines, line);) {
    CHECK(hb::output::display_width(line) <= 80);
  }
}

TEST_CASE("hb-diagnose: latency against the target's own 7-day baseline")
{
  TestHttpServer server;
  Workspace ws;
  // 30 hours of quick answers, hourly.
  ws.write_config(config_text(json::array({http_target("api", server.url("/ok"), {{"interval", "1h"}})}),
                              {{"pulse", {{"interval", "1h"}}}}));
  for (int h = 0; h < 30; ++h) {
    REQUIRE(ws.pulse({}, at_minutes(60.0 * h)).exit_code == 0);
  }
  const double last_hour = 60.0 * 30;
  CHECK(findings(diagnose_json(ws, {}, at_minutes(last_hour)), "latency.anomaly").empty());
  // Then the same service answers in 600 ms for an hour: still passing, but anomalous.
  ws.write_config(config_text(json::array({http_target("api", server.url("/slow/600"), {{"interval", "10m"}})}),
                              {{"pulse", {{"interval", "10m"}}}}));
  for (int i = 0; i < 4; ++i) {
    REQUIRE(ws.pulse({}, at_minutes(last_hour + 10 * i)).exit_code == 0);
  }
  const json report = diagnose_json(ws, {}, at_minutes(last_hour + 35));
  const json f = the_finding(report, "latency.anomaly");
  CHECK(f.at("severity") == "warning");
  CHECK(f.at("target") == "api");
  CHECK_THAT(evidence(f), Catch::Contains("over 4 runs") && Catch::Contains("robust z-score"));
}

TEST_CASE("hb-diagnose: usage errors and an unknown target")
{
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("api", "http://127.0.0.1:9/")})));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  CHECK(diagnose(ws, {"--severity", "loud"}, k_t0).exit_code == 64);
  CHECK(diagnose(ws, {"--window", "0s"}, k_t0).exit_code == 64);
  const auto unknown = diagnose(ws, {"nope"}, k_t0);
  CHECK(unknown.exit_code == 65);
  CHECK_THAT(unknown.err, Catch::Contains("unknown target \"nope\""));
  // A config that is not valid is a finding, not exit 78.
  ws.write_config(R"({"targets": [{"id": "api", "interval": "soon"}]})");
  const json report = diagnose_json(ws, {}, k_t0);
  const json f = the_finding(report, "config.invalid");
  CHECK_THAT(evidence(f), Catch::Contains("interval"));
  // An unknown timezone and a cron expression that cannot be, each named with where it is.
  ws.write_config(R"({"targets": [{"id": "api", "timezone": "Mars/Olympus_Mons"}]})");
  CHECK_THAT(evidence(the_finding(diagnose_json(ws, {}, k_t0), "config.invalid")),
             Catch::Contains("Mars/Olympus_Mons") && Catch::Contains("targets[0].timezone"));
  ws.write_config(R"({"schedules": [{"name": "r", "cron": "61 * * * *", "command": ["/bin/true"]}]})");
  CHECK_THAT(evidence(the_finding(diagnose_json(ws, {}, k_t0), "config.invalid")),
             Catch::Contains("schedules[0].cron") && Catch::Contains("61"));
}

TEST_CASE("hb-diagnose: a spent restart budget, a failing action and an open escalation")
{
  TestHttpServer server;
  Workspace ws;
  json c = json::parse(config_text(json::array({http_target("api", server.url("/status/503"))}),
                                   {{"pulse", {{"interval", "1h"}}}}));
  c["recovery"] = {{"verify_after", "0s"},   {"backoff", "1m"},  {"backoff_max", "1m"},
                   {"escalate_after", 1},    {"max_attempts", 2},
                   {"actions", {{"failing", json::array({"/bin/sh", "-c", "echo no such unit; exit 5"})}}}};
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(1)).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(3)).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(5)).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(6));

  json f = the_finding(report, "recovery.suspended");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "api");
  CHECK_THAT(f.at("recommendation").get<std::string>(), Catch::Contains("hb-recover --reset api"));
  CHECK_THAT(evidence(f), Catch::Contains("2 failed attempts") &&
                            Catch::Contains("budget: 2 attempts within 6h"));

  f = the_finding(report, "recovery.action_failed");
  CHECK(f.at("target") == "api");
  CHECK_THAT(evidence(f), Catch::Contains("exit code 5") && Catch::Contains("no such unit"));

  f = the_finding(report, "escalation.open");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "api");
  CHECK_THAT(evidence(f), Catch::Contains("targets: api"));
}

TEST_CASE("hb-diagnose: an agent gone silent and a job that failed")
{
  Workspace ws;
  ws.write_config(json{{"pulse", {{"interval", "5m"}}},
                       {"targets", json::array({{{"id", "edge"}, {"kind", "agent"},
                                                 {"heartbeat", {{"every", "1m"}, {"offline_after", 3}}}},
                                                {{"id", "backup"}, {"kind", "job"}}})}}
                    .dump());
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  REQUIRE(ws.beat({"edge", "--message", "queue 12"}, k_t0).exit_code == 0);
  REQUIRE(ws.beat({"backup", "--", "/bin/sh", "-c", "echo disk full; exit 3"}, k_t0).exit_code == 3);
  REQUIRE(ws.pulse({}, at_minutes(4)).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(10));
  json f = the_finding(report, "agent.offline");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("target") == "edge");
  CHECK_THAT(evidence(f), Catch::Contains("last beat " + k_t0) && Catch::Contains("queue 12"));
  f = the_finding(report, "job.failed");
  CHECK(f.at("target") == "backup");
  CHECK_THAT(evidence(f), Catch::Contains("exit code 3"));
}

TEST_CASE("hb-diagnose: a plugin's own line, and checks cut off at the pulse deadline")
{
  TestHttpServer server;
  Workspace ws;
  json hang = http_target("stuck", server.url("/hang"));
  hang["checks"][0]["timeout"] = "30s";
  const json disk{{"id", "disk"},
                  {"interval", "5m"},
                  {"checks", json::array({{{"name", "root"},
                                           {"type", "command"},
                                           {"timeout", "1s"},
                                           {"command", json::array({"/bin/sh", "-c",
                                                                    "echo 'DISK CRITICAL - / 2% free'; exit 2"})}}})}};
  ws.write_config(config_text(json::array({hang, disk}),
                              {{"pulse", {{"interval", "5m"}, {"deadline", "2s"}}}}));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(1));
  json f = the_finding(report, "check.exit_code");
  CHECK(f.at("target") == "disk");
  CHECK_THAT(evidence(f), Catch::Contains("the plugin said: DISK CRITICAL - / 2% free"));
  f = the_finding(report, "check.deadline");
  CHECK(f.at("target") == "stuck");
  CHECK_THAT(evidence(f), Catch::Contains("pulse deadline 2") );
  CHECK_THAT(f.at("recommendation").get<std::string>(), Catch::Contains("pulse.deadline"));
  f = the_finding(report, "config.timeout_over_deadline");
  CHECK(f.at("severity") == "warning");
  CHECK(f.at("target") == "stuck");
  CHECK_THAT(evidence(f), Catch::Contains("timeout 30s > pulse.deadline 2"));
}

TEST_CASE("hb-diagnose: active hours no pulse reaches, a stale target, a stale hb-recover")
{
  TestHttpServer server;
  Workspace ws;
  json c = json::parse(config_text(json::array(
    {http_target("api", server.url("/ok"), {{"stale_after", "15m"}}),
     http_target("night", server.url("/ok"), {{"active_hours", {{"start", "09:02"}, {"end", "09:03"}}}})})));
  c["recovery"] = {{"interval", "5m"}};
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(1)).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(40));
  json f = the_finding(report, "config.never_active");
  CHECK(f.at("target") == "night");
  CHECK_THAT(evidence(f), Catch::Contains("09:02-09:03") && Catch::Contains("every 5m"));
  f = the_finding(report, "target.stale");
  CHECK(f.at("target") == "api");
  CHECK_THAT(evidence(f), Catch::Contains("last execution " + k_t0) &&
                            Catch::Contains("stale after 15m"));
  CHECK_THAT(f.at("recommendation").get<std::string>(), Catch::Contains("scheduler"));
  f = the_finding(report, "scheduler.recover_stale");
  CHECK_THAT(f.at("recommendation").get<std::string>(),
             Catch::Contains("*/5 * * * * hb-recover --config " + ws.config));
  CHECK(findings(report, "scheduler.pulse_stale").size() == 1);
}

TEST_CASE("hb-diagnose: notifications waiting for over an hour")
{
  TestHttpServer server;
  Workspace ws;
  server.set_status("/record/hook", 503);  // retried: it stays pending
  json c = json::parse(config_text(json::array({http_target("api", server.url("/status/500"))}),
                                   {{"pulse", {{"interval", "1h"}}}}));
  c["channels"] = {{"hook", {{"type", "webhook"}, {"url", server.url("/record/hook")}}}};
  c["notify"] = json::array({{{"channels", {"hook"}}}});
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  CHECK(findings(diagnose_json(ws, {}, at_minutes(30)), "notify.backlog").empty());
  const json report = diagnose_json(ws, {}, at_minutes(90));
  const json f = the_finding(report, "notify.backlog");
  CHECK(f.at("severity") == "warning");
  CHECK_THAT(evidence(f), Catch::Contains("1 pending, 0 held") && Catch::Contains("503"));
  CHECK(findings(report, "notify.channel_failing").empty());
}

TEST_CASE("hb-diagnose: a damaged database", "[sqlite]")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("api", server.url("/ok"))})));
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  long long root = 0;
  long long page = 0;
  {
    SQLite::Database db(ws.db, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    root = db.execAndGet("SELECT rootpage FROM sqlite_master WHERE name = 'outbox_by_time'").getInt64();
    page = db.execAndGet("PRAGMA page_size").getInt64();
  }
  REQUIRE(root > 1);
  {
    std::fstream file(ws.db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp((root - 1) * page);
    const std::string garbage(static_cast<std::size_t>(page), '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const json report = diagnose_json(ws, {}, at_minutes(1));
  const json f = the_finding(report, "database.corrupt");
  CHECK(f.at("severity") == "critical");
  CHECK_THAT(evidence(f), Catch::Contains("PRAGMA quick_check:") && !Catch::Contains(": ok"));
  CHECK(report.at("databaseInfo").at("integrity") != "ok");
}

TEST_CASE("hb-diagnose: a pulse dated in the future is clock skew, not a stale scheduler")
{
  TestHttpServer server;
  Workspace ws;
  ws.write_config(config_text(json::array({http_target("api", server.url("/ok"))})));
  REQUIRE(ws.pulse({}, at_minutes(60)).exit_code == 0);
  const json report = diagnose_json(ws, {}, k_t0);
  const json f = the_finding(report, "scheduler.clock_skew");
  CHECK(f.at("severity") == "warning");
  CHECK_THAT(evidence(f), Catch::Contains("1h ahead of now"));
  CHECK(findings(report, "scheduler.pulse_stale").empty());
}

TEST_CASE("hb-diagnose: a file the backup job should have written is missing")
{
  Workspace ws;
  const json target{{"id", "backups"},
                    {"interval", "5m"},
                    {"checks", json::array({{{"name", "dump"},
                                             {"type", "file"},
                                             {"path", (ws.dir / "db.sql.gz").string()},
                                             {"max_age", "1d"}}})}};
  ws.write_config(config_text(json::array({target})));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json f = the_finding(diagnose_json(ws, {}, at_minutes(1)), "check.file");
  CHECK(f.at("target") == "backups");
  CHECK(f.at("check") == "dump");
  CHECK_THAT(f.at("title").get<std::string>(), Catch::Contains("file missing"));
}

TEST_CASE("hb-diagnose: each way an HTTP check fails has its cause")
{
  TestHttpServer server;
  Workspace ws;
  json wrong = http_target("moved", server.url("/status/404"));
  json body = http_target("degraded", server.url("/body/maintenance"));
  body["checks"][0]["body_contains"] = "ok";
  json slow = http_target("sluggish", server.url("/slow/300"));
  slow["checks"][0]["max_latency"] = "100ms";
  // TLS spoken to a plain HTTP port: the handshake fails at once.
  json tls = http_target("secure", "https" + server.url("/ok").substr(4));
  ws.write_config(config_text(json::array({wrong, body, slow, tls})));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  const json report = diagnose_json(ws, {}, at_minutes(1));
  CHECK(the_finding(report, "check.http_status").at("target") == "moved");
  CHECK_THAT(the_finding(report, "check.http_status").at("title").get<std::string>(),
             Catch::Contains("HTTP 404"));
  CHECK(the_finding(report, "check.body").at("target") == "degraded");
  const json slow_finding = the_finding(report, "check.slow");
  CHECK(slow_finding.at("target") == "sluggish");
  CHECK(slow_finding.at("severity") == "warning");  // slow is a warning, not a failure
  CHECK(the_finding(report, "check.tls").at("target") == "secure");
}

TEST_CASE("hb-diagnose: recovery configured but never run, a degraded agent, history never pruned")
{
  TestHttpServer server;
  Workspace ws;
  json c = json::parse(config_text(json::array(
    {http_target("api", server.url("/ok")),
     {{"id", "edge"}, {"kind", "agent"}, {"heartbeat", {{"every", "1m"}}}}})));
  c["recovery"] = {{"actions", {{"failing", json::array({"/bin/true"})}}}};
  c["retention"] = {{"raw", "14d"}};
  ws.write_config(c.dump(2));
  // The first pulse ran 20 days ago; the next one now (it prunes, so diagnose before it).
  REQUIRE(ws.pulse({}, at_minutes(-20.0 * 24 * 60)).exit_code >= 0);
  REQUIRE(ws.beat({"edge", "--status", "degraded", "--message", "disk 91%"}, k_t0).exit_code == 0);
  const json report = diagnose_json(ws, {}, at_minutes(1));
  CHECK(the_finding(report, "scheduler.recover_never_ran").at("severity") == "critical");
  const json degraded = the_finding(report, "agent.degraded");
  CHECK(degraded.at("target") == "edge");
  CHECK_THAT(evidence(degraded), Catch::Contains("disk 91%"));
  const json prune = the_finding(report, "database.prune_overdue");
  CHECK_THAT(evidence(prune), Catch::Contains("oldest execution " + at_minutes(-20.0 * 24 * 60)) &&
                                Catch::Contains("retention.raw 14d"));
}

TEST_CASE("hb-diagnose: recovery that can only re-check")
{
  TestHttpServer server;
  Workspace ws;
  json c = json::parse(config_text(json::array({http_target("api", server.url("/status/500"))})));
  c["recovery"] = {{"verify_after", "0s"}};
  ws.write_config(c.dump(2));
  REQUIRE(ws.pulse({}, k_t0).exit_code >= 0);
  REQUIRE(ws.recover({}, at_minutes(1)).exit_code >= 0);
  const json f = the_finding(diagnose_json(ws, {}, at_minutes(2)), "recovery.no_action");
  CHECK(f.at("severity") == "warning");
  CHECK(f.at("target") == "api");
  CHECK_THAT(f.at("recommendation").get<std::string>(), Catch::Contains("recovery.actions.failing"));
}
