// SPDX-License-Identifier: MIT
#include "status/status.hpp"

#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using hb::ExecStatus;
using hb::ExitCode;
using hb::Health;
using hb::TimePoint;
using hb::status::collect;
using hb::status::collect_target;
using Catch::Matchers::Message;
using namespace std::chrono_literals;

const TimePoint k_now = hb::util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

hb::TargetInfo target(const std::string& id, bool paused = false)
{
  hb::TargetInfo t;
  t.id = id;
  t.name = "Target " + id;
  t.paused = paused;
  t.interval = 30min;
  t.checks.push_back({"http", "http", hb::Severity::alert, "GET https://" + id + "/"});
  t.checks.push_back({"disk", "command", hb::Severity::warning, "check_disk -w 10%"});
  return t;
}

struct Fixture {
  hb::test::TempDir dir;
  std::unique_ptr<hb::store::Store> store =
    hb::store::open_store((dir / "heartbeat.db").string(), hb::store::OpenMode::read_write);

  void sync(const std::vector<hb::TargetInfo>& targets)
  {
    store->sync_targets(targets, k_now - 48h);
  }

  // Records one execution of `id` at `at` leaving the target in `health`.
  void record(const std::string& id, TimePoint at, ExecStatus status, Health health,
              const std::string& message = "")
  {
    hb::ExecutionWrite w;
    w.execution.target_id = id;
    w.execution.started_at = at;
    w.execution.completed_at = at + 1s;
    w.execution.status = status;
    hb::CheckResultRecord r;
    r.check_name = "http";
    r.status = status == ExecStatus::all_clear ? hb::CheckStatus::ok : hb::CheckStatus::alert;
    r.message = message.empty() ? "200 OK" : message;
    w.execution.results.push_back(r);
    w.state.target_id = id;
    w.state.health = health;
    w.state.since = at;
    w.state.last_execution_at = at;
    w.state.last_status = status;
    w.state.last_message = message.empty() ? "" : "http: " + message;
    w.state.checks.push_back({"http", r.status, 0, 0, r.status, {}, r.message});
    std::vector<hb::ExecutionWrite> writes{w};
    store->record_executions(writes);
  }

  void pulse(TimePoint started, hb::PulseStatus status = hb::PulseStatus::ok)
  {
    hb::PulseRecord p;
    p.owner = "host:1:abc";
    p.started_at = started;
    p.interval = 5min;
    p.deadline = 2min;
    p.next_expected = started + 5min;
    p.id = store->begin_pulse(p);
    p.completed_at = started + 2s;
    p.status = status;
    store->finish_pulse(p);
  }
};

const hb::status::TargetRow& row(const hb::status::StatusReport& report, const std::string& id)
{
  for (const auto& r : report.targets) {
    if (r.info.id == id) {
      return r;
    }
  }
  FAIL("no row for " << id);
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("exit_code_for")
{
  SECTION("Nagios codes")
  {
    CHECK(hb::status::exit_code_for(Health::healthy) == ExitCode::ok);
    CHECK(hb::status::exit_code_for(Health::warning) == ExitCode::warning);
    CHECK(hb::status::exit_code_for(Health::failing) == ExitCode::critical);
    CHECK(hb::status::exit_code_for(Health::unknown) == ExitCode::unknown);
  }
}

TEST_CASE("status::collect")
{
  Fixture f;

  SECTION("counts targets by health; paused ones apart")
  {
    f.sync({target("healthy"), target("warn"), target("failing"), target("new"),
            target("paused", true)});
    f.record("healthy", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.record("warn", k_now - 10min, ExecStatus::warning, Health::warning, "slow");
    f.record("failing", k_now - 10min, ExecStatus::alert, Health::failing, "down");
    f.record("paused", k_now - 40h, ExecStatus::alert, Health::failing, "down");
    f.pulse(k_now - 1min);

    const auto report = collect(*f.store, k_now, "/tmp/x.db");
    CHECK(report.now == k_now);
    CHECK(report.database == "/tmp/x.db");
    CHECK(report.pulse.state == hb::pulse::PulseState::alive);
    CHECK(report.counts.targets == 5);
    CHECK(report.counts.healthy == 1);
    CHECK(report.counts.warning == 1);
    CHECK(report.counts.failing == 1);
    CHECK(report.counts.unknown == 1);
    CHECK(report.counts.paused == 1);
    CHECK(report.exit_code == ExitCode::critical);
    REQUIRE(report.targets.size() == 5);

    const auto& failing = row(report, "failing");
    CHECK(failing.health == Health::failing);
    CHECK(failing.message == "http: down");
    CHECK(failing.since == std::optional<TimePoint>(k_now - 10min));
    CHECK(failing.last_run == std::optional<TimePoint>(k_now - 10min));
    CHECK(failing.last_status == std::optional<ExecStatus>(ExecStatus::alert));
    CHECK(failing.info.name == "Target failing");
    CHECK(row(report, "healthy").message.empty());
    CHECK(row(report, "new").health == Health::unknown);
    CHECK_FALSE(row(report, "new").last_run);
    CHECK(row(report, "paused").info.paused);
  }

  SECTION("exit 0 when everything is healthy and the pulse alive")
  {
    f.sync({target("a"), target("b")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.record("b", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.pulse(k_now - 1min);
    CHECK(collect(*f.store, k_now, "db").exit_code == ExitCode::ok);
  }

  SECTION("exit 1 for a warning")
  {
    f.sync({target("a"), target("b")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.record("b", k_now - 10min, ExecStatus::warning, Health::warning, "slow");
    f.pulse(k_now - 1min);
    CHECK(collect(*f.store, k_now, "db").exit_code == ExitCode::warning);
  }

  SECTION("exit 2 for a failing target")
  {
    f.sync({target("a")});
    f.record("a", k_now - 10min, ExecStatus::alert, Health::failing, "down");
    f.pulse(k_now - 1min);
    CHECK(collect(*f.store, k_now, "db").exit_code == ExitCode::critical);
  }

  SECTION("exit 2 when the pulse is stale, even if all is healthy")
  {
    f.sync({target("a")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.pulse(k_now - 1h);
    const auto report = collect(*f.store, k_now, "db");
    CHECK(report.pulse.state == hb::pulse::PulseState::warning);
    CHECK(report.exit_code == ExitCode::critical);
  }

  SECTION("exit 2 when the last pulse had errors")
  {
    f.sync({target("a")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.pulse(k_now - 1min, hb::PulseStatus::error);
    CHECK(collect(*f.store, k_now, "db").exit_code == ExitCode::critical);
  }

  SECTION("exit 3 when no pulse ever ran")
  {
    f.sync({target("a")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    const auto report = collect(*f.store, k_now, "db");
    CHECK(report.pulse.state == hb::pulse::PulseState::unknown);
    CHECK(report.exit_code == ExitCode::unknown);
  }

  SECTION("exit 3 with no data at all")
  {
    f.sync({target("a")});
    f.pulse(k_now - 1min);
    CHECK(collect(*f.store, k_now, "db").exit_code == ExitCode::unknown);
  }

  SECTION("the 24-hour failure rate ignores older executions")
  {
    f.sync({target("a"), target("b")});
    f.record("a", k_now - 30h, ExecStatus::alert, Health::failing, "down");
    f.record("a", k_now - 25h, ExecStatus::alert, Health::failing, "down");
    f.record("a", k_now - 23h, ExecStatus::all_clear, Health::healthy);
    f.record("a", k_now - 12h, ExecStatus::alert, Health::failing, "down");
    f.record("a", k_now - 6h, ExecStatus::all_clear, Health::healthy);
    f.record("a", k_now - 1h, ExecStatus::all_clear, Health::healthy);
    f.record("b", k_now - 30h, ExecStatus::alert, Health::failing, "down");
    f.pulse(k_now - 1min);
    const auto report = collect(*f.store, k_now, "db");
    const auto& a = row(report, "a");
    CHECK(a.executions_24h == 4);
    CHECK(a.failures_24h == 1);
    REQUIRE(a.failure_rate_24h);
    CHECK(*a.failure_rate_24h == Approx(0.25));
    const auto& b = row(report, "b");
    CHECK(b.executions_24h == 0);
    CHECK(b.failures_24h == 0);
    CHECK_FALSE(b.failure_rate_24h);
  }

  SECTION("retired targets are not shown")
  {
    f.sync({target("a"), target("gone")});
    f.sync({target("a")});
    const auto report = collect(*f.store, k_now, "db");
    REQUIRE(report.targets.size() == 1);
    CHECK(report.targets[0].info.id == "a");
  }

  SECTION("with --all, retired targets are listed last, marked, never counted or alerted on")
  {
    f.sync({target("a"), target("gone")});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.record("gone", k_now - 10min, ExecStatus::alert, Health::failing, "down");
    f.sync({target("a")});
    f.pulse(k_now - 1min);
    const auto report = collect(*f.store, k_now, "db", hb::store::IncludeRetired::yes);
    REQUIRE(report.targets.size() == 2);
    CHECK(report.targets[1].info.id == "gone");
    CHECK(report.targets[1].retired_at);
    CHECK_FALSE(report.targets[0].retired_at);
    CHECK(report.counts.targets == 1);
    CHECK(report.counts.failing == 0);
    CHECK(report.exit_code == ExitCode::ok);
  }

  SECTION("counts are a partition: a stale target is counted once")
  {
    auto stale = target("stale");
    stale.stale_after = 1h;
    f.sync({target("a"), stale});
    f.record("a", k_now - 10min, ExecStatus::all_clear, Health::healthy);
    f.record("stale", k_now - 3h, ExecStatus::alert, Health::failing, "down");
    f.pulse(k_now - 1min);
    const auto report = collect(*f.store, k_now, "db");
    const auto& c = report.counts;
    CHECK(c.targets == 2);
    CHECK(c.stale == 1);
    CHECK(c.failing == 0);
    CHECK(c.healthy + c.warning + c.failing + c.unknown + c.paused + c.stale == c.targets);
  }
}

TEST_CASE("status::collect_target")
{
  Fixture f;
  f.sync({target("web-api"), target("worker")});

  SECTION("an unknown id is a data error with a suggestion")
  {
    REQUIRE_THROWS_MATCHES(collect_target(*f.store, "web-apj", k_now), hb::DataError,
                           Message("unknown target \"web-apj\" (did you mean \"web-api\"?)"));
    REQUIRE_THROWS_MATCHES(
      collect_target(*f.store, "zzzzzz", k_now), hb::DataError,
      Message("unknown target \"zzzzzz\" (hb-status lists the known targets)"));
  }

  SECTION("the target in depth")
  {
    f.record("web-api", k_now - 2h, ExecStatus::all_clear, Health::healthy);
    f.record("web-api", k_now - 1h, ExecStatus::alert, Health::failing, "down");
    const auto d = collect_target(*f.store, "web-api", k_now);
    CHECK(d.now == k_now);
    CHECK(d.first_seen == std::optional<TimePoint>(k_now - 48h));
    CHECK(d.row.health == Health::failing);
    CHECK(d.row.message == "http: down");
    CHECK(d.row.executions_24h == 2);
    CHECK(d.row.failures_24h == 1);
    CHECK(d.exit_code == ExitCode::critical);
    REQUIRE(d.recent.size() == 2);
    CHECK(d.recent[0].started_at == k_now - 1h);
    REQUIRE(d.checks.size() == 2);
    CHECK(d.checks[0].info.name == "http");
    REQUIRE(d.checks[0].last_result);
    CHECK(d.checks[0].last_result->message == "down");
    CHECK(d.checks[0].last_run == std::optional<TimePoint>(k_now - 1h));
    REQUIRE(d.checks[0].state);
    CHECK(d.checks[0].state->confirmed == hb::CheckStatus::alert);
    CHECK(d.checks[1].info.name == "disk");
    CHECK_FALSE(d.checks[1].last_result);
    CHECK_FALSE(d.checks[1].state);
  }

  SECTION("a retired target can still be shown")
  {
    f.sync({target("web-api")});
    const auto d = collect_target(*f.store, "worker", k_now);
    CHECK(d.row.health == Health::unknown);
    CHECK(d.row.retired_at);
    CHECK(d.exit_code == ExitCode::unknown);
    CHECK(d.recent.empty());
  }

  SECTION("a retired target that was failing exits 3, not 2: it is no longer monitored")
  {
    f.record("worker", k_now - 1h, ExecStatus::alert, Health::failing, "down");
    f.sync({target("web-api")});
    const auto d = collect_target(*f.store, "worker", k_now);
    CHECK(d.row.health == Health::failing);
    CHECK(d.exit_code == ExitCode::unknown);
  }
}
