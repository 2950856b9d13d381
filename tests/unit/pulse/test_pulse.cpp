// SPDX-License-Identifier: MIT
#include "pulse/pulse.hpp"

#include "checks/registry.hpp"
#include "config/config.hpp"
#include "core/errors.hpp"
#include "store/store.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using hb::CheckStatus;
using hb::ExecStatus;
using hb::Health;
using hb::TimePoint;
using hb::pulse::DryRun;
using hb::pulse::Force;
using hb::pulse::PulseOptions;
using hb::pulse::PulseReport;
using hb::pulse::run_pulse;
using hb::pulse::TargetOutcome;
using Kind = hb::pulse::TargetOutcome::Kind;
using Catch::Matchers::EndsWith;
using Catch::Matchers::Message;
using Catch::Matchers::StartsWith;
using namespace std::chrono_literals;

const TimePoint k_t0 = hb::util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

class ThrowingCheck final : public hb::checks::Check {
public:
  hb::checks::CheckResult run(const hb::checks::CheckContext&) const override
  {
    throw std::runtime_error("boom");
  }
  std::string describe() const override { return "throws"; }
};

// Returns the status named in its config, with an optional message.
class FixedCheck final : public hb::checks::Check {
public:
  FixedCheck(CheckStatus status, std::string message)
    : m_status(status), m_message(std::move(message))
  {
  }
  hb::checks::CheckResult run(const hb::checks::CheckContext&) const override
  {
    hb::checks::CheckResult r;
    r.status = m_status;
    r.message = m_message;
    r.latency = 5ms;
    return r;
  }
  std::string describe() const override { return fmt::format("fixed {}", hb::to_string(m_status)); }

private:
  CheckStatus m_status;
  std::string m_message;
};

std::unique_ptr<hb::checks::Check> make_throws(const hb::ConfigNode&,
                                               const hb::checks::CommonSettings&)
{
  return std::make_unique<ThrowingCheck>();
}

std::unique_ptr<hb::checks::Check> make_fixed(const hb::ConfigNode& spec,
                                              const hb::checks::CommonSettings&)
{
  const auto node = spec["status"];
  const auto status = hb::parse_check_status(node.as_string());
  if (!status) {
    node.fail("ok, warning, alert or error");
  }
  return std::make_unique<FixedCheck>(
    *status, spec.get_string("message", fmt::format("fixed {}", hb::to_string(*status))));
}

hb::checks::Registry make_registry()
{
  hb::checks::Registry registry = hb::checks::Registry::builtin();
  registry.add({"throws", {}, &make_throws});
  registry.add({"fixed", {"status", "message"}, &make_fixed});
  return registry;
}

constexpr const char* k_config = R"({
  "pulse": {"interval": "5m", "deadline": "30s", "concurrency": 4},
  "targets": [
    {"id": "alpha", "name": "Alpha", "tags": ["prod"], "checks": [
      {"name": "boom", "type": "throws"},
      {"name": "fine", "type": "fixed", "status": "ok"}
    ]},
    {"id": "beta", "tags": ["staging"], "checks": [{"name": "up", "type": "fixed", "status": "ok"}]},
    {"id": "empty"},
    {"id": "sleepy", "paused": true, "checks": [{"name": "up", "type": "fixed", "status": "ok"}]}
  ]
})";

constexpr const char* k_clean_config = R"({
  "pulse": {"interval": "5m", "deadline": "30s"},
  "targets": [
    {"id": "alpha", "checks": [{"name": "fine", "type": "fixed", "status": "ok"}]},
    {"id": "beta", "checks": [{"name": "up", "type": "fixed", "status": "ok"}]}
  ]
})";

struct Fixture {
  hb::test::TempDir dir;
  hb::checks::Registry registry = make_registry();
  std::unique_ptr<hb::store::Store> store =
    hb::store::open_store((dir / "heartbeat.db").string(), hb::store::OpenMode::read_write);
  hb::util::ManualClock clock{k_t0};

  hb::config::Config load(const std::string& text)
  {
    return hb::config::load_from_string(
      text, "test.json", hb::config::LoadOptions{hb::config::RunDiscovery::no, &registry});
  }

  PulseReport pulse(const hb::config::Config& config, PulseOptions options = {})
  {
    return run_pulse(config, *store, clock, options);
  }
};

const TargetOutcome& outcome(const PulseReport& report, const std::string& id)
{
  for (const auto& t : report.targets) {
    if (t.id == id) {
      return t;
    }
  }
  FAIL("no outcome for " << id);
  throw std::logic_error("unreachable");
}

std::string fixed_config(const std::string& status, const std::string& message,
                         const std::string& extra = "")
{
  return fmt::format(R"({{
    "pulse": {{"interval": "5m", "deadline": "30s"}},
    "targets": [{{"id": "gamma", {} "checks": [
      {{"name": "probe", "type": "fixed", "status": "{}", "message": "{}"}}]}}]
  }})",
                     extra, status, message);
}

} // namespace

TEST_CASE("run_pulse")
{
  Fixture f;

  SECTION("a throwing check becomes an error; its siblings and other targets complete")
  {
    const auto config = f.load(k_config);
    const auto report = f.pulse(config);
    REQUIRE(report.targets.size() == 4);

    const auto& alpha = outcome(report, "alpha");
    CHECK(alpha.kind == Kind::ran);
    CHECK(alpha.name == "Alpha");
    CHECK(alpha.status == ExecStatus::error);
    CHECK(alpha.health == Health::failing);
    REQUIRE(alpha.results.size() == 2);
    CHECK(alpha.results[0].check_name == "boom");
    CHECK(alpha.results[0].status == CheckStatus::error);
    CHECK(alpha.results[0].phase == "exception");
    CHECK(alpha.results[0].message == "check failed internally: boom");
    CHECK(alpha.results[1].check_name == "fine");
    CHECK(alpha.results[1].status == CheckStatus::ok);
    CHECK(alpha.results[1].message == "fixed ok");
    REQUIRE(alpha.events.size() == 1);
    CHECK(to_string(alpha.events[0].type) == "failing");

    const auto& beta = outcome(report, "beta");
    CHECK(beta.kind == Kind::ran);
    CHECK(beta.status == ExecStatus::all_clear);
    CHECK(beta.health == Health::healthy);
    CHECK(beta.events.empty());

    CHECK(outcome(report, "empty").kind == Kind::skipped);
    CHECK(outcome(report, "empty").reason == "no checks");
    CHECK(outcome(report, "sleepy").kind == Kind::skipped);
    CHECK(outcome(report, "sleepy").reason == "paused");

    CHECK(report.count(Kind::ran) == 2);
    CHECK(report.worst_status() == std::optional<ExecStatus>(ExecStatus::error));
    CHECK(report.abandoned_checks == 0);
    CHECK(report.signal == 0);
    CHECK_FALSE(report.dry_run);
  }

  SECTION("the pulse is recorded with its errors")
  {
    const auto config = f.load(k_config);
    const auto report = f.pulse(config);
    const auto last = f.store->last_pulse();
    REQUIRE(last);
    CHECK(last->id == report.pulse.id);
    CHECK(to_string(last->status) == "error");
    CHECK(last->message == "1 check failed internally");
    CHECK(last->errors == 1);
    CHECK(last->started_at == k_t0);
    CHECK(last->completed_at == std::optional<TimePoint>(k_t0));
    CHECK(last->interval == 5min);
    CHECK(last->deadline == 30s);
    CHECK(last->next_expected == k_t0 + 5min);
    CHECK(last->targets_total == 4);
    CHECK(last->targets_due == 2);
    CHECK(last->targets_run == 2);
    CHECK(last->targets_held == 0);
    CHECK(last->checks_run == 3);
    CHECK(to_string(report.pulse.status) == "error");
  }

  SECTION("executions, states and claims are recorded")
  {
    const auto config = f.load(k_config);
    const auto report = f.pulse(config);
    const auto alpha = f.store->recent_executions("alpha", 10, hb::store::WithResults::yes);
    REQUIRE(alpha.size() == 1);
    CHECK(alpha[0].pulse_id == std::optional<std::int64_t>(report.pulse.id));
    CHECK(alpha[0].status == ExecStatus::error);
    CHECK(alpha[0].trigger == hb::Trigger::pulse);
    CHECK_FALSE(alpha[0].forced);
    CHECK(alpha[0].started_at >= k_t0);
    CHECK(alpha[0].started_at < k_t0 + 5s);
    REQUIRE(alpha[0].results.size() == 2);
    CHECK(alpha[0].results[0].message == "check failed internally: boom");
    CHECK(f.store->recent_executions("beta", 10, hb::store::WithResults::no).size() == 1);
    CHECK(f.store->recent_executions("empty", 10, hb::store::WithResults::no).empty());
    CHECK(f.store->recent_executions("sleepy", 10, hb::store::WithResults::no).empty());

    const auto state = f.store->target_state("alpha");
    REQUIRE(state);
    CHECK(state->health == Health::failing);
    CHECK(state->last_message == "boom: check failed internally: boom");

    // The targets were synced, and every claim was released.
    CHECK(f.store->targets(hb::store::IncludeRetired::no).size() == 4);
    const auto claim = f.store->claim_targets(
      {"alpha", "beta"}, "someone-else", 1min,
      [](const std::string&, const hb::TargetState&) { return true; });
    CHECK(claim.held.empty());
  }

  SECTION("a clean pulse is ok")
  {
    const auto config = f.load(k_clean_config);
    const auto report = f.pulse(config);
    CHECK(to_string(report.pulse.status) == "ok");
    const auto last = f.store->last_pulse();
    REQUIRE(last);
    CHECK(to_string(last->status) == "ok");
    CHECK(last->message.empty());
    CHECK(last->errors == 0);
    CHECK(last->checks_run == 2);
  }

  SECTION("targets that are not due are skipped with the reason")
  {
    const auto config = f.load(k_clean_config);
    f.pulse(config);
    const auto state = f.store->target_state("alpha");
    REQUIRE(state);
    REQUIRE(state->last_execution_at);

    f.clock.advance(2min);
    const auto second = f.pulse(config);
    const auto& alpha = outcome(second, "alpha");
    CHECK(alpha.kind == Kind::skipped);
    CHECK_THAT(alpha.reason, StartsWith("ran ") && EndsWith(" ago, interval 30m"));
    CHECK(alpha.next_run == std::optional<TimePoint>(*state->last_execution_at + 30min));
    CHECK(second.count(Kind::ran) == 0);
    const auto last = f.store->last_pulse();
    REQUIRE(last);
    CHECK(last->id == second.pulse.id);
    CHECK(last->targets_due == 0);
    CHECK(last->targets_run == 0);
    CHECK(to_string(last->status) == "ok");

    f.clock.advance(29min);
    const auto third = f.pulse(config);
    CHECK(outcome(third, "alpha").kind == Kind::ran);
    CHECK(f.store->recent_executions("alpha", 10, hb::store::WithResults::no).size() == 2);
  }

  SECTION("--force runs what is not due")
  {
    const auto config = f.load(k_clean_config);
    f.pulse(config);
    f.clock.advance(1min);
    PulseOptions options;
    options.force = Force::yes;
    const auto report = f.pulse(config, options);
    CHECK(outcome(report, "alpha").kind == Kind::ran);
    const auto recent = f.store->recent_executions("alpha", 10, hb::store::WithResults::no);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].forced);
    CHECK_FALSE(recent[1].forced);
  }

  SECTION("a target claimed by another pulse is held")
  {
    const auto config = f.load(k_config);
    const auto taken = f.store->claim_targets(
      {"beta"}, "other-host:1:deadbeef", 10min,
      [](const std::string&, const hb::TargetState&) { return true; });
    REQUIRE(taken.claimed == std::vector<std::string>{"beta"});

    const auto report = f.pulse(config);
    const auto& beta = outcome(report, "beta");
    CHECK(beta.kind == Kind::held);
    CHECK(beta.reason == "claimed by an overlapping pulse");
    CHECK(outcome(report, "alpha").kind == Kind::ran);
    CHECK(report.count(Kind::held) == 1);
    CHECK(f.store->recent_executions("beta", 10, hb::store::WithResults::no).empty());
    const auto last = f.store->last_pulse();
    REQUIRE(last);
    CHECK(last->targets_held == 1);
    CHECK(last->targets_due == 2);
    CHECK(last->targets_run == 1);
  }

  SECTION("a dry run records nothing")
  {
    const auto config = f.load(k_config);
    PulseOptions options;
    options.dry_run = DryRun::yes;
    const auto report = f.pulse(config, options);
    CHECK(report.dry_run);
    CHECK(to_string(report.pulse.status) == "dry_run");
    CHECK(outcome(report, "alpha").kind == Kind::would_run);
    CHECK(outcome(report, "alpha").reason == "never ran");
    CHECK(outcome(report, "beta").kind == Kind::would_run);
    CHECK(outcome(report, "empty").kind == Kind::skipped);
    CHECK(outcome(report, "empty").reason == "no checks");
    CHECK(report.pulse.targets_due == 2);
    CHECK(report.count(Kind::ran) == 0);
    CHECK_FALSE(f.store->last_pulse());
    CHECK(f.store->recent_executions("alpha", 10, hb::store::WithResults::no).empty());
    CHECK(f.store->recent_executions("beta", 10, hb::store::WithResults::no).empty());
    CHECK(f.store->target_states().empty());
    CHECK(f.store->recent_events("", 10).empty());
  }

  SECTION("--target narrows the run")
  {
    const auto config = f.load(k_config);
    PulseOptions options;
    options.only_targets = {"beta"};
    const auto report = f.pulse(config, options);
    REQUIRE(report.targets.size() == 1);
    CHECK(report.targets[0].id == "beta");
    CHECK(report.targets[0].kind == Kind::ran);
    CHECK(f.store->recent_executions("alpha", 10, hb::store::WithResults::no).empty());
    CHECK(f.store->last_pulse()->targets_total == 1);
  }

  SECTION("--tag narrows the run")
  {
    const auto config = f.load(k_config);
    PulseOptions options;
    options.tags = {"staging"};
    const auto report = f.pulse(config, options);
    REQUIRE(report.targets.size() == 1);
    CHECK(report.targets[0].id == "beta");
    CHECK_FALSE(f.store->last_pulse()->scheduled);
  }

  SECTION("a --tag no target has is a usage error listing the known tags")
  {
    const auto config = f.load(k_config);
    PulseOptions options;
    options.tags = {"staging", "nonexistent"};
    REQUIRE_THROWS_MATCHES(
        f.pulse(config, options), hb::UsageError,
        Message("--tag: no target has the tag \"nonexistent\" (known tags: prod, staging)"));
    CHECK_FALSE(f.store->last_pulse());
  }

  SECTION("an unknown --target is a usage error with a suggestion")
  {
    const auto config = f.load(k_config);
    PulseOptions options;
    options.only_targets = {"alpa"};
    REQUIRE_THROWS_MATCHES(f.pulse(config, options), hb::UsageError,
                           Message("--target: unknown target \"alpa\" (did you mean \"alpha\"?)"));
    options.only_targets = {"beta", "zzzzzzzz"};
    REQUIRE_THROWS_MATCHES(f.pulse(config, options), hb::UsageError,
                           Message("--target: unknown target \"zzzzzzzz\""));
    CHECK_FALSE(f.store->last_pulse());
  }

  SECTION("events are recorded on transitions across pulses")
  {
    const auto failing = f.load(fixed_config("alert", "down"));
    const auto first = f.pulse(failing);
    const auto& g1 = outcome(first, "gamma");
    CHECK(g1.kind == Kind::ran);
    CHECK(g1.health == Health::failing);
    REQUIRE(g1.events.size() == 1);
    CHECK(to_string(g1.events[0].type) == "failing");
    CHECK(g1.events[0].old_state == "unknown");
    CHECK(g1.events[0].message == "probe: down");

    f.clock.advance(10min);
    const auto still = f.pulse(failing);
    CHECK(outcome(still, "gamma").kind == Kind::skipped);

    const auto passing = f.load(fixed_config("ok", "fine"));
    f.clock.advance(21min);
    const auto second = f.pulse(passing);
    const auto& g2 = outcome(second, "gamma");
    CHECK(g2.kind == Kind::ran);
    CHECK(g2.health == Health::healthy);
    REQUIRE(g2.events.size() == 1);
    CHECK(to_string(g2.events[0].type) == "recovered");

    const auto events = f.store->recent_events("gamma", 10);
    REQUIRE(events.size() == 2);
    CHECK(to_string(events[0].type) == "recovered");
    CHECK(events[0].old_state == "failing");
    CHECK(events[0].new_state == "healthy");
    CHECK(to_string(events[1].type) == "failing");
    CHECK(events[1].at >= k_t0);
    CHECK(events[0].at >= k_t0 + 31min);
    CHECK_FALSE(events[0].in_grace);
  }

  SECTION("a new target inside its grace records events marked in_grace")
  {
    const auto config = f.load(fixed_config("alert", "down", R"("new_target_grace": "7d",)"));
    const auto report = f.pulse(config);
    const auto& g = outcome(report, "gamma");
    CHECK(g.in_grace);
    REQUIRE(g.events.size() == 1);
    CHECK(g.events[0].in_grace);
    const auto events = f.store->recent_events("gamma", 10);
    REQUIRE(events.size() == 1);
    CHECK(events[0].in_grace);
  }
}
