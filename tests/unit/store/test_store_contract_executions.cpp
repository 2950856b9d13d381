// SPDX-License-Identifier: MIT
// The store contract, part 2: executions, target states and events. Through the Store interface
// only, once per backend (store_contract.hpp).
#include "store_contract.hpp"

#include "core/errors.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

TEST_CASE("Store::record_executions and Store::recent_executions")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);

    SECTION("writes the execution with its results, and they read back in check order")
    {
      auto w = make_write("acme", k_t0, ExecStatus::alert);
      w.execution.forced = true;
      w.execution.pulse_id = 42;
      // Names out of alphabetical order: the results come back in the order written.
      for (const char* name : {"zeta", "disk", "middle"}) {
        CheckResultRecord r;
        r.check_name = name;
        r.status = CheckStatus::warning;
        r.message = std::string(name) + " is warm";
        r.latency = 30ms;
        r.phase = "exit_code";
        w.execution.results.push_back(r);
      }
      std::vector<ExecutionWrite> writes{w};
      store->record_executions(writes);
      CHECK(writes[0].execution.id > 0);

      const auto recent = store->recent_executions("acme", 10, WithResults::yes);
      REQUIRE(recent.size() == 1);
      const auto& e = recent[0];
      CHECK(e.id == writes[0].execution.id);
      CHECK(e.target_id == "acme");
      CHECK(e.started_at == k_t0);
      CHECK(e.completed_at == k_t0 + 1200ms);
      CHECK(e.trigger == Trigger::pulse);
      CHECK(e.forced);
      CHECK(e.status == ExecStatus::alert);
      CHECK(e.pulse_id == std::optional<std::int64_t>(42));
      REQUIRE(e.results.size() == 4);
      CHECK(e.results[0].check_name == "http");
      CHECK(e.results[0].status == CheckStatus::alert);
      CHECK(e.results[0].message == "connection refused");
      CHECK(e.results[0].latency == 120ms);
      CHECK(e.results[0].phase == "connect");
      CHECK(e.results[1].check_name == "zeta");
      CHECK(e.results[2].check_name == "disk");
      CHECK(e.results[3].check_name == "middle");
      CHECK(e.results[3].status == CheckStatus::warning);
      CHECK(e.results[3].message == "middle is warm");

      const auto without = store->recent_executions("acme", 10, WithResults::no);
      REQUIRE(without.size() == 1);
      CHECK(without[0].id == e.id);
      CHECK(without[0].results.empty());
      CHECK(store->recent_executions("globex", 10, WithResults::yes).empty());
    }

    SECTION("recent_executions is newest first and limited")
    {
      std::vector<ExecutionWrite> writes{make_write("acme", k_t0, ExecStatus::all_clear),
                                         make_write("acme", k_t0 + 30min, ExecStatus::alert),
                                         make_write("acme", k_t0 + 60min, ExecStatus::all_clear)};
      store->record_executions(writes);
      const auto recent = store->recent_executions("acme", 2, WithResults::yes);
      REQUIRE(recent.size() == 2);
      CHECK(recent[0].started_at == k_t0 + 60min);
      CHECK(recent[1].started_at == k_t0 + 30min);
      CHECK(recent[1].results.at(0).message == "connection refused");
    }

    SECTION("executions that started at the same instant come back newest written first")
    {
      std::vector<ExecutionWrite> writes{make_write("acme", k_t0, ExecStatus::all_clear),
                                         make_write("acme", k_t0, ExecStatus::alert)};
      store->record_executions(writes);
      const auto recent = store->recent_executions("acme", 10, WithResults::no);
      REQUIRE(recent.size() == 2);
      CHECK(recent[0].id == writes[1].execution.id);
      CHECK(recent[1].id == writes[0].execution.id);
    }

    SECTION("a batch is atomic: a failing write leaves nothing behind")
    {
      auto good = make_write("acme", k_t0, ExecStatus::alert);
      good.events.push_back(make_event("acme", k_t0, EventType::failing, "down"));
      auto bad = make_write("globex", k_t0, ExecStatus::all_clear);
      bad.execution.results.push_back(bad.execution.results[0]);  // duplicate check name
      std::vector<ExecutionWrite> writes{good, bad};
      CHECK_THROWS_AS(store->record_executions(writes), StoreError);
      CHECK(store->recent_executions("acme", 10, WithResults::yes).empty());
      CHECK(store->recent_executions("globex", 10, WithResults::yes).empty());
      CHECK_FALSE(store->target_state("acme"));
      CHECK(store->recent_events("", 10).empty());
    }

    SECTION("an empty batch is fine")
    {
      std::vector<ExecutionWrite> writes;
      CHECK_NOTHROW(store->record_executions(writes));
      CHECK(store->target_states().empty());
    }

    SECTION("metrics round-trip")
    {
      auto w = make_write("acme", k_t0, ExecStatus::all_clear);
      Metric full{"time", 0.125, "s", "1", "2", 0.0, 10.5};
      Metric bare;
      bare.name = "size";
      bare.value = 42;
      w.execution.results[0].metrics = {full, bare};
      std::vector<ExecutionWrite> writes{w};
      store->record_executions(writes);
      const auto recent = store->recent_executions("acme", 1, WithResults::yes);
      REQUIRE(recent.size() == 1);
      REQUIRE(recent[0].results.size() == 1);
      const auto& metrics = recent[0].results[0].metrics;
      REQUIRE(metrics.size() == 2);
      CHECK(metrics[0].name == "time");
      CHECK(metrics[0].value == 0.125);
      CHECK(metrics[0].unit == "s");
      CHECK(metrics[0].warn == "1");
      CHECK(metrics[0].crit == "2");
      CHECK(metrics[0].min == std::optional<double>(0.0));
      CHECK(metrics[0].max == std::optional<double>(10.5));
      CHECK(metrics[1].name == "size");
      CHECK(metrics[1].value == 42);
      CHECK(metrics[1].unit.empty());
      CHECK(metrics[1].warn.empty());
      CHECK_FALSE(metrics[1].min);
      CHECK_FALSE(metrics[1].max);
    }
  }
}

TEST_CASE("Store::target_state and Store::target_states")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("acme", "Acme", {"http", "disk"}), make_target("globex", "Globex")},
                        k_t0);

    SECTION("record_executions writes the target state and check states")
    {
      auto w = make_write("acme", k_t0, ExecStatus::alert);
      w.state.last_failure_at = k_t0;
      w.state.last_message = "http: connection refused";
      CheckState cs;
      cs.check_name = "http";
      cs.last_status = CheckStatus::alert;
      cs.consecutive_failures = 2;
      cs.confirmed = CheckStatus::alert;
      cs.bad_since = k_t0 - 30min;
      cs.last_message = "connection refused";
      w.state.checks.push_back(cs);
      std::vector<ExecutionWrite> writes{w};
      store->record_executions(writes);

      const auto state = store->target_state("acme");
      REQUIRE(state);
      CHECK(state->target_id == "acme");
      CHECK(state->health == Health::failing);
      CHECK(state->since == std::optional<TimePoint>(k_t0));
      CHECK(state->consecutive_failures == 1);
      CHECK(state->last_execution_at == std::optional<TimePoint>(k_t0));
      CHECK(state->last_status == std::optional<ExecStatus>(ExecStatus::alert));
      CHECK_FALSE(state->last_success_at);
      CHECK(state->last_failure_at == std::optional<TimePoint>(k_t0));
      CHECK(state->last_message == "http: connection refused");
      REQUIRE(state->checks.size() == 1);
      CHECK(state->checks[0].check_name == "http");
      CHECK(state->checks[0].last_status == CheckStatus::alert);
      CHECK(state->checks[0].consecutive_failures == 2);
      CHECK(state->checks[0].confirmed == CheckStatus::alert);
      CHECK(state->checks[0].bad_since == std::optional<TimePoint>(k_t0 - 30min));
      CHECK(state->checks[0].last_message == "connection refused");

      CHECK_FALSE(store->target_state("globex"));
      const auto states = store->target_states();
      REQUIRE(states.size() == 1);
      CHECK(states.at("acme").health == Health::failing);
      CHECK(states.at("acme").checks.size() == 1);
    }

    SECTION("a later state replaces the earlier one")
    {
      std::vector<ExecutionWrite> first{make_write("acme", k_t0, ExecStatus::alert)};
      store->record_executions(first);
      std::vector<ExecutionWrite> second{make_write("acme", k_t0 + 30min, ExecStatus::all_clear)};
      store->record_executions(second);
      const auto state = store->target_state("acme");
      REQUIRE(state);
      CHECK(state->health == Health::healthy);
      CHECK(state->last_execution_at == std::optional<TimePoint>(k_t0 + 30min));
      CHECK(state->last_status == std::optional<ExecStatus>(ExecStatus::all_clear));
    }

    SECTION("the stored check states are the ones last written")
    {
      auto first = make_write("acme", k_t0, ExecStatus::all_clear);
      first.state.checks = {CheckState{"disk", CheckStatus::ok, 0, 1, CheckStatus::ok, {}, "ok"},
                            CheckState{"http", CheckStatus::ok, 0, 1, CheckStatus::ok, {}, "ok"}};
      std::vector<ExecutionWrite> writes{first};
      store->record_executions(writes);
      auto second = make_write("acme", k_t0 + 30min, ExecStatus::all_clear);
      second.state.checks = {CheckState{"http", CheckStatus::ok, 0, 2, CheckStatus::ok, {}, "ok"}};
      writes = {second};
      store->record_executions(writes);
      const auto state = store->target_state("acme");
      REQUIRE(state);
      REQUIRE(state->checks.size() == 1);
      CHECK(state->checks[0].check_name == "http");
      CHECK(state->checks[0].consecutive_successes == 2);
    }

    SECTION("target_states has every target with a state")
    {
      std::vector<ExecutionWrite> writes{make_write("acme", k_t0, ExecStatus::alert),
                                         make_write("globex", k_t0, ExecStatus::all_clear)};
      store->record_executions(writes);
      const auto states = store->target_states();
      REQUIRE(states.size() == 2);
      CHECK(states.at("acme").health == Health::failing);
      CHECK(states.at("globex").health == Health::healthy);
      CHECK(states.at("globex").target_id == "globex");
    }
  }
}

TEST_CASE("Store::execution_stats")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
    std::vector<ExecutionWrite> writes{make_write("acme", k_t0 - 25h, ExecStatus::alert),
                                       make_write("acme", k_t0 - 2h, ExecStatus::all_clear),
                                       make_write("acme", k_t0 - 1h, ExecStatus::warning),
                                       make_write("acme", k_t0, ExecStatus::error),
                                       make_write("globex", k_t0 - 30h, ExecStatus::alert)};
    store->record_executions(writes);

    SECTION("counts executions and failures since a time")
    {
      const auto stats = store->execution_stats(k_t0 - 24h);
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].target_id == "acme");
      CHECK(stats[0].executions == 3);
      CHECK(stats[0].failures == 2);
    }

    SECTION("the window start is inclusive")
    {
      const auto stats = store->execution_stats(k_t0 - 2h);
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].executions == 3);
      CHECK(store->execution_stats(k_t0 - 2h + 1ms)[0].executions == 2);
      CHECK(store->execution_stats(k_t0 + 1ms).empty());
    }

    SECTION("of one target")
    {
      const auto stats = store->execution_stats(k_t0 - 24h, "acme");
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].target_id == "acme");
      CHECK(stats[0].executions == 3);
      CHECK(stats[0].failures == 2);
      CHECK(store->execution_stats(k_t0 - 24h, "globex").empty());
      CHECK(store->execution_stats(k_t0 - 1000h, "globex").at(0).failures == 1);
    }

    SECTION("everything")
    {
      auto stats = store->execution_stats(k_t0 - 1000h);
      std::sort(stats.begin(), stats.end(), [](const ExecutionStats& a, const ExecutionStats& b) {
        return a.target_id < b.target_id;
      });
      REQUIRE(stats.size() == 2);
      CHECK(stats[0].executions == 4);
      CHECK(stats[0].failures == 3);
      CHECK(stats[1].target_id == "globex");
      CHECK(stats[1].executions == 1);
      CHECK(stats[1].failures == 1);
    }
  }
}

TEST_CASE("Store::recent_events and Store::count_events")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
    auto first = make_write("acme", k_t0, ExecStatus::alert);
    first.events.push_back({0, "acme", k_t0 + 1s, EventType::failing, "healthy", "failing",
                            "http: connection refused", true, k_t0});
    auto second = make_write("acme", k_t0 + 30min, ExecStatus::all_clear);
    second.events.push_back({0, "acme", k_t0 + 30min + 1s, EventType::recovered, "failing",
                             "healthy", "all checks pass", false, std::nullopt});
    auto other = make_write("globex", k_t0 + 10min, ExecStatus::alert);
    other.events.push_back(make_event("globex", k_t0 + 10min, EventType::failing, "down"));
    other.events.push_back(make_event("globex", k_t0 + 10min, EventType::warning, "slow"));
    std::vector<ExecutionWrite> writes{first, second, other};
    store->record_executions(writes);

    SECTION("record_executions assigns event ids")
    {
      CHECK(writes[0].events[0].id > 0);
      CHECK(writes[2].events[1].id > writes[2].events[0].id);
    }

    SECTION("recent_events of one target, newest first")
    {
      const auto events = store->recent_events("acme", 10);
      REQUIRE(events.size() == 2);
      CHECK(events[0].type == EventType::recovered);
      CHECK(events[0].id == writes[1].events[0].id);
      CHECK(events[0].target_id == "acme");
      CHECK(events[0].at == k_t0 + 30min + 1s);
      CHECK(events[0].old_state == "failing");
      CHECK(events[0].new_state == "healthy");
      CHECK(events[0].message == "all checks pass");
      CHECK_FALSE(events[0].in_grace);
      CHECK(events[1].type == EventType::failing);
      CHECK(events[1].in_grace);
      CHECK(events[1].message == "http: connection refused");
      CHECK(store->recent_events("acme", 1).size() == 1);
      CHECK(store->recent_events("nobody", 10).empty());
    }

    SECTION("recent_events of all targets, newest first, same instant by newest written")
    {
      const auto everything = store->recent_events("", 10);
      REQUIRE(everything.size() == 4);
      CHECK(everything[0].target_id == "acme");
      CHECK(everything[1].type == EventType::warning);  // written after "failing", same instant
      CHECK(everything[2].type == EventType::failing);
      CHECK(everything[2].target_id == "globex");
      CHECK(everything[3].target_id == "acme");
      CHECK(store->recent_events("", 1).size() == 1);
    }

    SECTION("count_events counts per target the events of the given types since a time")
    {
      const auto failing = store->count_events(k_t0, {EventType::failing});
      CHECK(failing == std::map<std::string, int>{{"acme", 1}, {"globex", 1}});
      const auto both = store->count_events(k_t0, {EventType::failing, EventType::recovered});
      CHECK(both == std::map<std::string, int>{{"acme", 2}, {"globex", 1}});
      const auto later = store->count_events(k_t0 + 10min, {EventType::failing, EventType::warning});
      CHECK(later == std::map<std::string, int>{{"globex", 2}});
      CHECK(store->count_events(k_t0 + 10min + 1ms, {EventType::failing}).empty());
      CHECK(store->count_events(k_t0, {}).empty());
      CHECK(store->count_events(k_t0, {EventType::job_late}).empty());
    }
  }
}
