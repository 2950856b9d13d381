// SPDX-License-Identifier: MIT
// The store contract for hb-recover: runs, attempts with their steps, per-target counters,
// escalations, and the events of a recovery written in its transaction.
#include "store_contract.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

namespace {

RecoveryRun make_run(const std::string& owner, TimePoint at)
{
  RecoveryRun run;
  run.owner = owner;
  run.started_at = at;
  run.interval = 5min;
  return run;
}

RecoveryAttempt make_attempt(std::int64_t run_id, const std::string& target, TimePoint at)
{
  RecoveryAttempt a;
  a.run_id = run_id;
  a.target_id = target;
  a.issue = RecoveryIssue::failing;
  a.check_name = "http";
  a.phase = "connect";
  a.action = "systemctl restart api";
  a.started_at = at;
  return a;
}

// Records `attempt` (inserted or updated) alone and returns its id.
std::int64_t record_attempt(Store& store, const RecoveryAttempt& attempt)
{
  RecoveryWrite w;
  w.attempt = attempt;
  store.record_recovery(w);
  return w.attempt->id;
}

// A finished attempt on `target`, completed at `at` + 1 min with `result`.
void record_finished(Store& store, const std::string& target, TimePoint at, AttemptResult result)
{
  RecoveryAttempt a = make_attempt(1, target, at);
  a.completed_at = at + 1min;
  a.result = result;
  record_attempt(store, a);
}

Escalation make_escalation(const std::string& target, std::vector<std::string> targets,
                           TimePoint at)
{
  Escalation e;
  e.target_id = target;
  e.cause = target.empty() ? "connect 127.0.0.1:9" : "";
  e.targets = std::move(targets);
  e.opened_at = at;
  e.failed_attempts = 3;
  e.summary = R"({"target":")" + target + R"("})";
  return e;
}

std::vector<std::int64_t> escalation_ids(const std::vector<Escalation>& escalations)
{
  std::vector<std::int64_t> out;
  for (const auto& e : escalations) {
    out.push_back(e.id);
  }
  return out;
}

} // namespace

TEST_CASE("Store::begin_recovery_run, finish_recovery_run and last_recovery_run")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    CHECK_FALSE(store->last_recovery_run());
    store->sync_targets({make_target("api", "API"), make_target("db", "DB")}, k_t0);

    RecoveryRun run = make_run("recover-1", k_t0);
    run.id = store->begin_recovery_run(run);
    CHECK(run.id > 0);
    auto last = store->last_recovery_run();
    REQUIRE(last);
    CHECK(last->id == run.id);
    CHECK(last->owner == "recover-1");
    CHECK(last->started_at == k_t0);
    CHECK_FALSE(last->completed_at);
    CHECK(last->status == RecoveryRunStatus::running);
    CHECK(last->interval == 5min);

    SECTION("finishing records the counts, interrupts attempts still running, drops claims")
    {
      CHECK(store->claim_targets({"api", "db"}, "recover-1", 10min, always_due).claimed.size()
            == 2);
      auto other = backend.open(dir.path());
      CHECK(other->claim_targets({"api"}, "pulse-1", 10min, always_due).held
            == std::vector<std::string>{"api"});

      const std::int64_t running = record_attempt(*store, make_attempt(run.id, "api", k_t0));
      RecoveryAttempt with_message = make_attempt(run.id, "db", k_t0 + 1s);
      with_message.message = "restarting";
      const std::int64_t told = record_attempt(*store, with_message);
      RecoveryAttempt done = make_attempt(run.id, "db", k_t0 + 2s);
      done.result = AttemptResult::recovered;
      done.completed_at = k_t0 + 30s;
      done.message = "recovered after the restart";
      const std::int64_t finished = record_attempt(*store, done);
      // Another run's attempt is not this run's to interrupt.
      const std::int64_t elsewhere =
          record_attempt(*store, make_attempt(run.id + 100, "api", k_t0));

      run.completed_at = k_t0 + 1min;
      run.status = RecoveryRunStatus::interrupted;
      run.assessed = 2;
      run.unhealthy = 2;
      run.attempted = 2;
      run.recovered = 1;
      run.failed = 1;
      run.escalated = 1;
      run.message = "interrupted by SIGTERM";
      store->finish_recovery_run(run);

      last = backend.open(dir.path())->last_recovery_run();
      REQUIRE(last);
      CHECK(last->completed_at == k_t0 + 1min);
      CHECK(last->status == RecoveryRunStatus::interrupted);
      CHECK(last->assessed == 2);
      CHECK(last->unhealthy == 2);
      CHECK(last->attempted == 2);
      CHECK(last->recovered == 1);
      CHECK(last->failed == 1);
      CHECK(last->escalated == 1);
      CHECK(last->message == "interrupted by SIGTERM");

      const auto attempts = store->recent_recovery_attempts("", 10);
      REQUIRE(attempts.size() == 4);
      auto find_attempt = [&](std::int64_t id) {
        return *std::find_if(attempts.begin(), attempts.end(),
                             [&](const RecoveryAttempt& a) { return a.id == id; });
      };
      CHECK(find_attempt(running).result == AttemptResult::interrupted);
      CHECK(find_attempt(running).completed_at == k_t0 + 1min);
      CHECK(find_attempt(running).message
            == "interrupted: the run ended before the attempt finished");
      CHECK(find_attempt(told).result == AttemptResult::interrupted);
      CHECK(find_attempt(told).message == "restarting");
      CHECK(find_attempt(finished).result == AttemptResult::recovered);
      CHECK(find_attempt(finished).completed_at == k_t0 + 30s);
      CHECK(find_attempt(finished).message == "recovered after the restart");
      CHECK(find_attempt(elsewhere).result == AttemptResult::running);

      CHECK(other->claim_targets({"api", "db"}, "pulse-1", 10min, always_due).claimed.size()
            == 2);
    }

    SECTION("the most recently begun run is the last one")
    {
      RecoveryRun second = make_run("recover-2", k_t0 - 1h);  // a clock set back
      second.id = store->begin_recovery_run(second);
      CHECK(second.id > run.id);
      last = store->last_recovery_run();
      REQUIRE(last);
      CHECK(last->id == second.id);
      CHECK(last->owner == "recover-2");
    }
  }
}

TEST_CASE("Store::record_recovery: attempts")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    RecoveryWrite w;
    w.attempt = make_attempt(7, "api", k_t0);
    w.attempt->steps.push_back({"check", "http: connection refused", std::nullopt, "", 120ms,
                                "failing"});
    store->record_recovery(w);
    const std::int64_t id = w.attempt->id;
    CHECK(id > 0);

    auto stored = store->recent_recovery_attempts("api", 10);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].id == id);
    CHECK(stored[0].run_id == 7);
    CHECK(stored[0].target_id == "api");
    CHECK(stored[0].issue == RecoveryIssue::failing);
    CHECK(stored[0].check_name == "http");
    CHECK(stored[0].phase == "connect");
    CHECK(stored[0].action == "systemctl restart api");
    CHECK(stored[0].started_at == k_t0);
    CHECK_FALSE(stored[0].completed_at);
    CHECK(stored[0].result == AttemptResult::running);
    REQUIRE(stored[0].steps.size() == 1);
    CHECK_FALSE(stored[0].steps[0].exit_code);

    SECTION("updating finishes it in place, with every step")
    {
      w.attempt->completed_at = k_t0 + 40s;
      w.attempt->result = AttemptResult::failed;
      w.attempt->message = "still failing after the restart";
      w.attempt->issue = RecoveryIssue::stale;
      w.attempt->steps.push_back({"action", "systemctl restart api", 0, "restarted\n", 2500ms,
                                  "succeeded"});
      w.attempt->steps.push_back({"verify", "http: 503 Service Unavailable", std::nullopt,
                                  "", 300ms, "failing"});
      store->record_recovery(w);
      CHECK(w.attempt->id == id);
      stored = backend.open(dir.path())->recent_recovery_attempts("api", 10);
      REQUIRE(stored.size() == 1);
      const RecoveryAttempt& a = stored[0];
      CHECK(a.id == id);
      CHECK(a.completed_at == k_t0 + 40s);
      CHECK(a.result == AttemptResult::failed);
      CHECK(a.message == "still failing after the restart");
      CHECK(a.issue == RecoveryIssue::stale);
      REQUIRE(a.steps.size() == 3);
      CHECK(a.steps[0].kind == "check");
      CHECK(a.steps[0].what == "http: connection refused");
      CHECK(a.steps[0].duration == 120ms);
      CHECK(a.steps[0].result == "failing");
      CHECK(a.steps[1].kind == "action");
      CHECK(a.steps[1].what == "systemctl restart api");
      CHECK(a.steps[1].exit_code == 0);
      CHECK(a.steps[1].output == "restarted\n");
      CHECK(a.steps[1].duration == 2500ms);
      CHECK(a.steps[1].result == "succeeded");
      CHECK(a.steps[2].kind == "verify");
      CHECK_FALSE(a.steps[2].exit_code);
    }

    SECTION("newest first, per target or all, and limited")
    {
      const std::int64_t db_id = record_attempt(*store, make_attempt(7, "db", k_t0 + 1min));
      const std::int64_t later = record_attempt(*store, make_attempt(7, "api", k_t0 + 2min));
      std::vector<std::int64_t> all;
      for (const auto& a : store->recent_recovery_attempts("", 10)) {
        all.push_back(a.id);
      }
      CHECK(all == std::vector<std::int64_t>{later, db_id, id});
      const auto api = store->recent_recovery_attempts("api", 10);
      REQUIRE(api.size() == 2);
      CHECK(api[0].id == later);
      CHECK(store->recent_recovery_attempts("", 1).size() == 1);
      CHECK(store->recent_recovery_attempts("nobody", 10).empty());
    }

    SECTION("count_recovery_attempts: the target's attempts started since")
    {
      record_attempt(*store, make_attempt(7, "api", k_t0 + 10min));
      record_attempt(*store, make_attempt(7, "db", k_t0 + 10min));
      CHECK(store->count_recovery_attempts("api", k_t0) == 2);
      CHECK(store->count_recovery_attempts("api", k_t0 + 1ms) == 1);
      CHECK(store->count_recovery_attempts("api", k_t0 + 10min) == 1);
      CHECK(store->count_recovery_attempts("api", k_t0 + 11min) == 0);
      CHECK(store->count_recovery_attempts("db", k_t0) == 1);
      CHECK(store->count_recovery_attempts("nobody", k_t0) == 0);
    }
  }
}

TEST_CASE("Store::recovery_counts")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    CHECK(store->recovery_counts(k_t0).succeeded == 0);
    record_finished(*store, "api", k_t0, AttemptResult::recovered);          // done at +1min
    record_finished(*store, "db", k_t0 + 1h, AttemptResult::recovered);      // done at +61min
    record_finished(*store, "api", k_t0 + 2h, AttemptResult::failed);
    record_finished(*store, "web", k_t0 + 2h, AttemptResult::failed);
    record_finished(*store, "web", k_t0 + 3h, AttemptResult::interrupted);
    record_attempt(*store, make_attempt(1, "mail", k_t0 + 3h));  // running: never counted

    auto counts = store->recovery_counts(k_t0);
    CHECK(counts.succeeded == 2);
    CHECK(counts.failed == 2);
    CHECK(counts.interrupted == 1);

    // By the time each started, at or after `since` (an attempt lasts minutes at most).
    counts = store->recovery_counts(k_t0 + 1h);
    CHECK(counts.succeeded == 1);
    CHECK(counts.failed == 2);
    CHECK(counts.interrupted == 1);
    counts = store->recovery_counts(k_t0 + 1h + 1ms);
    CHECK(counts.succeeded == 0);
    CHECK(counts.failed == 2);
    const auto by_target = store->recovery_counts_by_target(k_t0);
    CHECK(by_target.at("api").succeeded == 1);
    CHECK(by_target.at("api").failed == 1);
    CHECK(by_target.at("web").failed == 1);
    CHECK(by_target.at("web").interrupted == 1);
    CHECK(by_target.count("mail") == 0);
    counts = store->recovery_counts(k_t0 + 4h);
    CHECK(counts.succeeded == 0);
    CHECK(counts.failed == 0);
    CHECK(counts.interrupted == 0);
  }
}

TEST_CASE("Store::record_recovery: counters")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    CHECK(store->recovery_states().empty());

    RecoveryWrite w;
    w.attempt = make_attempt(1, "api", k_t0);
    w.attempt->result = AttemptResult::failed;
    w.attempt->completed_at = k_t0 + 1min;
    RecoveryState state;
    state.target_id = "api";
    state.failed_attempts = 1;
    state.last_attempt_at = k_t0;
    state.next_attempt_at = k_t0 + 5min;
    w.state = state;
    store->record_recovery(w);
    RecoveryState other;
    other.target_id = "db";
    other.failed_attempts = 4;
    other.suspended_at = k_t0;
    RecoveryWrite w2;
    w2.state = other;
    store->record_recovery(w2);

    auto states = backend.open(dir.path())->recovery_states();
    REQUIRE(states.size() == 2);
    const RecoveryState& api = states.at("api");
    CHECK(api.target_id == "api");
    CHECK(api.failed_attempts == 1);
    CHECK(api.last_attempt_at == k_t0);
    CHECK(api.next_attempt_at == k_t0 + 5min);
    CHECK_FALSE(api.suspended_at);
    CHECK_FALSE(api.reset_at);
    CHECK(api.escalation_id == 0);
    CHECK(states.at("db").failed_attempts == 4);
    CHECK(states.at("db").suspended_at == k_t0);

    SECTION("written again: replaced")
    {
      state.failed_attempts = 2;
      state.next_attempt_at = std::nullopt;
      state.suspended_at = k_t0 + 10min;
      RecoveryWrite again;
      again.state = state;
      store->record_recovery(again);
      states = store->recovery_states();
      REQUIRE(states.size() == 2);
      CHECK(states.at("api").failed_attempts == 2);
      CHECK_FALSE(states.at("api").next_attempt_at);
      CHECK(states.at("api").suspended_at == k_t0 + 10min);
    }

    SECTION("clear_state deletes the target's counters only")
    {
      RecoveryWrite clear;
      clear.state = RecoveryState{};
      clear.state->target_id = "api";
      clear.clear_state = true;
      store->record_recovery(clear);
      states = store->recovery_states();
      CHECK(states.count("api") == 0);
      CHECK(states.count("db") == 1);
    }

    SECTION("clear_state with an attempt and no state: the attempt's target")
    {
      RecoveryWrite clear;
      clear.attempt = make_attempt(1, "db", k_t0 + 1h);
      clear.attempt->result = AttemptResult::recovered;
      clear.attempt->completed_at = k_t0 + 1h + 1min;
      clear.clear_state = true;
      store->record_recovery(clear);
      states = store->recovery_states();
      CHECK(states.count("api") == 1);
      CHECK(states.count("db") == 0);
    }
  }
}

TEST_CASE("Store::record_recovery: escalations")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    CHECK(store->open_escalations().empty());

    RecoveryWrite w;
    w.open = make_escalation("api", {"api"}, k_t0);
    RecoveryState state;
    state.target_id = "api";
    state.failed_attempts = 3;
    state.suspended_at = k_t0;
    w.state = state;
    store->record_recovery(w);
    const std::int64_t api_id = w.open->id;
    CHECK(api_id > 0);
    CHECK(w.state->escalation_id == api_id);
    CHECK(store->recovery_states().at("api").escalation_id == api_id);

    RecoveryWrite shared;
    shared.open = make_escalation("", {"db", "web"}, k_t0 + 1min);
    store->record_recovery(shared);
    const std::int64_t shared_id = shared.open->id;
    CHECK(shared_id > api_id);
    RecoveryWrite web;
    web.open = make_escalation("web", {"web"}, k_t0 + 2min);
    store->record_recovery(web);
    const std::int64_t web_id = web.open->id;

    auto open = backend.open(dir.path())->open_escalations();
    CHECK(escalation_ids(open) == std::vector<std::int64_t>{api_id, shared_id, web_id});
    const Escalation& api = open[0];
    CHECK(api.target_id == "api");
    CHECK(api.targets == std::vector<std::string>{"api"});
    CHECK(api.opened_at == k_t0);
    CHECK_FALSE(api.resolved_at);
    CHECK(api.failed_attempts == 3);
    CHECK(api.summary == R"({"target":"api"})");
    CHECK(api.command_result.empty());
    CHECK(open[1].target_id.empty());
    CHECK(open[1].cause == "connect 127.0.0.1:9");
    CHECK(open[1].targets == std::vector<std::string>{"db", "web"});

    SECTION("resolving one leaves it out of the open ones, with its time")
    {
      RecoveryWrite resolve;
      resolve.resolve_escalation = api_id;
      resolve.resolved_at = k_t0 + 1h;
      state.escalation_id = 0;
      state.suspended_at = std::nullopt;
      resolve.state = state;
      store->record_recovery(resolve);
      CHECK(escalation_ids(store->open_escalations())
            == std::vector<std::int64_t>{shared_id, web_id});
      const auto recent = store->recent_escalations("api", 10);
      REQUIRE(recent.size() == 1);
      CHECK(recent[0].id == api_id);
      CHECK(recent[0].resolved_at == k_t0 + 1h);
      CHECK(store->recovery_states().at("api").escalation_id == 0);
    }

    SECTION("recent_escalations: newest first; a shared cause counts for each of its targets")
    {
      CHECK(escalation_ids(store->recent_escalations("", 10))
            == std::vector<std::int64_t>{web_id, shared_id, api_id});
      CHECK(escalation_ids(store->recent_escalations("", 2))
            == std::vector<std::int64_t>{web_id, shared_id});
      CHECK(escalation_ids(store->recent_escalations("web", 10))
            == std::vector<std::int64_t>{web_id, shared_id});
      CHECK(escalation_ids(store->recent_escalations("db", 10))
            == std::vector<std::int64_t>{shared_id});
      CHECK(escalation_ids(store->recent_escalations("api", 10))
            == std::vector<std::int64_t>{api_id});
      CHECK(store->recent_escalations("we", 10).empty());
      CHECK(store->recent_escalations("nobody", 10).empty());
    }

    SECTION("set_escalation_command_result")
    {
      store->set_escalation_command_result(shared_id, "exit 0: ticket OPS-12 opened");
      const auto recent = backend.open(dir.path())->recent_escalations("db", 10);
      REQUIRE(recent.size() == 1);
      CHECK(recent[0].command_result == "exit 0: ticket OPS-12 opened");
      CHECK(store->recent_escalations("api", 10)[0].command_result.empty());
    }

    SECTION("claim_escalation_command: one owner at a time, until a result or expiry")
    {
      CHECK(store->claim_escalation_command(api_id, "run-1", 1h));
      auto other = backend.open(dir.path());  // another process
      CHECK_FALSE(other->claim_escalation_command(api_id, "run-2", 1h));
      CHECK(other->claim_escalation_command(web_id, "run-2", 1h));  // claims are per escalation
      // Recorded: the claim is gone and nobody runs the command again.
      store->set_escalation_command_result(api_id, "exit 0: dispatched");
      CHECK_FALSE(other->claim_escalation_command(api_id, "run-2", 1h));
      // A claim that expired (its run was killed) is taken over.
      CHECK(store->claim_escalation_command(shared_id, "run-1", 0ms));
      CHECK(other->claim_escalation_command(shared_id, "run-2", 1h));
      // Resolved or unknown escalations are not claimed.
      RecoveryWrite resolve;
      resolve.resolve_escalation = web_id;
      resolve.resolved_at = k_t0 + 1h;
      store->record_recovery(resolve);
      store->release_claims("run-2");
      CHECK_FALSE(store->claim_escalation_command(web_id, "run-3", 1h));
      CHECK_FALSE(store->claim_escalation_command(9999, "run-3", 1h));
    }
  }
}

TEST_CASE("Store::record_recovery: events")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("api", "API")}, k_t0);
    NotifyPolicy policy;
    ChannelPolicy pager;
    pager.name = "pager";
    pager.type = ChannelType::pagerduty;
    policy.channels = {pager};
    NotifyRule rule;
    rule.channels = {"pager"};
    policy.rules.push_back(rule);
    policy.escalation_channels = {"pager"};
    store->sync_notify_policy(policy);
    Event failing = make_event("api", k_t0, EventType::failing, "connection refused");
    store->record_event(failing);

    RecoveryWrite w;
    w.open = make_escalation("api", {"api"}, k_t0 + 10min);
    w.events.push_back(make_event("api", k_t0 + 10min, EventType::escalated,
                                  "recovery gave up after 3 attempts", "failing"));
    store->record_recovery(w);
    const Event& escalated = w.events[0];
    CHECK(escalated.id > failing.id);

    const auto events = store->recent_events("api", 10);
    REQUIRE(events.size() == 2);
    CHECK(events[0].id == escalated.id);
    CHECK(events[0].type == EventType::escalated);
    CHECK(events[0].message == "recovery gave up after 3 attempts");

    // The escalation is an incident of its own (not the failure's), which its resolution ends:
    // both carry the escalated event's id, PagerDuty's dedup key.
    auto rows_of = [&](std::int64_t event_id) {
      std::vector<Notification> out;
      for (const auto& row : store->recent_notifications("api", 10)) {
        if (row.event.id == event_id) {
          out.push_back(row.notification);
        }
      }
      return out;
    };
    auto rows = rows_of(escalated.id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].channel == "pager");
    CHECK(rows[0].incident_id == escalated.id);
    RecoveryWrite resolve;
    resolve.resolve_escalation = w.open->id;
    resolve.resolved_at = k_t0 + 1h;
    resolve.events.push_back(
        make_event("api", k_t0 + 1h, EventType::escalation_resolved, "recovered", "escalated"));
    store->record_recovery(resolve);
    const Event& resolved = resolve.events[0];
    CHECK(resolved.id > escalated.id);
    CHECK(store->recent_events("api", 1)[0].type == EventType::escalation_resolved);
    rows = rows_of(resolved.id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].incident_id == escalated.id);
  }
}

TEST_CASE("Store::record_recovery: one open escalation per target and per shared cause")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    RecoveryWrite first;
    first.open = make_escalation("", {"db", "web", "cache"}, k_t0);
    first.events.push_back(make_event("", k_t0, EventType::escalated, "shared cause", "failing"));
    store->record_recovery(first);
    REQUIRE(first.open);
    const std::int64_t shared_id = first.open->id;

    SECTION("a shared cause opened again while it is open (another run): nothing new is written")
    {
      auto other = backend.open(dir.path());  // another run, which assessed before the first wrote
      RecoveryWrite again;
      again.open = make_escalation("", {"db", "web", "cache"}, k_t0 + 1s);
      again.events.push_back(
          make_event("", k_t0 + 1s, EventType::escalated, "shared cause", "failing"));
      other->record_recovery(again);
      CHECK_FALSE(again.open);
      CHECK(again.events.empty());
      CHECK(escalation_ids(store->open_escalations()) == std::vector<std::int64_t>{shared_id});
      CHECK(store->recent_events("", 10).size() == 1);
    }

    SECTION("another cause, or the same one after it was resolved, opens a new one")
    {
      RecoveryWrite other_cause;
      other_cause.open = make_escalation("", {"a", "b", "c"}, k_t0 + 1min);
      other_cause.open->cause = "dns example.invalid";
      store->record_recovery(other_cause);
      REQUIRE(other_cause.open);
      CHECK(other_cause.open->id != shared_id);

      RecoveryWrite resolve;
      resolve.resolve_escalation = shared_id;
      resolve.resolved_at = k_t0 + 1h;
      store->record_recovery(resolve);
      RecoveryWrite reopened;
      reopened.open = make_escalation("", {"db", "web", "cache"}, k_t0 + 2h);
      store->record_recovery(reopened);
      REQUIRE(reopened.open);
      CHECK(escalation_ids(store->open_escalations())
            == std::vector<std::int64_t>{other_cause.open->id, reopened.open->id});
    }

    SECTION("a target's: the counters keep the one already open")
    {
      RecoveryWrite one;
      one.open = make_escalation("api", {"api"}, k_t0 + 1min);
      one.state = RecoveryState{};
      one.state->target_id = "api";
      store->record_recovery(one);
      REQUIRE(one.open);
      RecoveryWrite two;
      two.open = make_escalation("api", {"api"}, k_t0 + 2min);
      two.state = RecoveryState{};
      two.state->target_id = "api";
      two.state->failed_attempts = 4;
      two.events.push_back(make_event("api", k_t0 + 2min, EventType::escalated, "again", "failing"));
      store->record_recovery(two);
      CHECK_FALSE(two.open);
      CHECK(two.events.empty());
      CHECK(store->recovery_states().at("api").escalation_id == one.open->id);
      CHECK(store->recovery_states().at("api").failed_attempts == 4);
      CHECK(store->recent_escalations("api", 10).size() == 1);
    }
  }
}

TEST_CASE("Store::record_recovery: a shared cause's resolution ends its own PagerDuty incident")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    NotifyPolicy policy;
    ChannelPolicy pager;
    pager.name = "pager";
    pager.type = ChannelType::pagerduty;
    policy.channels = {pager};
    policy.escalation_channels = {"pager"};
    store->sync_notify_policy(policy);

    // Two shared causes open at once: both escalations are of target "".
    auto open_cause = [&](const std::string& cause, TimePoint at) {
      RecoveryWrite w;
      w.open = make_escalation("", {"a", "b", "c"}, at);
      w.open->cause = cause;
      w.events.push_back(make_event("", at, EventType::escalated, cause, "failing"));
      store->record_recovery(w);
      REQUIRE(w.open);
      return std::pair{w.open->id, w.events.at(0).id};
    };
    const auto [older, older_event] = open_cause("connect 127.0.0.1:9", k_t0);
    const auto [newer, newer_event] = open_cause("dns example.invalid", k_t0 + 5min);
    REQUIRE(older_event != newer_event);

    auto incident_of = [&](std::int64_t escalation_id, TimePoint at) {
      RecoveryWrite resolve;
      resolve.resolve_escalation = escalation_id;
      resolve.resolved_at = at;
      resolve.events.push_back(
          make_event("", at, EventType::escalation_resolved, "healthy again", "escalated"));
      store->record_recovery(resolve);
      const std::int64_t event_id = resolve.events.at(0).id;
      for (const auto& row : store->recent_notifications("", 20)) {
        if (row.event.id == event_id) {
          return row.notification.incident_id;
        }
      }
      FAIL("no notification for the resolution");
      return std::int64_t{0};
    };
    // The older one resolved first: its own incident, not the newest escalation's.
    CHECK(incident_of(older, k_t0 + 1h) == older_event);
    CHECK(incident_of(newer, k_t0 + 2h) == newer_event);
  }
}

TEST_CASE("Store::sync_notify_policy keeps the escalation channels")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    NotifyPolicy policy;
    policy.escalation_channels = {"pager", "ops-mail"};
    store->sync_notify_policy(policy);
    const auto stored = backend.open(dir.path())->notify_policy();
    REQUIRE(stored);
    CHECK(stored->escalation_channels == std::vector<std::string>{"pager", "ops-mail"});
  }
}
