// SPDX-License-Identifier: MIT
#include "checks/metric_json.hpp"
#include "output/pulse_output.hpp"
#include "output/status_output.hpp"
#include "output/style.hpp"
#include "output/table.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>
#include <string>

namespace {

using hb::CheckStatus;
using hb::ExecStatus;
using hb::Health;
using hb::TimePoint;
using hb::output::display_width;
using hb::output::Style;
using hb::output::Table;
using hb::output::Tone;
using Kind = hb::pulse::TargetOutcome::Kind;
using nlohmann::json;
using namespace std::chrono_literals;

const TimePoint k_t0 = hb::util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

hb::pulse::PulseReport sample_pulse()
{
  hb::pulse::PulseReport report;
  auto& p = report.pulse;
  p.id = 7;
  p.owner = "host:1:abc";
  p.started_at = k_t0;
  p.completed_at = k_t0 + 2s;
  p.status = hb::PulseStatus::ok;
  p.interval = 5min;
  p.deadline = 2min;
  p.next_expected = k_t0 + 5min;
  p.targets_total = 3;
  p.targets_due = 2;
  p.targets_run = 1;
  p.targets_held = 1;
  p.checks_run = 2;

  hb::pulse::TargetOutcome alpha;
  alpha.id = "alpha";
  alpha.name = "Alpha";
  alpha.kind = Kind::ran;
  alpha.status = ExecStatus::alert;
  alpha.health = Health::failing;
  alpha.in_grace = true;
  alpha.duration = 1500ms;
  hb::CheckResultRecord up;
  up.check_name = "up";
  up.status = CheckStatus::ok;
  up.message = "200 OK";
  up.latency = 12ms;
  hb::CheckResultRecord api;
  api.check_name = "api";
  api.status = CheckStatus::alert;
  api.message = "HTTP 503";
  api.latency = 30ms;
  api.phase = "http_status";
  api.metrics.push_back({"time", 0.5, "s", "1", "2", 0.0, std::nullopt});
  alpha.results = {up, api};
  hb::Event event;
  event.target_id = "alpha";
  event.at = k_t0 + 2s;
  event.type = hb::EventType::failing;
  event.old_state = "unknown";
  event.new_state = "failing";
  event.message = "api: HTTP 503";
  alpha.events = {event};

  hb::pulse::TargetOutcome beta;
  beta.id = "beta";
  beta.name = "Beta";
  beta.kind = Kind::skipped;
  beta.reason = "ran 5m ago, interval 30m";
  beta.next_run = k_t0 + 25min;

  hb::pulse::TargetOutcome gamma;
  gamma.id = "gamma";
  gamma.name = "Gamma";
  gamma.kind = Kind::held;
  gamma.reason = "claimed by an overlapping pulse";

  report.targets = {alpha, beta, gamma};
  return report;
}

} // namespace

TEST_CASE("display_width")
{
  SECTION("plain ASCII")
  {
    CHECK(display_width("") == 0);
    CHECK(display_width("failing") == 7);
  }

  SECTION("ANSI escapes are not counted")
  {
    CHECK(display_width("\033[1;31mfailing\033[0m") == 7);
    CHECK(display_width("\033[32mok\033[0m and \033[2mmuted\033[0m") == 12);
  }

  SECTION("UTF-8 counts code points")
  {
    CHECK(display_width("héllo") == 5);
    CHECK(display_width("✓") == 1);
    CHECK(display_width("failing → healthy") == 17);
    CHECK(display_width("\033[32m✓\033[0m") == 1);
  }
}

TEST_CASE("truncate")
{
  SECTION("short text is unchanged")
  {
    CHECK(hb::output::truncate("short", 10) == "short");
    CHECK(hb::output::truncate("exactly10!", 10) == "exactly10!");
  }

  SECTION("long text is cut to the width, ending with an ellipsis")
  {
    CHECK(hb::output::truncate("hello world", 5) == "hell…");
    CHECK(display_width(hb::output::truncate("hello world", 5)) == 5);
  }

  SECTION("multi-byte characters are never split")
  {
    const std::string cut = hb::output::truncate("héllo wörld", 7);
    CHECK(cut == "héllo …");
    CHECK(display_width(cut) == 7);
    CHECK(hb::output::truncate("ééééé", 3) == "éé…");
  }

  SECTION("newlines and tabs become spaces")
  {
    CHECK(hb::output::truncate("a\nb\tc\r", 10) == "a b c ");
  }
}

TEST_CASE("Style")
{
  SECTION("paints only with colour on")
  {
    CHECK(Style(false).paint("ok", Tone::good) == "ok");
    CHECK(Style(true).paint("ok", Tone::good) == "\033[32mok\033[0m");
    CHECK(Style(true).paint("down", Tone::bad) == "\033[1;31mdown\033[0m");
    CHECK(Style(true).paint("plain", Tone::plain) == "plain");
  }

  SECTION("tones")
  {
    CHECK(hb::output::tone_of(Health::failing) == Tone::bad);
    CHECK(hb::output::tone_of(Health::unknown) == Tone::muted);
    CHECK(hb::output::tone_of(ExecStatus::warning) == Tone::warn);
    CHECK(hb::output::tone_of(CheckStatus::error) == Tone::bad);
    CHECK(hb::output::tone_of(CheckStatus::ok) == Tone::good);
  }
}

TEST_CASE("Table")
{
  SECTION("columns padded to the widest cell, two spaces apart, last column ragged")
  {
    Table table({"A", "LONG HEADER", "C"});
    table.add({"xxxx", "y", "z"});
    table.add({"b", "", "last column"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str()
          == "A     LONG HEADER  C\n"
             "xxxx  y            z\n"
             "b                  last column\n");
  }

  SECTION("coloured and UTF-8 cells line up")
  {
    const Style style(true);
    Table table({"", "TARGET", "STATUS"});
    table.add({style.paint("✓", Tone::good), "alpha", "ok"});
    table.add({"✗", "b", "down"});
    std::ostringstream out;
    table.print(out, "  ");
    CHECK(out.str()
          == "     TARGET  STATUS\n"
             "  \033[32m✓\033[0m  alpha   ok\n"
             "  ✗  b       down\n");
  }

  SECTION("empty")
  {
    Table table({"A"});
    CHECK(table.empty());
    table.add({"x"});
    CHECK_FALSE(table.empty());
  }
}

TEST_CASE("pulse_to_json")
{
  SECTION("a pulse that ran")
  {
    const auto j = hb::output::pulse_to_json(sample_pulse());
    CHECK(j["success"] == true);
    CHECK(j["pulse"] == "alive");
    CHECK(j["processed"] == 1);
    CHECK(j["heartbeat"]
          == json{{"timestamp", "2026-02-18T14:05:00Z"}, {"nextExpected", "2026-02-18T14:10:00Z"}});
    CHECK(j["pulseId"] == 7);
    CHECK(j["status"] == "ok");
    CHECK(j["durationMs"] == 2000);
    CHECK(j["dryRun"] == false);
    CHECK_FALSE(j.contains("message"));
    CHECK(j["summary"]
          == json{{"targets", 3}, {"due", 2}, {"ran", 1}, {"skipped", 1}, {"held", 1},
                  {"notRun", 0}, {"checks", 2}, {"tasks", 0}, {"tasksFailed", 0}, {"errors", 0}});

    REQUIRE(j["details"].size() == 3);
    const json api = {{"check", "api"},
                      {"status", "alert"},
                      {"message", "HTTP 503"},
                      {"latencyMs", 30},
                      {"phase", "http_status"},
                      {"metrics", json::array({{{"name", "time"}, {"value", 0.5}, {"unit", "s"}, {"warn", "1"}, {"crit", "2"}, {"min", 0.0}}})}};
    const json up = {{"check", "up"}, {"status", "ok"}, {"message", "200 OK"}, {"latencyMs", 12}};
    const json alpha = {
      {"id", "alpha"},
      {"name", "Alpha"},
      {"status", "alert"},
      {"health", "failing"},
      {"durationMs", 1500},
      {"failing", json::array({api})},
      {"checks", json::array({up, api})},
      {"events", json::array({{{"type", "failing"},
                               {"from", "unknown"},
                               {"to", "failing"},
                               {"message", "api: HTTP 503"}}})},
      {"grace", true},
    };
    CHECK(j["details"][0] == alpha);
    CHECK(j["details"][1]
          == json{{"id", "beta"},
                  {"name", "Beta"},
                  {"status", "skipped"},
                  {"reason", "ran 5m ago, interval 30m"},
                  {"nextRun", "2026-02-18T14:30:00Z"}});
    CHECK(j["details"][2]
          == json{{"id", "gamma"},
                  {"name", "Gamma"},
                  {"status", "held"},
                  {"reason", "claimed by an overlapping pulse"}});
  }

  SECTION("a pulse with errors")
  {
    auto report = sample_pulse();
    report.pulse.status = hb::PulseStatus::error;
    report.pulse.errors = 1;
    report.pulse.message = "1 check failed internally";
    const auto j = hb::output::pulse_to_json(report);
    CHECK(j["success"] == false);
    CHECK(j["pulse"] == "error");
    CHECK(j["status"] == "error");
    CHECK(j["message"] == "1 check failed internally");
    CHECK(j["summary"]["errors"] == 1);
  }

  SECTION("a dry run")
  {
    hb::pulse::PulseReport report;
    report.dry_run = true;
    report.pulse.status = hb::PulseStatus::dry_run;
    report.pulse.started_at = k_t0;
    report.pulse.next_expected = k_t0 + 5min;
    report.pulse.targets_total = 2;
    hb::pulse::TargetOutcome due;
    due.id = "alpha";
    due.name = "Alpha";
    due.kind = Kind::would_run;
    due.reason = "never ran";
    hb::pulse::TargetOutcome late;
    late.id = "beta";
    late.name = "Beta";
    late.kind = Kind::deadline;
    late.reason = "not started before the pulse deadline (2m)";
    report.targets = {due, late};
    const auto j = hb::output::pulse_to_json(report);
    CHECK(j["success"] == true);
    CHECK(j["pulse"] == "dry_run");
    CHECK(j["dryRun"] == true);
    CHECK(j["processed"] == 0);
    CHECK_FALSE(j.contains("pulseId"));
    CHECK_FALSE(j.contains("status"));
    CHECK(j["summary"]["due"] == 1);
    CHECK(j["summary"]["notRun"] == 1);
    CHECK(j["details"][0]["status"] == "due");
    CHECK(j["details"][0]["reason"] == "never ran");
    CHECK(j["details"][1]["status"] == "not_run");
    CHECK(j["heartbeat"]["timestamp"] == "2026-02-18T14:05:00Z");
  }
}

TEST_CASE("status_to_json")
{
  SECTION("the documented schema")
  {
    hb::status::StatusReport report;
    report.now = k_t0;
    report.database = "/var/lib/heartbeat/heartbeat.db";
    hb::PulseRecord last;
    last.id = 12;
    last.started_at = k_t0 - 1min;
    last.completed_at = k_t0 - 1min + 3s;
    last.status = hb::PulseStatus::ok;
    last.interval = 5min;
    last.targets_due = 2;
    last.targets_run = 2;
    last.checks_run = 4;
    report.pulse.state = hb::pulse::PulseState::alive;
    report.pulse.last = last;
    report.pulse.next_expected = k_t0 + 4min;
    report.pulse.reason = "last pulse 1m ago";
    report.counts = {2, 1, 0, 1, 0, 0};

    hb::status::TargetRow failing;
    failing.info.id = "acme";
    failing.info.name = "Acme";
    failing.info.kind = hb::TargetKind::tenant;
    failing.info.tags = {"prod"};
    failing.health = Health::failing;
    failing.since = k_t0 - 30min;
    failing.last_run = k_t0 - 1min;
    failing.last_status = ExecStatus::alert;
    failing.executions_24h = 4;
    failing.failures_24h = 1;
    failing.failure_rate_24h = 0.25;
    failing.message = "http: down";
    hb::status::TargetRow fresh;
    fresh.info.id = "new";
    fresh.info.name = "New";
    report.targets = {failing, fresh};
    report.exit_code = hb::ExitCode::critical;

    auto j = hb::output::status_to_json(report);
    CHECK(j["schema"] == 1);
    CHECK(j["generatedAt"] == "2026-02-18T14:05:00Z");
    CHECK(j["database"] == "/var/lib/heartbeat/heartbeat.db");
    CHECK(j["exitCode"] == 2);
    CHECK(j["counts"]
          == json{{"targets", 2}, {"healthy", 1}, {"warning", 0}, {"failing", 1}, {"unknown", 0},
                  {"paused", 0}, {"stale", 0},
                  {"agents", {{"total", 0}, {"online", 0}, {"degraded", 0}, {"offline", 0}, {"unknown", 0}}},
                  {"jobs", {{"total", 0}, {"ok", 0}, {"running", 0}, {"failing", 0}, {"unknown", 0}}}});
    CHECK(j["pulse"]["state"] == "alive");
    CHECK(j["pulse"]["reason"] == "last pulse 1m ago");
    CHECK(j["pulse"]["running"] == false);
    CHECK(j["pulse"]["nextExpected"] == "2026-02-18T14:09:00Z");
    CHECK(j["pulse"]["last"]
          == json{{"id", 12},
                  {"startedAt", "2026-02-18T14:04:00Z"},
                  {"completedAt", "2026-02-18T14:04:03Z"},
                  {"status", "ok"},
                  {"intervalMs", 300000},
                  {"targetsDue", 2},
                  {"targetsRun", 2},
                  {"checksRun", 4},
                  {"errors", 0},
                  {"message", ""}});
    REQUIRE(j["targets"].size() == 2);
    // The figures (docs/health.md) are tested with the report that fills them.
    CHECK(j["targets"][0]["figures"]["score"].is_null());
    CHECK(j["targets"][0]["figures"]["uptime"]["30d"].is_null());
    CHECK(j["overall"]["incidents7d"]["count"] == 0);
    for (auto& target : j["targets"]) {
      target.erase("figures");
    }
    CHECK(j["targets"][0]
          == json{{"id", "acme"},
                  {"name", "Acme"},
                  {"kind", "tenant"},
                  {"tags", json::array({"prod"})},
                  {"paused", false},
                  {"health", "failing"},
                  {"since", "2026-02-18T13:35:00Z"},
                  {"lastRun", "2026-02-18T14:04:00Z"},
                  {"lastStatus", "alert"},
                  {"executions24h", 4},
                  {"failures24h", 1},
                  {"failureRate24h", 0.25},
                  {"message", "http: down"},
                  {"stale", false},
                  {"retiredAt", nullptr}});
    const auto& n = j["targets"][1];
    CHECK(n["health"] == "unknown");
    CHECK(n["since"].is_null());
    CHECK(n["lastRun"].is_null());
    CHECK(n["lastStatus"].is_null());
    CHECK(n["failureRate24h"].is_null());
    CHECK(n["tags"] == json::array());
  }

  SECTION("the fleet's score has no components: null, not five nulls")
  {
    hb::status::StatusReport report;
    report.now = k_t0;
    hb::health::Score fleet;
    fleet.value = 85.2;
    fleet.band = hb::health::Band::excellent;
    report.overall.score = fleet;
    hb::status::TargetRow row;
    row.info.id = "api";
    hb::health::Score own = fleet;
    own.components.consistency = 100.0;
    row.figures.score = own;
    report.targets = {row};
    const auto j = hb::output::status_to_json(report);
    CHECK(j["overall"]["score"] == 85.2);
    CHECK(j["overall"]["band"] == "excellent");
    CHECK(j["overall"]["components"].is_null());
    const auto& components = j["targets"][0]["figures"]["components"];
    CHECK(components["consistency"] == 100.0);
    CHECK(components["performance"].is_null());
  }

  SECTION("no pulse yet")
  {
    hb::status::StatusReport report;
    report.now = k_t0;
    report.pulse.reason = "no pulse has run yet";
    const auto j = hb::output::status_to_json(report);
    CHECK(j["pulse"]["state"] == "unknown");
    CHECK(j["pulse"]["last"].is_null());
    CHECK(j["pulse"]["nextExpected"].is_null());
    CHECK(j["exitCode"] == 3);
    CHECK(j["targets"] == json::array());
  }
}

TEST_CASE("metrics_to_json and metrics_from_json")
{
  hb::Metric m;
  m.name = "time";
  m.value = 0.25;
  m.unit = "s";
  m.warn = "1";
  m.crit = "2";
  m.min = 0.0;
  const auto j = hb::checks::metrics_to_json({m});
  CHECK(j == json::parse(R"([{"name":"time","value":0.25,"unit":"s","warn":"1","crit":"2","min":0.0}])"));
  const auto back = hb::checks::metrics_from_json(j);
  REQUIRE(back.size() == 1);
  CHECK(back[0].name == "time");
  CHECK(back[0].value == 0.25);
  CHECK(back[0].crit == "2");
  CHECK(back[0].min == 0.0);
  CHECK_FALSE(back[0].max);
  // Anything else is read as no metrics, never an exception.
  CHECK(hb::checks::metrics_from_json(json::parse(R"([1, "x", {"name": 5, "min": "low"}])")).size() == 1);
  CHECK(hb::checks::metrics_from_json(json::parse(R"({"a": 1})")).empty());
}

TEST_CASE("print_status: the pulse line")
{
  hb::status::StatusReport report;
  report.now = k_t0;
  report.pulse.state = hb::pulse::PulseState::alive;
  report.pulse.reason = "last pulse 6m ago";
  auto first_line = [&] {
    std::ostringstream out;
    hb::output::print_status(report, out, Style(false));
    return out.str().substr(0, out.str().find('\n'));
  };

  SECTION("a next pulse still to come reads \"in\"")
  {
    report.pulse.next_expected = k_t0 + 3min;
    CHECK(first_line() == "pulse: alive  last pulse 6m ago; next expected in 3m");
  }
  SECTION("alive is never next to a next expected time in the past")
  {
    report.pulse.next_expected = k_t0 - 1min;
    CHECK(first_line() == "pulse: alive  last pulse 6m ago; next pulse due now");
  }
}

TEST_CASE("target_to_json")
{
  SECTION("a check's counts are null before its first run, like its last result")
  {
    hb::status::TargetDetail d;
    d.now = k_t0;
    d.row.info.id = "api";
    hb::status::CheckDetail fresh;
    fresh.info.name = "home";
    fresh.info.type = "http";
    hb::status::CheckDetail ran = fresh;
    ran.info.name = "db";
    hb::CheckState state;
    state.check_name = "db";
    state.consecutive_failures = 2;
    state.confirmed = CheckStatus::alert;
    state.bad_since = k_t0 - 2min;
    ran.state = state;
    d.checks = {fresh, ran};
    const auto j = hb::output::target_to_json(d);
    REQUIRE(j["checks"].size() == 2);
    CHECK(j["checks"][0]["last"].is_null());
    REQUIRE(j["checks"][0].contains("counts"));
    CHECK(j["checks"][0]["counts"].is_null());
    CHECK(j["checks"][1]["counts"]
          == json{{"consecutiveFailures", 2},
                  {"consecutiveSuccesses", 0},
                  {"confirmed", "alert"},
                  {"badSince", "2026-02-18T14:03:00Z"}});
  }
}

TEST_CASE("print_target: agents")
{
  hb::status::TargetDetail d;
  d.now = k_t0;
  d.row.info.id = "worker";
  d.row.info.name = "worker";
  d.row.info.kind = hb::TargetKind::agent;
  d.row.health = Health::healthy;
  hb::agents::BeatView v;
  v.state = "online";
  v.health = Health::healthy;
  v.beats = 1;
  v.last_seen = k_t0 + 2h;
  d.row.beat = v;
  std::ostringstream out;
  hb::output::print_target(d, out, Style(false));
  const std::string text = out.str();
  INFO(text);

  // No pull-check line for a target hb-pulse never runs.
  CHECK(text.find("last run:") == std::string::npos);
  // A last beat ahead of the clock is skew, not "seen in 2h".
  CHECK(text.find("last seen: 2h ahead of this clock (clock skew?); missed beats: 0; 1 beat recorded")
        != std::string::npos);
}

TEST_CASE("print_status: a target that ran but was cut off is not 'not yet run'")
{
  hb::status::StatusReport report;
  report.now = k_t0;
  hb::status::TargetRow never;
  never.info.id = "new";
  hb::status::TargetRow cut;
  cut.info.id = "cut";
  cut.last_run = k_t0 - 1min;
  cut.last_status = ExecStatus::error;
  report.targets = {never, cut};
  report.counts.targets = 2;
  report.counts.unknown = 2;
  std::ostringstream out;
  hb::output::print_status(report, out, Style(false));
  INFO(out.str());
  CHECK(out.str().find("targets: 2 total, 0 healthy, 0 failing, 1 not yet run, 1 unknown (ran without a result)")
        != std::string::npos);
}
