// SPDX-License-Identifier: MIT
// End-to-end tests of hb-status against databases written by a real hb-pulse.
#include "e2e_helpers.hpp"

using namespace hb::test;
using nlohmann::json;

namespace {

std::string two_targets(const TestHttpServer& server, const std::string& shop_path)
{
  return json{{"pulse", {{"interval", "5m"}}},
              {"targets",
               {{{"id", "api"},
                 {"name", "Public API"},
                 {"tags", {"core"}},
                 {"checks", {{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}}}}},
                {{"id", "shop"},
                 {"checks",
                  {{{"name", "home"}, {"type", "http"}, {"url", server.url(shop_path)}}}}}}}}
    .dump();
}

} // namespace

TEST_CASE("hb-status without any data exits 3")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(R"({"targets": []})");
  const auto r = ws.status();
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("no data yet") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(ws.db));
  const auto j = ws.status({"--json"});
  CHECK(j.exit_code == 3);
  CHECK(json::parse(j.out)["pulse"]["state"] == "unknown");
}

TEST_CASE("hb-status shows the pulse, the counts and one row per target")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());

  SECTION("all healthy exits 0")
  {
    ws.write_config(two_targets(server, "/ok"));
    ws.pulse_json({}, "2026-02-18T14:00:00Z");
    const auto r = ws.status({}, "2026-02-18T14:02:00Z");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("pulse: alive") != std::string::npos);
    CHECK(r.out.find("targets: 2 total, 2 healthy, 0 failing") != std::string::npos);
    CHECK(r.out.find("api") != std::string::npos);
    CHECK(r.out.find("2m ago") != std::string::npos);
    CHECK(r.out.find("\033[") == std::string::npos);  // no colour when not a terminal
  }

  SECTION("a failing target exits 2 and shows its message")
  {
    ws.write_config(two_targets(server, "/status/502"));
    ws.pulse_json({}, "2026-02-18T14:00:00Z");
    const auto r = ws.status({}, "2026-02-18T14:01:00Z");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("failing") != std::string::npos);
    CHECK(r.out.find("home: HTTP 502 (expected 200-399)") != std::string::npos);

    const auto j = json::parse(ws.status({"--json"}, "2026-02-18T14:01:00Z").out);
    CHECK(j["schema"] == 1);
    CHECK(j["exitCode"] == 2);
    CHECK(j["counts"]["failing"] == 1);
    CHECK(j["counts"]["healthy"] == 1);
    CHECK(j["pulse"]["state"] == "alive");
    CHECK(j["pulse"]["last"]["targetsRun"] == 2);
    CHECK(j["pulse"]["nextExpected"] == "2026-02-18T14:05:00Z");
    for (const auto& t : j["targets"]) {
      if (t["id"] == "shop") {
        CHECK(t["health"] == "failing");
        CHECK(t["executions24h"] == 1);
        CHECK(t["failureRate24h"] == 1.0);
        CHECK(t["lastRun"] == "2026-02-18T14:00:00Z");
        CHECK(t["message"] == "home: HTTP 502 (expected 200-399)");
      } else {
        CHECK(t["name"] == "Public API");
        CHECK(t["tags"] == json{"core"});
        CHECK(t["failureRate24h"] == 0.0);
      }
    }
  }

  SECTION("--color always paints states")
  {
    ws.write_config(two_targets(server, "/ok"));
    ws.pulse_json({}, "2026-02-18T14:00:00Z");
    const auto r = ws.status({"--color", "always"}, "2026-02-18T14:01:00Z");
    CHECK(r.out.find("\033[32mhealthy\033[0m") != std::string::npos);
  }

  SECTION("a stale pulse is reported loudly and exits 2")
  {
    ws.write_config(two_targets(server, "/ok"));
    ws.pulse_json({}, "2026-02-18T14:00:00Z");
    // 1.5 × 5m later the scheduler has missed a beat.
    const auto r = ws.status({}, "2026-02-18T14:30:00Z");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("pulse: warning") != std::string::npos);
    CHECK(r.err.find("is the scheduler still running hb-pulse?") != std::string::npos);
    const auto j = json::parse(ws.status({"--json"}, "2026-02-18T14:30:00Z").out);
    CHECK(j["pulse"]["state"] == "warning");
    // The next pulse says so too.
    const auto p = ws.pulse({}, "2026-02-18T14:30:00Z");
    CHECK(p.err.find("system pulse is warning") != std::string::npos);
  }
}

TEST_CASE("hb-status TARGET shows checks, recent executions and events")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(two_targets(server, "/ok"));
  ws.pulse_json({}, "2026-02-18T14:00:00Z");
  server.set_status("/ok", 503);
  ws.pulse_json({}, "2026-02-18T14:30:00Z");

  const auto r = ws.status({"api"}, "2026-02-18T14:31:00Z");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("api (Public API, service): failing since 2026-02-18T14:30:00Z") != std::string::npos);
  CHECK(r.out.find("GET " + server.url("/ok")) == std::string::npos);  // the last result is shown instead
  CHECK(r.out.find("HTTP 503 (expected 200-399)") != std::string::npos);
  CHECK(r.out.find("recent executions:") != std::string::npos);
  CHECK(r.out.find("healthy → failing") != std::string::npos);

  const auto j = json::parse(ws.status({"api", "--json"}, "2026-02-18T14:31:00Z").out);
  CHECK(j["id"] == "api");
  CHECK(j["health"] == "failing");
  CHECK(j["checks"][0]["name"] == "home");
  CHECK(j["checks"][0]["description"] == "GET " + server.url("/ok"));
  CHECK(j["checks"][0]["last"]["status"] == "alert");
  CHECK(j["recent"].size() == 2);
  CHECK(j["recent"][0]["status"] == "alert");
  CHECK(j["events"][0]["type"] == "failing");

  SECTION("an unknown target exits 65 and suggests the closest")
  {
    const auto bad = ws.status({"apj"});
    CHECK(bad.exit_code == 65);
    CHECK(bad.err == "hb-status: error: unknown target \"apj\" (did you mean \"api\"?)\n");
  }
}

TEST_CASE("hb-status reports a failed pulse")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"pulse", {{"deadline", "2s"}}},
                       {"targets",
                        {{{"id", "slow"},
                          {"checks",
                           {{{"name", "sleepy"}, {"type", "command"}, {"command", {"/bin/sleep", "20"}},
                             {"timeout", "30s"}}}}}}}}
                    .dump());
  CHECK(ws.pulse({}, "2026-02-18T14:00:00Z").exit_code == 0);
  const auto r = ws.status({"--json"}, "2026-02-18T14:01:00Z");
  CHECK(r.exit_code == 2);
  const auto j = json::parse(r.out);
  CHECK(j["pulse"]["state"] == "error");
  CHECK(j["pulse"]["last"]["status"] == "error");
}

TEST_CASE("hb-status reports targets whose checks stopped running as stale")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"pulse", {{"interval", "5m"}}},
                       {"defaults", {{"stale_after", "2h"}}},
                       {"targets",
                        {{{"id", "api"},
                          {"checks", {{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}}}}},
                         {{"id", "night"},
                          {"active_hours", {{"start", "09:00"}, {"end", "10:00"}}},
                          {"checks", {{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}}}}}}}}
                    .dump());
  // 14:00 UTC: "night" is outside its window and never runs; "api" runs every pulse.
  ws.pulse_json({}, "2026-02-18T14:00:00Z");
  ws.pulse_json({}, "2026-02-18T15:00:00Z");
  ws.pulse_json({}, "2026-02-18T16:01:00Z");
  const auto r = ws.status({"--json"}, "2026-02-18T16:02:00Z");
  CHECK(r.exit_code == 2);
  const auto j = json::parse(r.out);
  CHECK(j["pulse"]["state"] == "alive");
  CHECK(j["counts"]["stale"] == 1);
  // A partition: "night" is stale, not also "not yet run".
  CHECK(j["counts"]["unknown"] == 0);
  CHECK(j["counts"]["healthy"] == 1);
  const auto& c = j["counts"];
  CHECK(c["healthy"].get<int>() + c["warning"].get<int>() + c["failing"].get<int>()
          + c["unknown"].get<int>() + c["paused"].get<int>() + c["stale"].get<int>()
        == c["targets"].get<int>());
  for (const auto& t : j["targets"]) {
    if (t["id"] == "night") {
      CHECK(t["stale"] == true);
      CHECK(t["message"] == "stale: never ran since it appeared 2h 2m ago (stale_after 2h)");
    } else {
      CHECK(t["stale"] == false);
    }
  }
  const auto table = ws.status({}, "2026-02-18T16:02:00Z");
  CHECK(table.out.find("1 stale") != std::string::npos);
}
