// SPDX-License-Identifier: MIT
// End-to-end: a clock that jumped forward and back (a VM snapshot restored, NTP stepping the
// clock back) leaves times in the database that lie in the future. They are reported and never
// trusted: monitoring goes on from now (issue 11, item 1).
#include "e2e_helpers.hpp"

using namespace hb::test;
using nlohmann::json;

namespace {

constexpr const char* k_future = "2027-06-01T00:00:00Z";

json skew_config()
{
  return json{
    {"targets",
     {{{"id", "web"},
       {"interval", "1m"},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}},
      {{"id", "worker"}, {"kind", "agent"}, {"heartbeat", {{"every", "1m"}, {"offline_after", 3}}}}}},
    {"schedules", {{{"name", "tick"}, {"cron", "*/5 * * * *"}, {"command", {"/bin/true"}}}}}};
}

} // namespace

TEST_CASE("a backward clock step does not stop monitoring")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(skew_config().dump());

  // The clock runs six months ahead for a while.
  ws.pulse_json({}, k_future);
  ws.pulse_json({}, "2027-06-01T00:05:10Z");  // runs the task
  REQUIRE(ws.beat({"worker"}, k_future).exit_code == 0);

  // Back to the right time: hb-status says what is wrong before any pulse has run.
  const auto before = ws.status({"--color", "never"}, "2026-12-01T00:59:00Z");
  INFO("hb-status: " << before.out << before.err);
  CHECK(before.exit_code == 2);
  CHECK(before.out.find("pulse: warning  last pulse is dated 181d 23h ahead of this clock "
                        "(clock skew?): is the scheduler still running hb-pulse?\n")
        != std::string::npos);
  CHECK(before.out.find("clock: the last pulse, 1 target's last run, 1 agent's or job's last "
                        "beat, 1 task's fire time ahead of this clock by up to 181d 23h (clock "
                        "skew?); the next hb-pulse re-anchors them to now\n")
        != std::string::npos);
  CHECK(before.out.find("alive") == std::string::npos);
  const auto before_json = ws.status_json({}, "2026-12-01T00:59:00Z");
  CHECK(before_json["pulse"]["state"] == "warning");
  CHECK(before_json["pulse"]["nextExpected"].is_null());
  CHECK(before_json["clockSkew"]["found"].size() == 4);

  // The next pulse runs the target, re-anchors the task and the agent, and says so.
  const auto r = ws.pulse({"--json"}, "2026-12-01T01:00:00Z");
  INFO("hb-pulse stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  const auto web = detail(out, "web");
  CHECK(web["status"] == "all_clear");
  REQUIRE(web["events"].size() == 1);
  CHECK(web["events"][0]["type"] == "clock_skew");
  const auto tick = detail(out, "tick");
  CHECK(tick["status"] == "skipped");
  CHECK(tick["message"].get<std::string>().rfind("its last recorded time is dated 181d 23h ahead",
                                                 0)
        == 0);
  CHECK(r.err.find("warning: web: last run dated 181d 23h ahead of this clock (clock skew?); "
                   "run again now")
        != std::string::npos);
  CHECK(r.err.find("warning: the last pulse (#2) is dated 181d 23h ahead") != std::string::npos);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'clock_skew' AND target_id = 'web'")
        == 1);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'clock_skew' AND target_id = 'worker'")
        == 1);
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'clock_skew' AND target_id = ''")
        == 2);  // the last pulse, the task

  // Now hb-status trusts what it reads again.
  const auto after = ws.status_json({}, "2026-12-01T01:00:30Z");
  CHECK(after["pulse"]["state"] == "alive");
  CHECK(after["clockSkew"].is_null());

  // Silence counts from the re-anchoring: three missed beats later the agent is offline, and the
  // task runs at its next fire time.
  const auto later = ws.pulse_json({}, "2026-12-01T01:05:00Z");
  CHECK(detail(later, "tick")["status"] == "executed");
  bool offline = false;
  for (const auto& e : later["beatEvents"]) {
    offline = offline || (e["target"] == "worker" && e["type"] == "agent_offline");
  }
  CHECK(offline);
  // Said once, not on every pulse.
  CHECK(ws.scalar("SELECT count(*) FROM events WHERE type = 'clock_skew'") == 4);
}
