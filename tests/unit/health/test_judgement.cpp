// SPDX-License-Identifier: MIT
#include "health/judgement.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using hb::AgentState;
using hb::BeatState;
using hb::CheckResultRecord;
using hb::CheckState;
using hb::CheckStatus;
using hb::Health;
using hb::JobState;
using hb::TargetRecord;
using hb::TargetState;
using hb::TimePoint;
using hb::health::Thresholds;
using namespace std::chrono_literals;

TimePoint at(const char* text)
{
  return *hb::util::parse_rfc3339(text);
}

const TimePoint k_t0 = at("2026-02-18T09:00:00Z");

CheckResultRecord result(const std::string& name, CheckStatus status,
                         const std::string& phase = "done")
{
  CheckResultRecord r;
  r.check_name = name;
  r.status = status;
  r.message = std::string(hb::to_string(status));
  r.phase = phase;
  return r;
}

// A target with one check, first seen at k_t0, stale after 1h.
TargetRecord check_target()
{
  TargetRecord r;
  r.info.id = "acme";
  r.info.stale_after = 1h;
  r.info.checks.push_back({"http", "http", hb::Severity::alert, ""});
  r.first_seen = k_t0;
  return r;
}

// An agent beating every 30 s, offline after 3 missed beats, first seen at k_t0.
TargetRecord agent_target(const std::string& active_hours = "", const std::string& tz = "UTC")
{
  TargetRecord r;
  r.info.id = "box";
  r.info.kind = hb::TargetKind::agent;
  hb::HeartbeatInfo hb;
  hb.every = 30s;
  hb.offline_after = 3;
  hb.active_hours = active_hours;
  hb.timezone = tz;
  r.info.heartbeat = hb;
  r.first_seen = k_t0;
  return r;
}

} // namespace

TEST_CASE("confirm_check")
{
  using hb::health::confirm_check;

  SECTION("a failure counts after `confirm` failures in a row, dated from the first")
  {
    const Thresholds three{3, 1};
    CheckState cs = confirm_check({}, result("http", CheckStatus::alert), three, k_t0);
    CHECK(cs.check_name == "http");
    CHECK(cs.confirmed == CheckStatus::ok);
    CHECK(cs.bad_since == k_t0);
    cs = confirm_check(cs, result("http", CheckStatus::alert), three, k_t0 + 1min);
    CHECK(cs.confirmed == CheckStatus::ok);
    CHECK(cs.consecutive_failures == 2);
    cs = confirm_check(cs, result("http", CheckStatus::alert), three, k_t0 + 2min);
    CHECK(cs.confirmed == CheckStatus::alert);
    CHECK(cs.bad_since == k_t0);
  }

  SECTION("a success before `confirm` resets the streak")
  {
    const Thresholds two{2, 1};
    CheckState cs = confirm_check({}, result("http", CheckStatus::alert), two, k_t0);
    cs = confirm_check(cs, result("http", CheckStatus::ok), two, k_t0 + 1min);
    CHECK_FALSE(cs.bad_since);
    cs = confirm_check(cs, result("http", CheckStatus::alert), two, k_t0 + 2min);
    CHECK(cs.confirmed == CheckStatus::ok);
  }

  SECTION("a bad check is ok again after `recover_after` successes in a row")
  {
    const Thresholds slow_recovery{1, 2};
    CheckState cs = confirm_check({}, result("http", CheckStatus::alert), slow_recovery, k_t0);
    CHECK(cs.confirmed == CheckStatus::alert);
    cs = confirm_check(cs, result("http", CheckStatus::ok), slow_recovery, k_t0 + 1min);
    CHECK(cs.confirmed == CheckStatus::alert);
    CHECK(cs.bad_since == k_t0);
    cs = confirm_check(cs, result("http", CheckStatus::ok), slow_recovery, k_t0 + 2min);
    CHECK(cs.confirmed == CheckStatus::ok);
    CHECK_FALSE(cs.bad_since);
  }

  SECTION("while bad, a change of level counts at once")
  {
    const Thresholds three{3, 1};
    CheckState cs;
    cs.confirmed = CheckStatus::warning;
    cs.bad_since = k_t0;
    cs = confirm_check(cs, result("http", CheckStatus::alert), three, k_t0 + 1min);
    CHECK(cs.confirmed == CheckStatus::alert);
    CHECK(cs.bad_since == k_t0);
  }

  SECTION("a result cut off by the deadline or a shutdown changes nothing")
  {
    CheckState before;
    before.check_name = "http";
    before.consecutive_successes = 4;
    for (const char* phase : {"cancelled", "not_started"}) {
      const auto cut = result("http", CheckStatus::error, phase);
      CHECK_FALSE(hb::health::is_observation(cut));
      const CheckState after = confirm_check(before, cut, Thresholds{}, k_t0);
      CHECK(after.consecutive_successes == 4);
      CHECK(after.consecutive_failures == 0);
      CHECK(after.confirmed == CheckStatus::ok);
      CHECK_FALSE(after.bad_since);
    }
  }
}

TEST_CASE("health_of")
{
  using hb::health::health_of;

  SECTION("confirmed check status")
  {
    CHECK(health_of(CheckStatus::ok) == Health::healthy);
    CHECK(health_of(CheckStatus::warning) == Health::warning);
    CHECK(health_of(CheckStatus::alert) == Health::failing);
    CHECK(health_of(CheckStatus::error) == Health::failing);
  }

  SECTION("agent states")
  {
    CHECK(health_of(hb::BeatPhase{AgentState::unknown}) == Health::unknown);
    CHECK(health_of(hb::BeatPhase{AgentState::online}) == Health::healthy);
    CHECK(health_of(hb::BeatPhase{AgentState::degraded}) == Health::warning);
    CHECK(health_of(hb::BeatPhase{AgentState::offline}) == Health::failing);
  }

  SECTION("job states")
  {
    CHECK(health_of(hb::BeatPhase{JobState::unknown}) == Health::unknown);
    CHECK(health_of(hb::BeatPhase{JobState::ok}) == Health::healthy);
    CHECK(health_of(hb::BeatPhase{JobState::failed}) == Health::failing);
    CHECK(health_of(hb::BeatPhase{JobState::late}) == Health::failing);
    CHECK(health_of(hb::BeatPhase{JobState::hung}) == Health::failing);
  }
}

TEST_CASE("judge_checks")
{
  using hb::health::judge_checks;

  SECTION("the worst confirmed check wins; the incident dates from its earliest bad check")
  {
    CheckState tcp;
    tcp.check_name = "tcp";
    tcp.confirmed = CheckStatus::warning;
    tcp.bad_since = k_t0 - 10min;
    const auto j = judge_checks({tcp},
                                {result("http", CheckStatus::alert),
                                 result("tcp", CheckStatus::warning)},
                                {}, k_t0);
    CHECK(j.observed);
    CHECK(j.health == Health::failing);
    CHECK(j.incident_start == k_t0 - 10min);
    REQUIRE(j.checks.size() == 2);
    CHECK(j.checks[0].check_name == "http");
    CHECK(j.checks[1].confirmed == CheckStatus::warning);
  }

  SECTION("thresholds apply by check name")
  {
    const auto j = judge_checks({}, {result("http", CheckStatus::alert)},
                                {{"http", Thresholds{2, 1}}}, k_t0);
    CHECK(j.health == Health::healthy);
    CHECK_FALSE(j.incident_start);
  }

  SECTION("nothing observed when every result was cut off")
  {
    const auto j = judge_checks({}, {result("http", CheckStatus::error, "cancelled")}, {}, k_t0);
    CHECK_FALSE(j.observed);
  }
}

TEST_CASE("check_staleness")
{
  using hb::health::check_staleness;
  const TargetRecord target = check_target();

  SECTION("stale only when silent for strictly longer than stale_after")
  {
    const TimePoint last = k_t0 + 5min;
    CHECK_FALSE(check_staleness(target, last, last + 1h).stale);
    const auto s = check_staleness(target, last, last + 1h + 1ms);
    CHECK(s.stale);
    CHECK(s.reference == last);
    CHECK(s.limit == 1h);
    CHECK(s.silent == 1h + 1ms);
  }

  SECTION("never ran: counted from first_seen")
  {
    const auto s = check_staleness(target, std::nullopt, k_t0 + 2h);
    CHECK(s.stale);
    CHECK(s.reference == k_t0);
  }

  SECTION("never stale when paused, retired, without checks or without stale_after")
  {
    TargetRecord paused = target;
    paused.info.paused = true;
    CHECK_FALSE(check_staleness(paused, std::nullopt, k_t0 + 2h).stale);
    TargetRecord retired = target;
    retired.retired_at = k_t0 + 1min;
    CHECK_FALSE(check_staleness(retired, std::nullopt, k_t0 + 2h).stale);
    TargetRecord beats_only = target;
    beats_only.info.checks.clear();
    CHECK_FALSE(check_staleness(beats_only, std::nullopt, k_t0 + 2h).stale);
    TargetRecord never = target;
    never.info.stale_after = 0ms;
    CHECK_FALSE(check_staleness(never, std::nullopt, k_t0 + 2h).stale);
  }
}

TEST_CASE("beat_staleness")
{
  using hb::health::beat_staleness;
  BeatState state;
  state.last_seen = k_t0 + 1min;

  SECTION("stale from offline_after × every of silence on")
  {
    const TargetRecord agent = agent_target();
    CHECK_FALSE(beat_staleness(agent, state, *state.last_seen + 90s - 1ms).stale);
    const auto s = beat_staleness(agent, state, *state.last_seen + 90s);
    CHECK(s.stale);
    CHECK(s.limit == 90s);
    CHECK(s.reference == *state.last_seen);
  }

  SECTION("never beat: counted from first_seen")
  {
    const auto s = beat_staleness(agent_target(), BeatState{}, k_t0 + 90s);
    CHECK(s.stale);
    CHECK(s.reference == k_t0);
  }

  SECTION("never stale when paused or without a beat interval")
  {
    TargetRecord paused = agent_target();
    paused.info.paused = true;
    CHECK_FALSE(beat_staleness(paused, state, k_t0 + 1h).stale);
    TargetRecord no_interval = agent_target();
    no_interval.info.heartbeat->every = 0ms;
    CHECK_FALSE(beat_staleness(no_interval, state, k_t0 + 1h).stale);
    TargetRecord no_heartbeat = agent_target();
    no_heartbeat.info.heartbeat.reset();
    CHECK_FALSE(beat_staleness(no_heartbeat, state, k_t0 + 1h).stale);
  }

  SECTION("active hours: never stale outside, the clock restarts when they begin")
  {
    // 09:00-17:00 New York (EST, UTC-5); last beat 16:59 the day before.
    const TargetRecord agent = agent_target("09:00-17:00", "America/New_York");
    BeatState quiet;
    quiet.last_seen = at("2026-02-17T21:59:00Z");
    CHECK_FALSE(beat_staleness(agent, quiet, at("2026-02-18T13:59:00Z")).stale);  // 08:59
    CHECK_FALSE(beat_staleness(agent, quiet, at("2026-02-18T14:01:29Z")).stale);  // 09:01:29
    const auto s = beat_staleness(agent, quiet, at("2026-02-18T14:01:30Z"));
    CHECK(s.stale);
    CHECK(s.reference == at("2026-02-18T14:00:00Z"));
  }
}

TEST_CASE("judge")
{
  using hb::health::BeatHealth;
  using hb::health::judge;
  const TargetRecord target = check_target();

  TargetState failing;
  failing.health = Health::failing;
  failing.since = k_t0 + 1min;
  failing.last_execution_at = k_t0 + 2min;

  SECTION("no execution and no beats: unknown")
  {
    const auto j = judge(target, nullptr, nullptr, k_t0 + 1min);
    CHECK(j.health == Health::unknown);
    CHECK_FALSE(j.since);
    CHECK_FALSE(j.staleness.stale);
  }

  SECTION("the checks' state, with its since")
  {
    const auto j = judge(target, &failing, nullptr, k_t0 + 3min);
    CHECK(j.health == Health::failing);
    CHECK(j.since == k_t0 + 1min);
  }

  SECTION("the worse of checks and beats wins, with its own since")
  {
    const BeatHealth healthy_beat{Health::healthy, k_t0};
    auto j = judge(target, &failing, &healthy_beat, k_t0 + 3min);
    CHECK(j.health == Health::failing);
    CHECK(j.since == k_t0 + 1min);

    TargetState healthy = failing;
    healthy.health = Health::healthy;
    const BeatHealth degraded{Health::warning, k_t0 + 2min};
    j = judge(target, &healthy, &degraded, k_t0 + 3min);
    CHECK(j.health == Health::warning);
    CHECK(j.since == k_t0 + 2min);
  }

  SECTION("a tie keeps the checks' since")
  {
    const BeatHealth offline{Health::failing, k_t0 + 30s};
    const auto j = judge(target, &failing, &offline, k_t0 + 3min);
    CHECK(j.since == k_t0 + 1min);
  }

  SECTION("healthy beats outweigh checks that have not run yet (unknown ranks lowest)")
  {
    TargetState not_run;
    const BeatHealth online{Health::healthy, k_t0};
    const auto j = judge(target, &not_run, &online, k_t0 + 1min);
    CHECK(j.health == Health::healthy);
  }

  SECTION("without checks, the beats alone say it, even when they know less")
  {
    TargetRecord agent = agent_target();
    TargetState leftover;
    leftover.health = Health::failing;
    const BeatHealth unknown{Health::unknown, std::nullopt};
    const auto j = judge(agent, &leftover, &unknown, k_t0 + 1min);
    CHECK(j.health == Health::unknown);
  }

  SECTION("paused, retired and stale are reported")
  {
    TargetRecord paused = target;
    paused.info.paused = true;
    CHECK(judge(paused, nullptr, nullptr, k_t0).paused);
    TargetRecord retired = target;
    retired.retired_at = k_t0;
    CHECK(judge(retired, nullptr, nullptr, k_t0).retired);
    const auto stale = judge(target, &failing, nullptr, k_t0 + 2min + 1h + 1ms);
    CHECK(stale.staleness.stale);
    CHECK(stale.health == Health::failing);
  }
}
