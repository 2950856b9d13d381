// SPDX-License-Identifier: MIT
#include "pulse/system_state.hpp"

#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace {

using hb::TimePoint;
using hb::pulse::PulseState;
using hb::pulse::system_pulse;
using hb::pulse::system_pulse_from;
using hb::PulseRecord;
using namespace std::chrono_literals;

const TimePoint k_t0 = hb::util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

PulseRecord finished(TimePoint started, hb::PulseStatus status = hb::PulseStatus::ok,
                     const std::string& message = "")
{
  PulseRecord p;
  p.owner = "host:1:abc";
  p.started_at = started;
  p.completed_at = started + 3s;
  p.status = status;
  p.interval = 5min;
  p.deadline = 2min;
  p.message = message;
  p.next_expected = started + 5min;
  return p;
}

struct Fixture {
  hb::test::TempDir dir;
  std::unique_ptr<hb::store::Store> store =
    hb::store::open_store((dir / "heartbeat.db").string(), hb::store::OpenMode::read_write);

  std::int64_t add_finished(PulseRecord p)
  {
    p.id = store->begin_pulse(p);
    store->finish_pulse(p);
    return p.id;
  }
  std::int64_t add_running(TimePoint started)
  {
    PulseRecord p = finished(started);
    p.completed_at.reset();
    p.status = hb::PulseStatus::running;
    return store->begin_pulse(p);
  }
};

} // namespace

TEST_CASE("PulseState to_string")
{
  SECTION("names")
  {
    CHECK(hb::pulse::to_string(PulseState::alive) == "alive");
    CHECK(hb::pulse::to_string(PulseState::warning) == "warning");
    CHECK(hb::pulse::to_string(PulseState::error) == "error");
    CHECK(hb::pulse::to_string(PulseState::unknown) == "unknown");
  }
}

TEST_CASE("system_pulse_from")
{
  SECTION("alive within 1.5 intervals, boundary included")
  {
    const auto p = finished(k_t0);
    const auto s = system_pulse_from(p, k_t0 + 7min + 30s);
    CHECK(s.state == PulseState::alive);
    CHECK(s.reason == "last pulse 7m 30s ago");
    CHECK(s.next_expected == std::optional<TimePoint>(k_t0 + 5min));
    REQUIRE(s.last);
    CHECK(s.last->started_at == k_t0);
    CHECK_FALSE(s.running);
  }

  SECTION("warning just past 1.5 intervals")
  {
    const auto s = system_pulse_from(finished(k_t0), k_t0 + 7min + 30s + 1ms);
    CHECK(s.state == PulseState::warning);
    CHECK(s.reason
          == "last pulse 7m 30s ago, expected every 5m: is the scheduler still running hb-pulse?");
  }

  SECTION("error when the pulse had errors")
  {
    const auto s = system_pulse_from(finished(k_t0, hb::PulseStatus::error, "1 check failed internally"),
                                     k_t0 + 1min);
    CHECK(s.state == PulseState::error);
    CHECK(s.reason == "last pulse 1m ago had errors: 1 check failed internally");
  }

  SECTION("error when the pulse was interrupted, even if recent")
  {
    const auto s =
      system_pulse_from(finished(k_t0, hb::PulseStatus::interrupted, "interrupted by SIGTERM"), k_t0 + 10s);
    CHECK(s.state == PulseState::error);
    CHECK(s.reason == "last pulse 10s ago was interrupted: interrupted by SIGTERM");
  }

  SECTION("an old errored pulse is still an error")
  {
    const auto s = system_pulse_from(finished(k_t0, hb::PulseStatus::error, "x"), k_t0 + 1h);
    CHECK(s.state == PulseState::error);
  }
}

TEST_CASE("system_pulse")
{
  Fixture f;

  SECTION("unknown when no pulse ever ran")
  {
    const auto s = system_pulse(*f.store, k_t0);
    CHECK(s.state == PulseState::unknown);
    CHECK(s.reason == "no pulse has run yet");
    CHECK_FALSE(s.last);
    CHECK_FALSE(s.running);
    CHECK_FALSE(s.next_expected);
  }

  SECTION("alive from the last finished pulse")
  {
    const auto id = f.add_finished(finished(k_t0));
    const auto s = system_pulse(*f.store, k_t0 + 1min);
    CHECK(s.state == PulseState::alive);
    REQUIRE(s.last);
    CHECK(s.last->id == id);
    CHECK_FALSE(s.running);
  }

  SECTION("warning when stale, with the exact boundary")
  {
    f.add_finished(finished(k_t0));
    CHECK(system_pulse(*f.store, k_t0 + 7min + 30s).state == PulseState::alive);
    CHECK(system_pulse(*f.store, k_t0 + 7min + 30s + 1ms).state == PulseState::warning);
  }

  SECTION("error for a pulse with errors or interrupted")
  {
    f.add_finished(finished(k_t0, hb::PulseStatus::error, "boom"));
    CHECK(system_pulse(*f.store, k_t0 + 1min).state == PulseState::error);
    f.add_finished(finished(k_t0 + 5min, hb::PulseStatus::interrupted, "interrupted by SIGINT"));
    const auto s = system_pulse(*f.store, k_t0 + 6min);
    CHECK(s.state == PulseState::error);
    CHECK(s.reason == "last pulse 1m ago was interrupted: interrupted by SIGINT");
  }

  SECTION("a running pulse within its deadline + 60 s reports the previous finished pulse")
  {
    const auto done = f.add_finished(finished(k_t0));
    const auto running = f.add_running(k_t0 + 5min);
    REQUIRE(running != done);
    const auto s = system_pulse(*f.store, k_t0 + 5min + 2min + 60s);
    CHECK(s.running);
    CHECK(s.state == PulseState::warning);  // the finished pulse is 8 minutes old by then
    REQUIRE(s.last);
    CHECK(s.last->id == done);
    const auto soon = system_pulse(*f.store, k_t0 + 5min + 10s);
    CHECK(soon.running);
    CHECK(soon.state == PulseState::alive);
    CHECK(soon.reason == "last pulse 5m 10s ago");
  }

  SECTION("the first pulse running")
  {
    f.add_running(k_t0);
    const auto s = system_pulse(*f.store, k_t0 + 10s);
    CHECK(s.running);
    CHECK(s.state == PulseState::unknown);
    CHECK(s.reason == "the first pulse is running");
  }

  SECTION("a running pulse past its deadline + 60 s never finished")
  {
    f.add_finished(finished(k_t0));
    const auto running = f.add_running(k_t0 + 5min);
    const auto s = system_pulse(*f.store, k_t0 + 5min + 2min + 60s + 1ms);
    CHECK(s.state == PulseState::error);
    CHECK_FALSE(s.running);
    REQUIRE(s.last);
    CHECK(s.last->id == running);
    CHECK(s.next_expected == std::optional<TimePoint>(k_t0 + 10min));
    CHECK(s.reason
          == "pulse #" + std::to_string(running) + " started 3m ago and never finished (killed?)");
  }
}

TEST_CASE("system_pulse_from: a pulse dated in the future is not alive")
{
  const auto s = system_pulse_from(finished(k_t0 + 24h), k_t0);
  CHECK(s.state == PulseState::warning);
  CHECK(s.reason
        == "last pulse is dated 1d ahead of this clock (clock skew?): is the scheduler still "
           "running hb-pulse?");
  CHECK_FALSE(s.next_expected);
  // A few seconds ahead (another host's clock) is still a pulse.
  CHECK(system_pulse_from(finished(k_t0 + 20s), k_t0).state == PulseState::alive);
}
