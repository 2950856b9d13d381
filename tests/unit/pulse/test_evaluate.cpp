// SPDX-License-Identifier: MIT
#include "pulse/evaluate.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

using hb::CheckStatus;
using hb::ExecStatus;
using hb::Health;
using hb::TimePoint;
using hb::pulse::aggregate;
using hb::pulse::Evaluation;
using hb::pulse::evaluate;
using hb::pulse::InGrace;
using hb::CheckResultRecord;
using hb::TargetState;
using namespace std::chrono_literals;

const TimePoint k_t0 = hb::util::from_unix_ms(1'771'423'500'000);

CheckResultRecord result(const std::string& name, CheckStatus status,
                         const std::string& message = "")
{
  CheckResultRecord r;
  r.check_name = name;
  r.status = status;
  r.message = message.empty() ? std::string(hb::to_string(status)) : message;
  return r;
}

hb::checks::CheckDef def(const std::string& name, int confirm = 1, int recover_after = 1)
{
  hb::checks::CheckDef d;
  d.name = name;
  d.type = "fixed";
  d.confirm = confirm;
  d.recover_after = recover_after;
  return d;
}

hb::config::Target make_target(std::vector<hb::checks::CheckDef> checks)
{
  hb::config::Target t;
  t.id = "acme";
  t.name = "Acme";
  t.checks = std::move(checks);
  return t;
}

// Folds one execution started at `at` (completed 2 s later) into `previous`.
Evaluation step(const hb::config::Target& target, const TargetState& previous, TimePoint at,
                std::vector<CheckResultRecord> results, InGrace grace = InGrace::no)
{
  hb::ExecutionRecord e;
  e.target_id = target.id;
  e.started_at = at;
  e.completed_at = at + 2s;
  e.results = std::move(results);
  e.status = aggregate(e.results);
  return evaluate(target, previous, e, grace);
}

TargetState fresh() { return TargetState{}; }

} // namespace

TEST_CASE("aggregate")
{
  SECTION("no results is all_clear")
  {
    CHECK(aggregate({}) == ExecStatus::all_clear);
  }

  SECTION("the worst result wins in every order: error > alert > warning > all_clear")
  {
    std::vector<CheckStatus> statuses{CheckStatus::ok, CheckStatus::warning, CheckStatus::alert,
                                      CheckStatus::error};
    std::sort(statuses.begin(), statuses.end());
    do {
      for (std::size_t n = 1; n <= statuses.size(); ++n) {
        std::vector<CheckResultRecord> results;
        CheckStatus worst = CheckStatus::ok;
        for (std::size_t i = 0; i < n; ++i) {
          results.push_back(result("c" + std::to_string(i), statuses[i]));
          worst = std::max(worst, statuses[i]);
        }
        CHECK(aggregate(results) == hb::to_exec_status(worst));
      }
    } while (std::next_permutation(statuses.begin(), statuses.end()));
  }

  SECTION("examples")
  {
    CHECK(aggregate({result("a", CheckStatus::ok)}) == ExecStatus::all_clear);
    CHECK(aggregate({result("a", CheckStatus::ok), result("b", CheckStatus::warning)})
          == ExecStatus::warning);
    CHECK(aggregate({result("a", CheckStatus::alert), result("b", CheckStatus::warning)})
          == ExecStatus::alert);
    CHECK(aggregate({result("a", CheckStatus::alert), result("b", CheckStatus::error),
                     result("c", CheckStatus::ok)})
          == ExecStatus::error);
  }
}

TEST_CASE("evaluate")
{
  SECTION("unknown to healthy produces no event")
  {
    const auto target = make_target({def("http")});
    const auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::ok)});
    CHECK(e.state.health == Health::healthy);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
    CHECK(e.events.empty());
    CHECK(e.state.consecutive_successes == 1);
    CHECK(e.state.consecutive_failures == 0);
    CHECK(e.state.last_success_at == std::optional<TimePoint>(k_t0));
    CHECK_FALSE(e.state.last_failure_at);
    CHECK(e.state.last_execution_at == std::optional<TimePoint>(k_t0));
    CHECK(e.state.last_status == std::optional<ExecStatus>(ExecStatus::all_clear));
    CHECK(e.state.last_message.empty());
  }

  SECTION("unknown to failing is an event")
  {
    const auto target = make_target({def("http")});
    const auto e =
      step(target, fresh(), k_t0, {result("http", CheckStatus::alert, "connection refused")});
    CHECK(e.state.health == Health::failing);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
    REQUIRE(e.events.size() == 1);
    const auto& ev = e.events[0];
    CHECK(ev.target_id == "acme");
    CHECK(to_string(ev.type) == "failing");
    CHECK(ev.old_state == "unknown");
    CHECK(ev.new_state == "failing");
    CHECK(ev.message == "http: connection refused");
    CHECK(ev.at == k_t0 + 2s);
    CHECK_FALSE(ev.in_grace);
    CHECK(e.state.last_failure_at == std::optional<TimePoint>(k_t0));
    CHECK(e.state.consecutive_failures == 1);
  }

  SECTION("an error result counts as failing")
  {
    const auto target = make_target({def("http")});
    const auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::error, "timeout")});
    CHECK(e.state.health == Health::failing);
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "failing");
  }

  SECTION("a warning result yields health warning")
  {
    const auto target = make_target({def("http"), def("disk")});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::ok)});
    e = step(target, e.state, k_t0 + 30min,
             {result("http", CheckStatus::ok), result("disk", CheckStatus::warning, "85% used")});
    CHECK(e.state.health == Health::warning);
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "warning");
    CHECK(e.events[0].old_state == "healthy");
    CHECK(e.events[0].new_state == "warning");
    CHECK(e.events[0].message == "disk: 85% used");
  }

  SECTION("failing to healthy is recovered")
  {
    const auto target = make_target({def("http")});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert, "down")});
    e = step(target, e.state, k_t0 + 30min, {result("http", CheckStatus::ok)});
    CHECK(e.state.health == Health::healthy);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0 + 30min));
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "recovered");
    CHECK(e.events[0].old_state == "failing");
    CHECK(e.events[0].new_state == "healthy");
    CHECK(e.events[0].message == "all checks pass");
    CHECK(e.state.last_message.empty());
    CHECK(e.state.last_failure_at == std::optional<TimePoint>(k_t0));
    CHECK(e.state.last_success_at == std::optional<TimePoint>(k_t0 + 30min));
  }

  SECTION("an unchanged health is no event and keeps since")
  {
    const auto target = make_target({def("http")});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 30min, {result("http", CheckStatus::alert)});
    CHECK(e.events.empty());
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
    CHECK(e.state.consecutive_failures == 2);
  }

  SECTION("confirm=3 needs three consecutive failures; since is the first bad observation")
  {
    const auto target = make_target({def("http", 3)});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::ok)});
    REQUIRE(e.state.health == Health::healthy);

    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::alert, "down")});
    CHECK(e.state.health == Health::healthy);
    CHECK(e.events.empty());
    REQUIRE(e.state.checks.size() == 1);
    CHECK(e.state.checks[0].consecutive_failures == 1);
    CHECK(e.state.checks[0].confirmed == CheckStatus::ok);
    CHECK(e.state.checks[0].bad_since == std::optional<TimePoint>(k_t0 + 10min));

    e = step(target, e.state, k_t0 + 20min, {result("http", CheckStatus::alert, "down")});
    CHECK(e.state.health == Health::healthy);
    CHECK(e.events.empty());

    e = step(target, e.state, k_t0 + 30min, {result("http", CheckStatus::alert, "still down")});
    CHECK(e.state.health == Health::failing);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0 + 10min));
    CHECK(e.state.checks[0].confirmed == CheckStatus::alert);
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "failing");
    CHECK(e.events[0].old_state == "healthy");
    CHECK(e.events[0].message == "http: still down");
    CHECK(e.events[0].at == k_t0 + 30min + 2s);
  }

  SECTION("confirm=3: a success in between restarts the count")
  {
    const auto target = make_target({def("http", 3)});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 20min, {result("http", CheckStatus::ok)});
    CHECK_FALSE(e.state.checks[0].bad_since);
    e = step(target, e.state, k_t0 + 30min, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 40min, {result("http", CheckStatus::alert)});
    CHECK(e.state.health == Health::healthy);
    e = step(target, e.state, k_t0 + 50min, {result("http", CheckStatus::alert)});
    CHECK(e.state.health == Health::failing);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0 + 30min));
  }

  SECTION("recover_after=2 needs two consecutive successes")
  {
    const auto target = make_target({def("http", 1, 2)});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert, "down")});
    REQUIRE(e.state.health == Health::failing);

    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::ok)});
    CHECK(e.state.health == Health::failing);
    CHECK(e.events.empty());
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
    CHECK(e.state.checks[0].confirmed == CheckStatus::alert);

    e = step(target, e.state, k_t0 + 20min, {result("http", CheckStatus::ok)});
    CHECK(e.state.health == Health::healthy);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0 + 20min));
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "recovered");
    CHECK(e.state.checks[0].confirmed == CheckStatus::ok);
    CHECK_FALSE(e.state.checks[0].bad_since);
  }

  SECTION("recover_after=2: a failure in between restarts the count")
  {
    const auto target = make_target({def("http", 1, 2)});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::ok)});
    e = step(target, e.state, k_t0 + 20min, {result("http", CheckStatus::alert)});
    e = step(target, e.state, k_t0 + 30min, {result("http", CheckStatus::ok)});
    CHECK(e.state.health == Health::failing);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
  }

  SECTION("the incident dates from the earliest bad observation of any bad check")
  {
    const auto target = make_target({def("http", 2), def("disk")});
    auto e = step(target, fresh(), k_t0,
                  {result("http", CheckStatus::alert), result("disk", CheckStatus::ok)});
    CHECK(e.state.health == Health::healthy);
    e = step(target, e.state, k_t0 + 10min,
             {result("http", CheckStatus::alert), result("disk", CheckStatus::alert)});
    CHECK(e.state.health == Health::failing);
    CHECK(e.state.since == std::optional<TimePoint>(k_t0));
  }

  SECTION("in_grace is copied to events")
  {
    const auto target = make_target({def("http")});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert)}, InGrace::yes);
    REQUIRE(e.events.size() == 1);
    CHECK(e.events[0].in_grace);
    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::ok)}, InGrace::yes);
    REQUIRE(e.events.size() == 1);
    CHECK(e.events[0].in_grace);
    e = step(target, e.state, k_t0 + 20min, {result("http", CheckStatus::alert)}, InGrace::no);
    REQUIRE(e.events.size() == 1);
    CHECK_FALSE(e.events[0].in_grace);
  }

  SECTION("last_message and the event message name the failing checks")
  {
    const auto target = make_target({def("a"), def("b"), def("c"), def("d")});
    const auto e = step(target, fresh(), k_t0,
                        {result("a", CheckStatus::warning, "slow"),
                         result("b", CheckStatus::error, "boom"),
                         result("c", CheckStatus::alert, "down"), result("d", CheckStatus::ok)});
    CHECK(e.state.last_message == "b: boom");
    REQUIRE(e.events.size() == 1);
    CHECK(e.events[0].message == "a: slow; b: boom; c: down");
    CHECK(e.state.last_status == std::optional<ExecStatus>(ExecStatus::error));
  }

  SECTION("the first failing check of the worst status gives last_message")
  {
    const auto target = make_target({def("a"), def("b")});
    const auto e = step(target, fresh(), k_t0,
                        {result("a", CheckStatus::alert, "first"),
                         result("b", CheckStatus::alert, "second")});
    CHECK(e.state.last_message == "a: first");
  }

  SECTION("failing to warning is a warning event")
  {
    const auto target = make_target({def("http")});
    auto e = step(target, fresh(), k_t0, {result("http", CheckStatus::alert, "down")});
    e = step(target, e.state, k_t0 + 10min, {result("http", CheckStatus::warning, "slow")});
    CHECK(e.state.health == Health::warning);
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "warning");
    CHECK(e.events[0].old_state == "failing");
    CHECK(e.events[0].new_state == "warning");
  }

  SECTION("the states of removed checks are dropped")
  {
    const auto old_target = make_target({def("http"), def("disk")});
    auto e = step(old_target, fresh(), k_t0,
                  {result("http", CheckStatus::ok), result("disk", CheckStatus::alert)});
    REQUIRE(e.state.checks.size() == 2);
    const auto new_target = make_target({def("http")});
    e = step(new_target, e.state, k_t0 + 10min, {result("http", CheckStatus::ok)});
    REQUIRE(e.state.checks.size() == 1);
    CHECK(e.state.checks[0].check_name == "http");
    CHECK(e.state.checks[0].consecutive_successes == 2);
    CHECK(e.state.health == Health::healthy);
    REQUIRE(e.events.size() == 1);
    CHECK(to_string(e.events[0].type) == "recovered");
  }

  SECTION("a result for a check not in the config uses confirm=1")
  {
    const auto target = make_target({});
    const auto e = step(target, fresh(), k_t0, {result("ghost", CheckStatus::alert)});
    CHECK(e.state.health == Health::failing);
  }
}

TEST_CASE("evaluate ignores results cut off by the deadline or a shutdown")
{
  const auto target = make_target({def("api"), def("db")});
  auto cut = [](const std::string& name, const std::string& phase) {
    CheckResultRecord r = result(name, CheckStatus::error, "cut off at the pulse deadline (2m)");
    r.phase = phase;
    return r;
  };

  SECTION("a healthy target stays healthy, without an event")
  {
    const auto first = step(target, fresh(), k_t0, {result("api", CheckStatus::ok), result("db", CheckStatus::ok)});
    REQUIRE(first.state.health == Health::healthy);
    const auto second = step(target, first.state, k_t0 + 5min,
                             {result("api", CheckStatus::ok), cut("db", "cancelled")});
    CHECK(second.state.health == Health::healthy);
    CHECK(second.events.empty());
    CHECK(second.state.last_status == ExecStatus::error);  // the execution itself says error
  }

  SECTION("a target whose every check was cut off stays unknown")
  {
    const auto only = step(target, fresh(), k_t0, {cut("api", "cancelled"), cut("db", "not_started")});
    CHECK(only.state.health == Health::unknown);
    CHECK(only.events.empty());
  }

  SECTION("a failing check stays failing and keeps its incident start")
  {
    const auto bad = step(target, fresh(), k_t0, {result("api", CheckStatus::alert), result("db", CheckStatus::ok)});
    REQUIRE(bad.state.health == Health::failing);
    const auto next = step(target, bad.state, k_t0 + 5min, {cut("api", "cancelled"), result("db", CheckStatus::ok)});
    CHECK(next.state.health == Health::failing);
    CHECK(next.state.since == k_t0);
    CHECK(next.events.empty());
  }
}
