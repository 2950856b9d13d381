// SPDX-License-Identifier: MIT
// The health figures on timelines computed by hand (docs/health.md has the definitions).
#include "health/figures.hpp"
#include "health/score.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

namespace {

using hb::Duration;
using hb::Health;
using hb::TimePoint;
using namespace hb::health;
using namespace std::chrono_literals;

TimePoint at(const char* text)
{
  return *hb::util::parse_rfc3339(text);
}

hb::TargetRecord service(Duration interval, TimePoint first_seen)
{
  hb::TargetRecord r;
  r.info.id = "api";
  r.info.interval = interval;
  r.first_seen = first_seen;
  return r;
}

} // namespace

TEST_CASE("health bands follow the seeds' thresholds")
{
  CHECK(band_of(100) == Band::excellent);
  CHECK(band_of(80) == Band::excellent);
  CHECK(band_of(79.9) == Band::good);
  CHECK(band_of(70) == Band::good);
  CHECK(band_of(60) == Band::fair);
  CHECK(band_of(40) == Band::poor);
  CHECK(band_of(39.9) == Band::critical);
  CHECK(to_string(Band::fair) == "fair");
}

TEST_CASE("the score weighs its components 30/25/20/15/10 and renormalises without data")
{
  ScoreComponents all{100.0, 50.0, 80.0, 0.0, 100.0};
  // (100*30 + 50*25 + 80*20 + 0*15 + 100*10) / 100 = 68.5
  REQUIRE(score_of(all));
  CHECK(score_of(all)->value == Approx(68.5));
  CHECK(score_of(all)->band == Band::fair);

  // Without resources and impact: (100*30 + 50*25 + 80*20) / 75 = 78.0
  ScoreComponents some{100.0, 50.0, 80.0, std::nullopt, std::nullopt};
  CHECK(score_of(some)->value == Approx(78.0));
  CHECK(score_of(some)->band == Band::good);

  CHECK_FALSE(score_of(ScoreComponents{}));
}

TEST_CASE("uptime is the share of observations that were up")
{
  Tally t;
  CHECK_FALSE(uptime_of(t));
  t.runs = 288;
  t.down = 3;
  CHECK(*uptime_of(t) == Approx(285.0 / 288.0));
  Tally more;
  more.runs = 12;
  more.down = 12;
  t += more;
  CHECK(*uptime_of(t) == Approx(285.0 / 300.0));
}

TEST_CASE("expected runs count the hours since first seen inside the active hours")
{
  const TimePoint now = at("2026-03-02T12:00:00Z");
  // Seen for 10 hours, every 30 minutes: 20 runs expected.
  auto r = service(30min, now - 10h);
  CHECK(expected_runs(r, now - 24h, now) == Approx(20));
  // Seen for days, active 09:00-17:00 UTC: the last 24 hours hold 8 active hours = 16 runs.
  r.first_seen = now - 72h;
  r.info.active_hours = "09:00-17:00";
  CHECK(expected_runs(r, now - 24h, now) == Approx(16));
  // Jobs run by a schedule: nothing expected (consistency left out).
  r.info.kind = hb::TargetKind::job;
  r.info.heartbeat = hb::HeartbeatInfo{};
  CHECK(expected_runs(r, now - 24h, now) == 0);
}

TEST_CASE("components of a target on a hand-computed day")
{
  const TimePoint now = at("2026-03-02T12:00:00Z");
  ScoreInputs in;
  in.target = service(1h, now - 72h);
  in.health = Health::healthy;
  in.now = now;
  in.day.runs = 18;        // of 24 expected: consistency 75
  in.day.down = 2;         // error rate 100 * 16/18 = 88.9
  in.day.load_count = 18;  // mean load 0.5 of the timeouts: (1 - 0.5) / 0.75 = 66.7
  in.day.load_sum = 18 * 500;
  in.metrics = {{"cpu", 85, "%", "", "", std::nullopt, std::nullopt}};  // (100-85)/30 = 50
  const ScoreComponents c = components_of(in);
  CHECK(*c.consistency == Approx(75));
  CHECK(*c.error_rate == Approx(100.0 * 16 / 18));
  CHECK(*c.performance == Approx(100.0 * 0.5 / 0.75));
  CHECK(*c.resources == Approx(50));
  CHECK(*c.impact == Approx(100));
  // (75*30 + 66.67*25 + 88.89*20 + 50*15 + 100*10) / 100 = 74.4
  CHECK(score_of(c)->value == Approx(74.4));

  SECTION("a failing target with full impact loses its impact share, a light one less")
  {
    in.health = Health::failing;
    CHECK(*components_of(in).impact == Approx(0));
    in.impact = 0.2;
    CHECK(*components_of(in).impact == Approx(80));
    in.health = Health::warning;
    CHECK(*components_of(in).impact == Approx(90));
  }
  SECTION("fast checks and low usage score full marks")
  {
    in.day.load_sum = 18 * 200;
    in.metrics = {{"memory_percent", 40, "%", "", "", std::nullopt, std::nullopt}};
    CHECK(*components_of(in).performance == Approx(100));
    CHECK(*components_of(in).resources == Approx(100));
  }
  SECTION("no data leaves components out")
  {
    in.day = Tally{};
    in.metrics.clear();
    in.health = Health::unknown;
    const ScoreComponents none = components_of(in);
    CHECK(*none.consistency == Approx(0));  // runs were expected and none came
    CHECK_FALSE(none.performance);
    CHECK_FALSE(none.error_rate);
    CHECK_FALSE(none.resources);
    CHECK_FALSE(none.impact);
  }
}

TEST_CASE("MTTD, MTTR and false positives on hand-made incidents")
{
  const TimePoint t0 = at("2026-03-02T10:00:00Z");
  IncidentTimeline a;  // detected after 10 min, repaired after 30 min by an action
  a.target_id = "api";
  a.first_failure = t0;
  a.failing_at = t0 + 5min;
  a.first_notified = t0 + 10min;
  a.first_recovery_action = t0 + 12min;
  a.recovered_at = t0 + 30min;
  a.interval = 5min;

  IncidentTimeline b;  // cleared by itself within one interval, notified after 2 min
  b.target_id = "db";
  b.first_failure = t0;
  b.failing_at = t0;
  b.first_notified = t0 + 2min;
  b.recovered_at = t0 + 4min;
  b.interval = 5min;

  IncidentTimeline c;  // still open, never notified
  c.target_id = "web";
  c.first_failure = t0;
  c.failing_at = t0 + 1min;
  c.interval = 5min;

  CHECK_FALSE(is_false_positive(a));
  CHECK(is_false_positive(b));
  CHECK_FALSE(is_false_positive(c));

  IncidentFigures f = incident_figures({a, b, c});
  CHECK(f.incidents == 3);
  CHECK(f.open == 1);
  CHECK(f.notified == 2);
  CHECK(*f.mttd == Duration(6min));   // (10 + 2) / 2
  CHECK(*f.mttr == Duration(17min));  // (30 + 4) / 2
  CHECK(f.false_positives == 1);
  CHECK(*f.false_positive_rate == Approx(0.5));  // of the 2 closed incidents
  CHECK_FALSE(f.recovery_success);
  add_recovery_attempts(f, 3, 1);
  CHECK(*f.recovery_success == Approx(0.75));

  SECTION("recovered within the interval but after an action: not a false positive")
  {
    b.first_recovery_action = b.first_failure + 1min;
    CHECK_FALSE(is_false_positive(b));
  }
  SECTION("no incidents: no figures")
  {
    const IncidentFigures none = incident_figures({});
    CHECK(none.incidents == 0);
    CHECK_FALSE(none.mttd);
    CHECK_FALSE(none.mttr);
    CHECK_FALSE(none.false_positive_rate);
  }
}
