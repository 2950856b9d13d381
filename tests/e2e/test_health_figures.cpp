// SPDX-License-Identifier: MIT
// Health figures end to end: uptime, score and incidents from real pulses over three days, the
// same before and after hb-pulse pruned the raw history; the table in 80 columns; ASCII symbols
// outside UTF-8 locales.
#include "e2e_helpers.hpp"

#include "output/style.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

using namespace hb::test;
using json = nlohmann::json;

namespace {

const hb::TimePoint k_t0 = *hb::util::parse_rfc3339("2026-03-02T00:00:00Z");

std::string at_hours(int hours)
{
  return hb::util::format_rfc3339(k_t0 + std::chrono::hours(hours));
}

// One target checked every hour whose check fails (exit 2, critical) while `flag` is absent.
std::string config_text(const std::filesystem::path& flag, const json& retention)
{
  json c{{"pulse", {{"interval", "1h"}}},
         {"targets",
          json::array({{{"id", "api"},
                        {"interval", "1h"},
                        {"checks", json::array({{{"name", "up"},
                                                 {"type", "command"},
                                                 {"command", json::array({"/bin/sh", "-c",
                                                   "test -e \"$0\" || { echo 'api is down'; exit 2; }",
                                                   flag.string()})}}})}}})}};
  if (!retention.is_null()) {
    c["retention"] = retention;
  }
  return c.dump(2);
}

// Pulses every hour for three days: down at hours 20-25 and 60-61 (8 of 72 runs).
void run_three_days(const Workspace& ws, const std::filesystem::path& flag)
{
  for (int hour = 0; hour < 72; ++hour) {
    const bool down = (hour >= 20 && hour <= 25) || (hour >= 60 && hour <= 61);
    if (down) {
      std::filesystem::remove(flag);
    } else {
      std::ofstream(flag).put('1');
    }
    const auto r = ws.pulse({"-q"}, at_hours(hour));
    INFO("hour " << hour << ": " << r.err);
    REQUIRE(r.exit_code <= 2);
  }
}

} // namespace

TEST_CASE("health figures: uptime, score and incidents from three days of pulses are the same "
          "before and after the raw history is pruned")
{
  Workspace kept;
  Workspace pruned;
  kept.write_config(config_text(kept.dir / "flag", nullptr));
  pruned.write_config(config_text(pruned.dir / "flag", {{"raw", "1d"}, {"beats", "1d"},
                                                        {"hourly", "40d"}}));
  run_three_days(kept, kept.dir / "flag");
  run_three_days(pruned, pruned.dir / "flag");

  // hb-pulse pruned (the first pulse, then once a day): raw executions older than a day are
  // gone from one database and all 72 are in the other; the roll-ups are the same.
  CHECK(kept.scalar("SELECT count(*) FROM executions") == 72);
  CHECK(pruned.scalar("SELECT count(*) FROM executions") < 72);
  CHECK(pruned.scalar("SELECT count(*) FROM executions") >= 24);
  CHECK(pruned.scalar("SELECT count(*) FROM prunes WHERE finished_at IS NOT NULL") >= 3);
  CHECK(pruned.scalar("SELECT sum(deleted) FROM prunes") > 0);
  CHECK(kept.scalar("SELECT sum(runs) FROM rollups WHERE resolution = 'hour'") == 72);
  CHECK(pruned.scalar("SELECT sum(runs) FROM rollups WHERE resolution = 'hour'") == 72);
  CHECK(pruned.scalar("SELECT sum(down) FROM rollups WHERE resolution = 'day'") == 8);
  // Events (the incidents) are never pruned.
  CHECK(pruned.scalar("SELECT count(*) FROM events WHERE type = 'failing'") == 2);

  const std::string now = at_hours(72);
  const json a = kept.status_json({"api"}, now);
  const json b = pruned.status_json({"api"}, now);
  INFO(a.dump(2));
  // The two databases saw the same runs; only the checks' own milliseconds differ between
  // them, and those show in the repair time alone.
  const auto same = [](json x, json y) {
    const long long mttr_x = x.at("incidents7d").at("mttrMs").get<long long>();
    const long long mttr_y = y.at("incidents7d").at("mttrMs").get<long long>();
    CHECK(std::llabs(mttr_x - mttr_y) < 1000);
    x["incidents7d"].erase("mttrMs");
    y["incidents7d"].erase("mttrMs");
    CHECK(x == y);
  };
  const json& figures = a.at("figures");
  same(figures, b.at("figures"));
  same(kept.status_json({}, now).at("overall"), pruned.status_json({}, now).at("overall"));

  // Hand-computed: 2 of the last 24 runs down; 8 of 72 over 7 and 30 days.
  CHECK(figures.at("uptime").at("24h").get<double>() == Approx(22.0 / 24));
  CHECK(figures.at("uptime").at("7d").get<double>() == Approx(64.0 / 72));
  CHECK(figures.at("uptime").at("30d").get<double>() == Approx(64.0 / 72));
  // Two incidents: 6 h (hours 20-26) and 2 h (60-62), repaired by themselves.
  const json& incidents = figures.at("incidents7d");
  CHECK(incidents.at("count") == 2);
  CHECK(incidents.at("open") == 0);
  CHECK(incidents.at("mttrMs").get<long long>() == Approx(4 * 3'600'000).margin(1000));
  CHECK(incidents.at("falsePositives") == 0);  // longer than one interval
  CHECK(incidents.at("mttdMs").is_null());     // no channel: nobody was told
  CHECK(a.at("incidents").size() == 2);
  // Score: 24 of 24 expected runs (100), 22 of 24 up (91.7), fast checks (100), healthy (100);
  // no resource metrics: (100*30 + 100*25 + 91.67*20 + 100*10) / 85 = 98.0
  CHECK(figures.at("score").get<double>() == Approx(98.0).margin(0.05));
  CHECK(figures.at("band") == "excellent");

  // The table shows them.
  const auto table = kept.status({}, now);
  CHECK_THAT(table.out, Catch::Contains("SCORE") && Catch::Contains("UP 24H") &&
                            Catch::Contains("98 excellent") && Catch::Contains("91.6%") &&
                            Catch::Contains("88.8%"));
  CHECK_THAT(table.out, Catch::Contains("incidents 7d: 2; MTTD -, MTTR 4h"));

  // The Markdown report over the three days, from either database.
  for (const Workspace* ws : {&kept, &pruned}) {
    const auto report = ws->status({"--report", "--window", "3d"}, now);
    INFO(report.out << report.err);
    CHECK(report.exit_code == 0);
    CHECK_THAT(report.out, Catch::StartsWith("# Heartbeat report: 2026-03-02T00:00:00Z to "
                                             "2026-03-05T00:00:00Z"));
    CHECK_THAT(report.out, Catch::Contains("- Uptime: 88.8% over 1 targets"));
    CHECK_THAT(report.out, Catch::Contains("- Incidents: 2 (0 still open)"));
    CHECK_THAT(report.out, Catch::Contains("| api | service | 88.8% | 72 | 8 | 2 | - | 4h |"));
    CHECK_THAT(report.out, Catch::Contains("| api | 2026-03-02T20:00:") &&
                               Catch::Contains("| 6h | not notified |") &&
                               Catch::Contains("api is down"));
    CHECK_THAT(report.out, Catch::Contains("No notifications in this window."));

    // The same report as JSON, the same figures, valid against its schema.
    const auto as_json = ws->status({"--report", "--window", "3d", "--json"}, now);
    INFO(as_json.err);
    REQUIRE(as_json.exit_code == 0);
    CHECK(schema_errors(schema_file("hb-status-report.schema.json"), as_json.out).empty());
    const json r = json::parse(as_json.out);
    CHECK(r.at("since") == "2026-03-02T00:00:00Z");
    CHECK(r.at("windowMs") == 3 * 86'400'000LL);
    CHECK(r.at("uptime").get<double>() == Approx(64.0 / 72));
    CHECK(r.at("figures").at("count") == 2);
    CHECK(r.at("figures").at("mttrMs").get<long long>() == Approx(4 * 3'600'000).margin(1000));
    REQUIRE(r.at("targets").size() == 1);
    CHECK(r.at("targets")[0].at("observations") == 72);
    CHECK(r.at("targets")[0].at("down") == 8);
    CHECK(r.at("targets")[0].at("incidents").size() == 2);
    CHECK(r.at("channels").empty());
  }
  // Before the first pulse the report is empty, not an error.
  Workspace fresh;
  fresh.write_config(config_text(fresh.dir / "flag", nullptr));
  const auto empty = fresh.status({"--report", "--json"}, now);
  REQUIRE(empty.exit_code == 0);
  CHECK(schema_errors(schema_file("hb-status-report.schema.json"), empty.out).empty());
  CHECK(json::parse(empty.out).at("targets").empty());
  // The last day only: the second incident.
  const auto day = kept.status({"--report", "--window", "1d"}, now);
  CHECK_THAT(day.out, Catch::Contains("- Incidents: 1 (0 still open)") &&
                          Catch::Contains("| api | service | 91.6% | 24 | 2 | 1 |"));
  const auto bad = kept.status({"--report", "--window", "soon"}, now);
  CHECK(bad.exit_code == 64);
  CHECK_THAT(bad.err, Catch::Contains("--window") && Catch::Contains("\"soon\""));
  CHECK(kept.status({"--window", "1d"}, now).exit_code == 64);  // only with --report
}

TEST_CASE("retention: bad windows are configuration errors naming the key")
{
  Workspace ws;
  ws.write_config(config_text(ws.dir / "flag", {{"hourly", "1d"}}));
  auto r = ws.pulse({}, at_hours(0));
  CHECK(r.exit_code == 78);
  CHECK_THAT(r.err, Catch::Contains("retention.hourly") && Catch::Contains("at least 2d"));
  ws.write_config(config_text(ws.dir / "flag", {{"daily", "30d"}}));
  r = ws.pulse({}, at_hours(0));
  CHECK(r.exit_code == 78);
  CHECK_THAT(r.err, Catch::Contains("retention.daily") && Catch::Contains("shorter than hourly"));
  ws.write_config(config_text(ws.dir / "flag", {{"raw", "soon"}}));
  CHECK(ws.pulse({}, at_hours(0)).exit_code == 78);
}

TEST_CASE("hb-status fits an 80-column terminal and cuts nothing when piped")
{
  Workspace ws;
  const std::string long_message(300, 'x');
  json c{{"pulse", {{"interval", "1h"}}},
         {"targets",
          json::array({{{"id", "a-rather-long-target-name"},
                        {"checks", json::array({{{"name", "up"},
                                                 {"type", "command"},
                                                 {"command", json::array({"/bin/sh", "-c",
                                                   "echo \"$0\"; exit 2", long_message})}}})}}})}};
  ws.write_config(c.dump());
  REQUIRE(ws.pulse({"-q"}, at_hours(0)).exit_code <= 2);

  // Piped: the whole message.
  const auto piped = ws.status({}, at_hours(0));
  CHECK_THAT(piped.out, Catch::Contains(long_message));

  // On a terminal (a pseudo-terminal from script(1), $COLUMNS=80): every line fits.
  const std::string command = fmt::format(
      "COLUMNS=80 LANG=C.UTF-8 LC_ALL= HB_NOW={} {} --config {} --db {}", at_hours(0), tool_path("hb-status"),
      ws.config, ws.db);
  const auto tty = run_command({"/usr/bin/script", "-qec", command, "/dev/null"});
  INFO(tty.out);
  CHECK(tty.exit_code == 2);
  CHECK_THAT(tty.out, Catch::Contains("a-rather-long-target-name"));
  std::istringstream lines(tty.out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    CHECK(hb::output::display_width(line) <= 80);
    ++rows;
  }
  CHECK(rows >= 4);
  CHECK_THAT(tty.out, Catch::Contains("xxx…"));
  CHECK_THAT(tty.out, !Catch::Contains(long_message));
}

TEST_CASE("outside a UTF-8 locale the tools print ASCII symbols")
{
  Workspace ws;
  std::ofstream(ws.dir / "flag").put('1');
  ws.write_config(config_text(ws.dir / "flag", nullptr));
  const auto utf8 = ws.pulse({"-v"}, at_hours(0), {{"LANG", "C.UTF-8"}, {"LC_ALL", ""}});
  CHECK_THAT(utf8.out, Catch::Contains("✓"));
  const auto ascii = ws.pulse({"-v"}, at_hours(1), {{"LC_ALL", "C"}});
  CHECK_THAT(ascii.out, Catch::Contains("+ "));
  for (const unsigned char c : ascii.out) {
    CHECK(c < 0x80);
  }
}
