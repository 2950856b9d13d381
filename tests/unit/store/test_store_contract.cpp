// SPDX-License-Identifier: MIT
// The store contract, part 1: targets, claims, pulses, executions and events. Through the Store
// interface only, once per backend (store_contract.hpp).
#include "store_contract.hpp"

#include "core/errors.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

TEST_CASE("Store::sync_targets and Store::targets")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());

    SECTION("inserts targets with their checks in order")
    {
      auto acme = make_target("acme", "Acme", {"http", "disk"});
      acme.paused = true;
      acme.stale_after = 2h;
      store->sync_targets({acme, make_target("globex", "Globex")}, k_t0);
      const auto records = store->targets(IncludeRetired::no);
      REQUIRE(ids(records) == std::vector<std::string>{"acme", "globex"});
      const auto& r = records[0];
      CHECK(r.info.name == "Acme");
      CHECK(r.info.kind == TargetKind::tenant);
      CHECK(r.info.tags == std::vector<std::string>{"prod", "eu"});
      CHECK(r.info.paused);
      CHECK(r.info.interval == 30min);
      CHECK(r.info.stale_after == 2h);
      CHECK(r.first_seen == k_t0);
      CHECK(r.origin == Origin::config);
      CHECK_FALSE(r.retired_at);
      CHECK_FALSE(r.info.heartbeat);
      REQUIRE(r.info.checks.size() == 2);
      CHECK(r.info.checks[0].name == "http");
      CHECK(r.info.checks[1].name == "disk");
      CHECK(r.info.checks[0].type == "http");
      CHECK(r.info.checks[0].severity == Severity::alert);
      CHECK(r.info.checks[0].description == "GET https://acme.example.com/");
    }

    SECTION("heartbeat settings round-trip")
    {
      auto agent = make_agent("worker");
      agent.heartbeat->offline_after = 7;
      agent.heartbeat->schedule = "0 3 * * *";
      agent.heartbeat->timezone = "Europe/Paris";
      agent.heartbeat->max_runtime = 45min;
      store->sync_targets({agent}, k_t0);
      const auto records = store->targets(IncludeRetired::no);
      REQUIRE(records.size() == 1);
      REQUIRE(records[0].info.heartbeat);
      const auto& h = *records[0].info.heartbeat;
      CHECK(h.every == 30s);
      CHECK(h.grace == 3s);
      CHECK(h.offline_after == 7);
      CHECK(h.schedule == "0 3 * * *");
      CHECK(h.timezone == "Europe/Paris");
      CHECK(h.max_runtime == 45min);
    }

    SECTION("updates a changed target and keeps first_seen")
    {
      store->sync_targets({make_target("acme", "Acme")}, k_t0);
      auto renamed = make_target("acme", "Acme Corp", {"tcp"});
      renamed.interval = 5min;
      store->sync_targets({renamed}, k_t0 + 1h);
      const auto records = store->targets(IncludeRetired::no);
      REQUIRE(records.size() == 1);
      CHECK(records[0].info.name == "Acme Corp");
      CHECK(records[0].info.interval == 5min);
      REQUIRE(records[0].info.checks.size() == 1);
      CHECK(records[0].info.checks[0].name == "tcp");
      CHECK(records[0].first_seen == k_t0);
    }

    SECTION("retires removed targets and keeps them for history")
    {
      store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
      store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
      CHECK(ids(store->targets(IncludeRetired::no)) == std::vector<std::string>{"acme"});
      const auto all = store->targets(IncludeRetired::yes);
      REQUIRE(ids(all) == std::vector<std::string>{"acme", "globex"});
      CHECK_FALSE(find(all, "acme")->retired_at);
      REQUIRE(find(all, "globex")->retired_at);
      CHECK(*find(all, "globex")->retired_at == k_t0 + 1h);
      CHECK(find(all, "globex")->first_seen == k_t0);
    }

    SECTION("a retired target that returns is live again with its first_seen")
    {
      store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
      store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
      store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")},
                          k_t0 + 2h);
      const auto live = store->targets(IncludeRetired::no);
      REQUIRE(ids(live) == std::vector<std::string>{"acme", "globex"});
      CHECK_FALSE(find(live, "globex")->retired_at);
      CHECK(find(live, "globex")->first_seen == k_t0);
    }

    SECTION("re-syncing the same targets changes nothing")
    {
      store->sync_targets({make_target("acme", "Acme")}, k_t0);
      store->sync_targets({make_target("acme", "Acme")}, k_t0 + 1h);
      const auto records = store->targets(IncludeRetired::yes);
      REQUIRE(records.size() == 1);
      CHECK(records[0].first_seen == k_t0);
      CHECK_FALSE(records[0].retired_at);
    }

    SECTION("a target hb-beat created (origin beat) is not the config's to retire")
    {
      store->sync_targets({make_target("acme", "Acme")}, k_t0);
      store->record_beat("pushed", make_agent("pushed"), k_t0,
                         [](const BeatContext& c) { return BeatWrite{c.state, {}, {}, {}}; });
      store->sync_targets({make_target("globex", "Globex")}, k_t0 + 1h);
      const auto live = store->targets(IncludeRetired::no);
      REQUIRE(ids(live) == std::vector<std::string>{"globex", "pushed"});
      CHECK(find(live, "pushed")->origin == Origin::beat);
      CHECK(find(live, "globex")->origin == Origin::config);
      // Once the config declares it, it is the config's.
      store->sync_targets({make_target("globex", "Globex"), make_agent("pushed")}, k_t0 + 2h);
      CHECK(find(store->targets(IncludeRetired::no), "pushed")->origin == Origin::config);
    }
  }
}

TEST_CASE("Store::claim_targets and Store::release_claims")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("a", "A"), make_target("b", "B"), make_target("c", "C")},
                        k_t0);
    const std::vector<std::string> all{"a", "b", "c"};

    SECTION("claims every due target")
    {
      const auto result = store->claim_targets(all, "one", 3min, always_due);
      CHECK(result.claimed == all);
      CHECK(result.held.empty());
    }

    SECTION("respects the predicate, which sees the stored state")
    {
      std::vector<ExecutionWrite> writes{make_write("b", k_t0 - 1min, ExecStatus::alert)};
      store->record_executions(writes);
      std::vector<std::string> seen_failing;
      const auto result =
        store->claim_targets(all, "one", 3min, [&](const std::string& id, const TargetState& state) {
          CHECK(state.target_id == id);
          if (state.health == Health::failing) {
            seen_failing.push_back(id);
          }
          return id != "c";
        });
      CHECK(result.claimed == std::vector<std::string>{"a", "b"});
      CHECK(result.held.empty());
      CHECK(seen_failing == std::vector<std::string>{"b"});
    }

    SECTION("a live claim of another owner is held; the owner itself may claim again")
    {
      store->claim_targets({"a", "b"}, "one", 1h, always_due);
      const auto second = store->claim_targets(all, "two", 1h, always_due);
      CHECK(second.claimed == std::vector<std::string>{"c"});
      CHECK(second.held == std::vector<std::string>{"a", "b"});
      const auto again = store->claim_targets({"a"}, "one", 1h, always_due);
      CHECK(again.claimed == std::vector<std::string>{"a"});
      CHECK(again.held.empty());
    }

    SECTION("a held target that is not due is neither claimed nor held")
    {
      store->claim_targets({"a"}, "one", 1h, always_due);
      const auto second = store->claim_targets(
        all, "two", 1h, [](const std::string& id, const TargetState&) { return id != "a"; });
      CHECK(second.claimed == std::vector<std::string>{"b", "c"});
      CHECK(second.held.empty());
    }

    SECTION("a claim with a ttl of 0 has expired at once and is taken over")
    {
      store->claim_targets({"a"}, "one", 0ms, always_due);
      const auto second = store->claim_targets({"a"}, "two", 1h, always_due);
      CHECK(second.claimed == std::vector<std::string>{"a"});
      CHECK(second.held.empty());
      // Now "one" is the one that is shut out.
      CHECK(store->claim_targets({"a"}, "one", 1h, always_due).held == std::vector<std::string>{"a"});
    }

    SECTION("a claim is live until its ttl has passed on the database's clock")
    {
      store->claim_targets({"a"}, "one", 300ms, always_due);
      CHECK(store->claim_targets({"a"}, "two", 1h, always_due).held == std::vector<std::string>{"a"});
      std::this_thread::sleep_for(400ms);
      CHECK(store->claim_targets({"a"}, "two", 1h, always_due).claimed
            == std::vector<std::string>{"a"});
    }

    SECTION("claims are seen by every connection to the database")
    {
      auto other = backend.open(dir.path());
      store->claim_targets({"a"}, "one", 1h, always_due);
      CHECK(other->claim_targets(all, "two", 1h, always_due).held == std::vector<std::string>{"a"});
    }

    SECTION("release_claims frees only that owner's claims")
    {
      store->claim_targets({"a"}, "one", 1h, always_due);
      store->claim_targets({"b"}, "two", 1h, always_due);
      store->release_claims("one");
      const auto third = store->claim_targets(all, "three", 1h, always_due);
      CHECK(third.claimed == std::vector<std::string>{"a", "c"});
      CHECK(third.held == std::vector<std::string>{"b"});
    }

    SECTION("release_target_claims frees only those targets of that owner")
    {
      store->claim_targets({"a", "b"}, "one", 1h, always_due);
      store->claim_targets({"c"}, "two", 1h, always_due);
      store->release_target_claims("one", {"a", "c"});
      const auto third = store->claim_targets(all, "three", 1h, always_due);
      CHECK(third.claimed == std::vector<std::string>{"a"});
      CHECK(third.held == std::vector<std::string>{"b", "c"});
    }

    SECTION("record_executions releases the claim of its owner")
    {
      store->claim_targets({"a", "b"}, "one", 1h, always_due);
      std::vector<ExecutionWrite> writes{make_write("a", k_t0, ExecStatus::all_clear, "one"),
                                         make_write("b", k_t0, ExecStatus::all_clear, "someone-else")};
      store->record_executions(writes);
      const auto second = store->claim_targets({"a", "b"}, "two", 1h, always_due);
      CHECK(second.claimed == std::vector<std::string>{"a"});
      CHECK(second.held == std::vector<std::string>{"b"});
    }
  }
}

TEST_CASE("Store pulses: begin_pulse, finish_pulse, last_pulse, last_finished_pulse")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    PulseRecord p;
    p.owner = "host:1:abc";
    p.started_at = k_t0;
    p.interval = 5min;
    p.deadline = 2min;
    p.next_expected = k_t0 + 5min;

    SECTION("no pulse yet")
    {
      CHECK_FALSE(store->last_pulse());
      CHECK_FALSE(store->last_finished_pulse());
    }

    SECTION("begin_pulse records a running pulse")
    {
      const auto id = store->begin_pulse(p);
      CHECK(id > 0);
      const auto last = store->last_pulse();
      REQUIRE(last);
      CHECK(last->id == id);
      CHECK(last->owner == "host:1:abc");
      CHECK(last->status == PulseStatus::running);
      CHECK(last->started_at == k_t0);
      CHECK_FALSE(last->completed_at);
      CHECK(last->interval == 5min);
      CHECK(last->deadline == 2min);
      CHECK(last->next_expected == k_t0 + 5min);
      CHECK_FALSE(store->last_finished_pulse());
    }

    SECTION("finish_pulse records the outcome")
    {
      p.id = store->begin_pulse(p);
      p.completed_at = k_t0 + 3s;
      p.status = PulseStatus::error;
      p.targets_total = 5;
      p.targets_due = 4;
      p.targets_run = 3;
      p.targets_held = 1;
      p.checks_run = 9;
      p.tasks_run = 2;
      p.tasks_failed = 1;
      p.errors = 2;
      p.message = "2 checks failed internally";
      p.next_expected = k_t0 + 5min + 3s;
      store->finish_pulse(p);
      const auto last = store->last_finished_pulse();
      REQUIRE(last);
      CHECK(last->id == p.id);
      CHECK(last->completed_at == std::optional<TimePoint>(k_t0 + 3s));
      CHECK(last->status == PulseStatus::error);
      CHECK(last->targets_total == 5);
      CHECK(last->targets_due == 4);
      CHECK(last->targets_run == 3);
      CHECK(last->targets_held == 1);
      CHECK(last->checks_run == 9);
      CHECK(last->tasks_run == 2);
      CHECK(last->tasks_failed == 1);
      CHECK(last->errors == 2);
      CHECK(last->message == "2 checks failed internally");
      CHECK(last->next_expected == k_t0 + 5min + 3s);
    }

    SECTION("finish_pulse releases the claims its owner still holds, and only those")
    {
      store->sync_targets({make_target("a", "A"), make_target("b", "B")}, k_t0);
      p.id = store->begin_pulse(p);
      store->claim_targets({"a"}, p.owner, 1h, always_due);
      store->claim_targets({"b"}, "someone else", 1h, always_due);
      p.completed_at = k_t0 + 3s;
      p.status = PulseStatus::ok;
      store->finish_pulse(p);
      const auto next = store->claim_targets({"a", "b"}, "next", 1h, always_due);
      CHECK(next.claimed == std::vector<std::string>{"a"});
      CHECK(next.held == std::vector<std::string>{"b"});
    }

    SECTION("last_pulse is the latest started, last_finished_pulse the latest finished")
    {
      p.id = store->begin_pulse(p);
      p.completed_at = k_t0 + 3s;
      p.status = PulseStatus::ok;
      store->finish_pulse(p);
      PulseRecord running = p;
      running.started_at = k_t0 + 5min;
      running.completed_at.reset();
      running.id = store->begin_pulse(running);
      CHECK(store->last_pulse()->id == running.id);
      CHECK(store->last_pulse()->status == PulseStatus::running);
      CHECK(store->last_finished_pulse()->id == p.id);
      CHECK(store->last_finished_pulse()->status == PulseStatus::ok);
    }

    SECTION("the last pulse is the last recorded, even when an earlier one is dated later")
    {
      // A pulse recorded while the clock ran ahead, then one after it was set right.
      PulseRecord ahead = p;
      ahead.started_at = k_t0 + 24h * 180;
      ahead.id = store->begin_pulse(ahead);
      ahead.completed_at = ahead.started_at + 3s;
      ahead.status = PulseStatus::ok;
      store->finish_pulse(ahead);
      p.id = store->begin_pulse(p);
      CHECK(store->last_pulse()->id == p.id);
      CHECK(store->last_finished_pulse()->id == ahead.id);
      p.completed_at = k_t0 + 3s;
      p.status = PulseStatus::ok;
      store->finish_pulse(p);
      CHECK(store->last_finished_pulse()->id == p.id);
    }

    SECTION("PulseScope::scheduled passes over pulses narrowed or forced by an operator")
    {
      p.id = store->begin_pulse(p);
      p.completed_at = k_t0 + 3s;
      p.status = PulseStatus::ok;
      store->finish_pulse(p);
      PulseRecord narrowed = p;
      narrowed.started_at = k_t0 + 1min;
      narrowed.completed_at = k_t0 + 1min + 1s;
      narrowed.scheduled = false;
      narrowed.id = store->begin_pulse(narrowed);
      store->finish_pulse(narrowed);
      CHECK(store->last_pulse()->id == narrowed.id);
      CHECK_FALSE(store->last_pulse()->scheduled);
      CHECK(store->last_finished_pulse()->id == narrowed.id);
      CHECK(store->last_pulse(PulseScope::scheduled)->id == p.id);
      CHECK(store->last_pulse(PulseScope::scheduled)->scheduled);
      CHECK(store->last_finished_pulse(PulseScope::scheduled)->id == p.id);
    }
  }
}

TEST_CASE("Store::record_event")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    // An event no execution or beat caused: discovery failing names no target.
    Event e = make_event("", k_t0, EventType::discovery_failed, "discovery: exit code 2", "");
    e.new_state = "";
    store->record_event(e);
    CHECK(e.id > 0);
    const auto events = store->recent_events("", 10);
    REQUIRE(events.size() == 1);
    CHECK(events[0].id == e.id);
    CHECK(events[0].type == EventType::discovery_failed);
    CHECK(events[0].target_id.empty());
    CHECK(events[0].message == "discovery: exit code 2");
  }
}
