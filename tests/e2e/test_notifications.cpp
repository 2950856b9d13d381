// SPDX-License-Identifier: MIT
// End-to-end tests of notifications: the built tools, a real HTTP server on 127.0.0.1 that
// records what it receives (standing in for webhook receivers and Slack), a real SQLite file.
#include "e2e_helpers.hpp"

#include "util/time.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

using namespace hb::test;
using nlohmann::json;

namespace {

const std::string k_t0 = "2026-03-02T10:00:00Z";

std::string at_minutes(int minutes)
{
  const auto t = *hb::util::parse_rfc3339(k_t0) + std::chrono::minutes(minutes);
  return hb::util::format_rfc3339(t);
}

json http_target(const std::string& id, const std::string& url, json extra = json::object())
{
  json t{{"id", id},
         {"interval", "1m"},
         {"checks", json::array({{{"name", "home"}, {"type", "http"}, {"url", url}}})}};
  for (auto& [k, v] : extra.items()) {
    t[k] = v;
  }
  return t;
}

json hook_channel(const TestHttpServer& server, const std::string& path, json extra = json::object())
{
  json c{{"type", "webhook"}, {"url", server.url(path)}};
  for (auto& [k, v] : extra.items()) {
    c[k] = v;
  }
  return c;
}

std::string config_text(json targets, json channels, json notify, json extra = json::object())
{
  // Tests jump hours ahead between pulses: an hourly pulse keeps pulse_stale events out of them.
  json c{{"targets", std::move(targets)}, {"channels", std::move(channels)},
         {"notify", std::move(notify)}, {"pulse", {{"interval", "1h"}}}};
  for (auto& [k, v] : extra.items()) {
    c[k] = v;
  }
  return c.dump(2);
}

std::vector<json> bodies(const TestHttpServer& server, const std::string& path)
{
  std::vector<json> out;
  for (const auto& r : server.recorded()) {
    if (r.path == path) {
      out.push_back(json::parse(r.body));
    }
  }
  return out;
}

std::string run_capture(const std::string& command)
{
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    out.append(buffer, n);
  }
  ::pclose(pipe);
  return out;
}

std::string file_bytes(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The notifications of `target` as hb-status TARGET --json shows them, newest first.
json notifications(const Workspace& ws, const std::string& target, const std::string& now)
{
  const auto r = ws.status({target, "--json"}, now);
  INFO("stderr: " << r.err);
  return json::parse(r.out).at("notifications");
}

ToolResult notify(const Workspace& ws, const std::string& now, std::vector<std::string> args = {})
{
  args.insert(args.begin(), {"--config", ws.config, "--db", ws.db});
  return run_tool("hb-notify", args, {{"HB_NOW", now}, {"HOOK_SECRET", "s3cr3t-hook-key"}});
}

ToolResult pulse(const Workspace& ws, const std::string& now, std::vector<std::string> args = {})
{
  return ws.pulse(std::move(args), now, {{"HOOK_SECRET", "s3cr3t-hook-key"}});
}

} // namespace

TEST_CASE("notifications: a webhook hears one failing and one recovered, signed, with a stable key")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook",
                                            {{"secret", {{"env", "HOOK_SECRET"}}},
                                             {"headers", {{"X-Team", "core"}}}})},
                      {"board", {{"type", "dashboard"}}}};
  const json rules = json::array({{{"channels", {"hook", "board"}}}});
  ws.write_config(config_text({http_target("api", server.url("/status/503"))}, channels, rules));

  auto r = pulse(ws, k_t0);
  REQUIRE(r.exit_code == 0);
  auto received = server.recorded();
  REQUIRE(received.size() == 1);
  const auto& first = received[0];
  CHECK(first.method == "POST");
  CHECK(first.header("X-Team") == "core");
  CHECK(first.header("Content-Type").find("application/json") == 0);
  const json body = json::parse(first.body);
  CHECK(body.at("event").at("type") == "failing");
  CHECK(body.at("target").at("id") == "api");
  CHECK(body.at("severity") == "alert");
  CHECK(first.header("Idempotency-Key") == body.at("id"));

  // The signature, checked by openssl rather than by our own code.
  {
    TempDir tmp;
    tmp.write("body", first.body);
    const std::string digest = run_capture("openssl dgst -sha256 -hmac 's3cr3t-hook-key' -r '"
                                           + (tmp.path() / "body").string() + "'");
    CHECK(first.header("X-Heartbeat-Signature") == "sha256=" + digest.substr(0, 64));
  }

  // Still failing: no change of state, nothing new.
  REQUIRE(pulse(ws, at_minutes(5)).exit_code == 0);
  CHECK(server.recorded().size() == 1);

  ws.write_config(config_text({http_target("api", server.url("/ok"))}, channels, rules));
  REQUIRE(pulse(ws, at_minutes(10)).exit_code == 0);
  const auto all = bodies(server, "/record/hook");
  REQUIRE(all.size() == 2);
  CHECK(all[1].at("event").at("type") == "recovered");
  CHECK(all[1].at("recovery") == true);
  CHECK(all[1].at("incident_key") == all[0].at("incident_key"));
  CHECK(all[1].at("id") != all[0].at("id"));

  const json status = ws.status_json({}, at_minutes(11));
  std::map<std::string, json> by_channel;
  for (const auto& c : status.at("channels")) {
    by_channel[c.at("channel")] = c;
  }
  CHECK(by_channel.at("hook").at("sent24h") == 2);
  CHECK(by_channel.at("board").at("sent24h") == 2);
  CHECK(by_channel.at("hook").at("pending") == 0);

  // The secret is nowhere in the database.
  CHECK(file_bytes(ws.db).find("s3cr3t-hook-key") == std::string::npos);
}

TEST_CASE("notifications: a 5xx is retried by a later run, a 4xx fails at once to the fallback")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{
      {"hook", hook_channel(server, "/record/hook", {{"fallback", "backup"}})},
      {"backup", hook_channel(server, "/record/backup")}};
  ws.write_config(config_text({http_target("api", server.url("/status/503"))}, channels,
                              json::array({{{"channels", {"hook"}}}})));

  SECTION("5xx: pending with the error, delivered by hb-notify once the backoff has passed")
  {
    server.set_status("/record/hook", 503);
    REQUIRE(pulse(ws, k_t0).exit_code == 0);
    json rows = notifications(ws, "api", at_minutes(1));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("state") == "pending");
    CHECK(rows[0].at("attempts") == 1);
    CHECK(rows[0].at("lastError").get<std::string>().find("503") != std::string::npos);
    server.clear_status("/record/hook");
    // The first retry waits at most retry_backoff (30 s).
    const auto r = notify(ws, at_minutes(1), {"--json"});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out).at("sent") == 1);
    CHECK(bodies(server, "/record/hook").size() == 1);
    rows = notifications(ws, "api", at_minutes(2));
    CHECK(rows[0].at("state") == "sent");
    CHECK(rows[0].at("attempts") == 2);
    // Nothing is left to send.
    CHECK(json::parse(notify(ws, at_minutes(3), {"--json"}).out).at("sent") == 0);
  }

  SECTION("429: the provider's Retry-After is honoured, even past the backoff")
  {
    const json limited{{"hook", hook_channel(server, "/record/hook?status=429&retry_after=600")}};
    ws.write_config(config_text({http_target("api", server.url("/status/503"))}, limited,
                                json::array({{{"channels", {"hook"}}}})));
    REQUIRE(pulse(ws, k_t0).exit_code == 0);
    const json rows = notifications(ws, "api", at_minutes(1));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("state") == "pending");
    CHECK(rows[0].at("lastError").get<std::string>().find("429") != std::string::npos);
    // Not before the ten minutes it asked for (the backoff alone would allow 30 s).
    const auto next = *hb::util::parse_rfc3339(rows[0].at("nextAttemptAt").get<std::string>());
    CHECK(next - *hb::util::parse_rfc3339(k_t0) >= std::chrono::minutes(10));
    REQUIRE(notify(ws, at_minutes(5)).exit_code == 0);
    CHECK(bodies(server, "/record/hook").size() == 1);  // only the first attempt
  }

  SECTION("4xx: failed at once, and the fallback channel gets it")
  {
    server.set_status("/record/hook", 404);
    REQUIRE(pulse(ws, k_t0).exit_code == 0);
    const json rows = notifications(ws, "api", at_minutes(1));
    std::map<std::string, json> by_channel;
    for (const auto& row : rows) {
      by_channel[row.at("channel")] = row;
    }
    CHECK(by_channel.at("hook").at("state") == "failed");
    CHECK(by_channel.at("hook").at("attempts") == 1);
    CHECK(by_channel.at("hook").at("lastError").get<std::string>().find("404")
          != std::string::npos);
    CHECK(by_channel.at("backup").at("state") == "sent");
    CHECK(by_channel.at("backup").at("fallbackOf") == by_channel.at("hook").at("id"));
    REQUIRE(bodies(server, "/record/backup").size() == 1);
    const json status = ws.status_json({}, at_minutes(1));
    bool hook_failed = false;
    for (const auto& c : status.at("channels")) {
      hook_failed = hook_failed || (c.at("channel") == "hook" && c.at("failed24h") == 1);
    }
    CHECK(hook_failed);
  }
}

TEST_CASE("notifications: quiet hours hold, and release when they end")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook",
                                            {{"quiet_hours", {{"start", "22:00"}, {"end", "07:00"}}},
                                             {"timezone", "UTC"}})}};
  ws.write_config(config_text({http_target("api", server.url("/status/503"))}, channels,
                              json::array({{{"channels", {"hook"}}}})));
  REQUIRE(pulse(ws, "2026-03-02T23:00:00Z").exit_code == 0);
  CHECK(server.recorded().empty());
  json rows = notifications(ws, "api", "2026-03-02T23:01:00Z");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("state") == "held");
  CHECK(rows[0].at("nextAttemptAt") == "2026-03-03T07:00:00Z");
  REQUIRE(notify(ws, "2026-03-03T03:00:00Z").exit_code == 0);
  CHECK(server.recorded().empty());
  REQUIRE(notify(ws, "2026-03-03T07:00:30Z").exit_code == 0);
  CHECK(bodies(server, "/record/hook").size() == 1);
}

TEST_CASE("notifications: maintenance suppresses, and a target still failing after it is told once")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  const json maintenance = json::array(
      {{{"name", "migration"}, {"start", at_minutes(-30)}, {"end", at_minutes(30)},
        {"targets", {"api"}}}});
  ws.write_config(config_text({http_target("api", server.url("/status/503"))}, channels,
                              json::array({{{"channels", {"hook"}}}}),
                              {{"maintenance", maintenance}}));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  CHECK(server.recorded().empty());
  const json rows = notifications(ws, "api", at_minutes(1));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("state") == "suppressed");
  CHECK(rows[0].at("reason").get<std::string>().find("maintenance \"migration\"") == 0);

  REQUIRE(pulse(ws, at_minutes(20)).exit_code == 0);
  CHECK(server.recorded().empty());
  REQUIRE(pulse(ws, at_minutes(31)).exit_code == 0);
  auto all = bodies(server, "/record/hook");
  REQUIRE(all.size() == 1);
  CHECK(all[0].at("event").at("type") == "still_failing");
  REQUIRE(pulse(ws, at_minutes(40)).exit_code == 0);
  CHECK(bodies(server, "/record/hook").size() == 1);
}

TEST_CASE("notifications: a failing dependency speaks for its dependents")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  ws.write_config(config_text(
      {http_target("db", server.url("/status/503")),
       http_target("api", server.url("/status/502"), {{"depends_on", {"db"}}})},
      channels, json::array({{{"channels", {"hook"}}}})));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  const auto all = bodies(server, "/record/hook");
  REQUIRE(all.size() == 1);
  CHECK(all[0].at("target").at("id") == "db");
  const json rows = notifications(ws, "api", at_minutes(1));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("state") == "suppressed");
  CHECK(rows[0].at("reason") == "upstream db is failing");
}

TEST_CASE("notifications: a target still failing is reminded every repeat_every")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  ws.write_config(config_text({http_target("api", server.url("/status/503"),
                                           {{"repeat_every", "1h"}})},
                              channels, json::array({{{"channels", {"hook"}}}})));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  REQUIRE(pulse(ws, at_minutes(30)).exit_code == 0);
  CHECK(bodies(server, "/record/hook").size() == 1);
  REQUIRE(pulse(ws, at_minutes(61)).exit_code == 0);
  auto all = bodies(server, "/record/hook");
  REQUIRE(all.size() == 2);
  CHECK(all[1].at("event").at("type") == "still_failing");
  REQUIRE(pulse(ws, at_minutes(90)).exit_code == 0);
  CHECK(bodies(server, "/record/hook").size() == 2);
}

TEST_CASE("notifications: a shared outage is one grouped Slack message, one webhook call each")
{
  TestHttpServer server;
  Workspace ws;
  json targets = json::array();
  for (int i = 0; i < 8; ++i) {
    targets.push_back(http_target("t" + std::to_string(i), server.url("/status/503")));
  }
  const json channels{{"slack", {{"type", "slack"}, {"webhook_url", server.url("/record/slack")}}},
                      {"hook", hook_channel(server, "/record/hook")}};
  ws.write_config(config_text(targets, channels, json::array({{{"channels", {"slack", "hook"}}}})));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  CHECK(bodies(server, "/record/slack").size() == 1);
  CHECK(bodies(server, "/record/hook").size() == 8);
  std::string slack;
  for (const auto& r : server.recorded()) {
    if (r.path == "/record/slack") {
      slack = r.body;
    }
  }
  for (int i = 0; i < 8; ++i) {
    INFO(slack);
    CHECK(slack.find("t" + std::to_string(i)) != std::string::npos);
  }
}

TEST_CASE("notifications: two deliverers at once never send one notification twice")
{
  TestHttpServer server;
  Workspace ws;
  json targets = json::array();
  for (int i = 0; i < 30; ++i) {
    targets.push_back(http_target("t" + std::to_string(i), server.url("/status/503")));
  }
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  ws.write_config(config_text(targets, channels, json::array({{{"channels", {"hook"}}}})));
  server.set_status("/record/hook", 503);
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  server.clear_status("/record/hook");
  const std::size_t before = server.recorded().size();
  ToolResult a, b;
  std::thread first([&] { a = notify(ws, at_minutes(5)); });
  std::thread second([&] { b = notify(ws, at_minutes(5)); });
  first.join();
  second.join();
  CHECK(a.exit_code == 0);
  CHECK(b.exit_code == 0);
  std::multiset<std::string> keys;
  for (const auto& r : server.recorded()) {
    if (r.path == "/record/hook") {
      keys.insert(r.header("Idempotency-Key"));
    }
  }
  CHECK(server.recorded().size() - before == 30);
  std::set<std::string> distinct(keys.begin(), keys.end());
  CHECK(distinct.size() == 30);
}

TEST_CASE("notifications: hb-pulse pings the dead man's switch, /fail when the pulse failed")
{
  TestHttpServer server;
  Workspace ws;
  json config{{"targets", json::array({http_target("api", server.url("/ok"))})},
              {"pulse", {{"ping_url", server.url("/record/ping?token=abc")}, {"ping_start", true}}}};
  ws.write_config(config.dump());
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  std::vector<std::string> paths;
  for (const auto& r : server.recorded()) {
    paths.push_back(r.path);
  }
  CHECK(paths == std::vector<std::string>{"/record/ping/start", "/record/ping"});

  // An unreachable ping URL is logged, and the pulse still succeeds.
  config["pulse"] = {{"ping_url", "http://127.0.0.1:9/ping"}};
  ws.write_config(config.dump());
  const auto r = pulse(ws, at_minutes(5), {"--force"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("could not ping http://127.0.0.1:9/ping") != std::string::npos);
}

TEST_CASE("notifications: a pulse that finds the scheduler stopped says so, at critical")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  ws.write_config(config_text({http_target("api", server.url("/ok"))}, channels,
                              json::array({{{"channels", {"hook"}}, {"min_severity", "critical"}}}),
                              {{"pulse", {{"interval", "5m"}}}}));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  REQUIRE(pulse(ws, at_minutes(5)).exit_code == 0);
  CHECK(server.recorded().empty());
  REQUIRE(pulse(ws, at_minutes(75)).exit_code == 0);
  const auto all = bodies(server, "/record/hook");
  REQUIRE(all.size() == 1);
  CHECK(all[0].at("event").at("type") == "pulse_stale");
  CHECK(all[0].at("severity") == "critical");
}

TEST_CASE("notifications: a deliverer killed mid-send leaves the notification to the next run")
{
  TestHttpServer server;
  Workspace ws;
  const std::string received = (ws.dir.path() / "received.json").string();
  auto write = [&](const std::string& script) {
    const json channels{{"runbook",
                         {{"type", "command"},
                          {"command", {"/bin/sh", "-c", script}},
                          {"timeout", "3s"}}}};
    ws.write_config(config_text({http_target("api", server.url("/status/503"))}, channels,
                                json::array({{{"channels", {"runbook"}}}})));
  };
  // The first delivery hangs: the pulse records the event, its send times out (retry).
  write("sleep 20");
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  // hb-notify starts the hanging send and is killed in the middle of it.
  const auto started_file = ws.dir.path() / "started";
  write("echo up > '" + started_file.string() + "'; exec sleep 20");
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid =
      spawn_tool("hb-notify", {"--config", ws.config, "--db", ws.db, "--budget", "1s"},
                 {{"HB_NOW", at_minutes(30)}}, ws.dir.path() / "out", ws.dir.path() / "err");
  REQUIRE(wait_for_file(started_file, std::chrono::milliseconds(10'000)));
  ::kill(pid, SIGKILL);
  REQUIRE(wait_exit(pid) == 128 + SIGKILL);

  write("cat > '" + received + "'");
  // Leased by the killed run: not sent again before its lease (budget + timeout + 5 s) ends...
  if (std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
    REQUIRE(notify(ws, at_minutes(31)).exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(received));
  }
  // ...and sent by the first run after it.
  std::this_thread::sleep_until(started + std::chrono::seconds(10));
  REQUIRE(notify(ws, at_minutes(32)).exit_code == 0);
  REQUIRE(std::filesystem::exists(received));
  const json body = json::parse(file_bytes(received));
  CHECK(body.at("event").at("type") == "failing");
  const json rows = notifications(ws, "api", at_minutes(33));
  CHECK(rows[0].at("state") == "sent");
}

TEST_CASE("notifications: an agent silent through maintenance gets a fresh timer when it ends")
{
  TestHttpServer server;
  Workspace ws;
  const json channels{{"hook", hook_channel(server, "/record/hook")}};
  json agent{{"id", "worker"}, {"kind", "agent"}, {"heartbeat", {{"every", "1m"}}}};
  const json maintenance = json::array(
      {{{"name", "reboot"}, {"start", at_minutes(1)}, {"end", at_minutes(60)}, {"targets", {"worker"}}}});
  ws.write_config(config_text({agent}, channels, json::array({{{"channels", {"hook"}}}}),
                              {{"maintenance", maintenance}}));
  REQUIRE(pulse(ws, k_t0).exit_code == 0);
  REQUIRE(ws.beat({"worker"}, k_t0).exit_code == 0);
  // Silent through the window: not offline inside it, nor at once when it ends...
  REQUIRE(pulse(ws, at_minutes(30)).exit_code == 0);
  REQUIRE(pulse(ws, at_minutes(61)).exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'agent_offline'") == 0);
  CHECK(server.recorded().empty());
  // ...but offline_after (3) beats after its end, and told.
  REQUIRE(pulse(ws, at_minutes(64)).exit_code == 0);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'agent_offline'") == 1);
  std::vector<std::string> types;
  for (const auto& body : bodies(server, "/record/hook")) {
    types.push_back(body.at("event").at("type"));
  }
  CHECK(types == std::vector<std::string>{"agent_degraded", "agent_offline"});
}
