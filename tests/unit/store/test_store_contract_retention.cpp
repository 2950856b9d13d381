// SPDX-License-Identifier: MIT
// The store contract for retention: Store::prune deletes raw history past its window and never
// what is still needed (events, undelivered and failed notifications, what each channel was
// last told, a job's last run); the roll-ups keep the figures whole.
#include "store_contract.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

namespace {

NotifyPolicy hook_and_board()
{
  NotifyPolicy policy;
  ChannelPolicy hook;
  hook.name = "hook";
  hook.type = ChannelType::webhook;
  ChannelPolicy board;
  board.name = "board";
  board.type = ChannelType::dashboard;  // its rows are sent when written
  policy.channels = {hook, board};
  NotifyRule rule;
  rule.channels = {"hook", "board"};
  policy.rules.push_back(rule);
  return policy;
}

// Finishes the claimed row of `target` on the hook channel as `state`.
void finish_hook(Store& store, const std::string& target, TimePoint at, OutboxState state)
{
  for (auto& item : store.claim_notifications("me", at, 10min, 100)) {
    Notification row = item.notification;
    if (item.event.target_id != target) {
      continue;
    }
    row.attempts = 1;
    row.state = state;
    row.next_attempt_at.reset();
    if (state == OutboxState::sent) {
      row.sent_at = at;
    } else {
      row.last_error = "HTTP 404: no such hook";
    }
    std::vector<Notification> none;
    store.finish_notification(row, none);
  }
  store.release_notifications("me");
}

std::vector<std::pair<std::string, OutboxState>> rows_of(Store& store, const std::string& target)
{
  std::vector<std::pair<std::string, OutboxState>> out;
  for (const auto& item : store.recent_notifications(target, 100)) {
    out.emplace_back(item.notification.channel, item.notification.state);
  }
  std::sort(out.begin(), out.end());
  return out;
}

BeatDecider job_run(TimePoint at, bool finish)
{
  return [at, finish](const BeatContext& c) {
    BeatWrite w;
    w.state = c.state;
    w.state.beats = c.state.beats + 1;
    JobRun run;
    if (finish) {
      run = *c.last_run;
      run.completed_at = at;
      run.status = JobRunStatus::succeeded;
      run.exit_code = 0;
      w.state.state = JobState::ok;
    } else {
      run.started_at = at;
      run.command = "backup";
    }
    w.run = run;
    return w;
  };
}

} // namespace

TEST_CASE("Store::prune deletes raw history past its window and keeps what is still needed")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    auto job = make_agent("nightly");
    job.kind = TargetKind::job;
    const TimePoint now = k_t0;
    const TimePoint old = now - 20 * 24h;
    store->sync_targets({make_target("api", "API"), make_target("db", "DB"), make_agent("worker"), job},
                        old - 1h);
    store->sync_notify_policy(hook_and_board());

    // api: failing 20 days ago (hook sent later), recovered an hour after (hook failed for
    // good); a healthy run an hour ago.
    std::vector<ExecutionWrite> writes;
    auto failing = make_write("api", old, ExecStatus::alert);
    failing.events.push_back(make_event("api", old, EventType::failing, "connection refused"));
    writes.push_back(failing);
    for (int i = 1; i < 12; ++i) {
      writes.push_back(make_write("api", old + i * 5min, ExecStatus::alert));
    }
    auto recovered = make_write("api", old + 1h, ExecStatus::all_clear);
    recovered.events.push_back(make_event("api", old + 1h, EventType::recovered, "200 OK", "failing"));
    writes.push_back(recovered);
    store->record_executions(writes);
    finish_hook(*store, "api", old + 1s, OutboxState::sent);
    finish_hook(*store, "api", old + 1h + 1s, OutboxState::failed);
    // db: failing 20 days ago, its hook row never delivered (an endpoint down for weeks).
    std::vector<ExecutionWrite> db_writes{make_write("db", old, ExecStatus::alert)};
    db_writes[0].events.push_back(make_event("db", old, EventType::failing, "connection refused"));
    store->record_executions(db_writes);
    std::vector<ExecutionWrite> recent{make_write("api", now - 1h, ExecStatus::all_clear)};
    store->record_executions(recent);
    // worker: beats 20 days ago and a minute ago; nightly: two runs 20 days ago, the second its last.
    for (int i = 0; i < 10; ++i) {
      store->record_beat("worker", std::nullopt, old + i * 30s, [&](const BeatContext& c) {
        BeatWrite w;
        w.state = c.state;
        w.state.beats = c.state.beats + 1;
        Beat b;
        b.at = old + i * 30s;
        w.beat = b;
        return w;
      });
    }
    store->record_beat("nightly", std::nullopt, old, job_run(old, false));
    store->record_beat("nightly", std::nullopt, old + 10min, job_run(old + 10min, true));
    store->record_beat("nightly", std::nullopt, old + 1h, job_run(old + 1h, false));
    store->record_beat("nightly", std::nullopt, old + 1h + 10min, job_run(old + 1h + 10min, true));

    const auto tallies_before = store->tallies(now - 30 * 24h, now);
    const auto incidents_before = store->incidents(now - 30 * 24h, now);
    REQUIRE(tallies_before.at("api").runs == 14);
    REQUIRE(tallies_before.at("api").down == 12);
    REQUIRE(incidents_before.size() == 2);
    REQUIRE(rows_of(*store, "api").size() == 4);
    CHECK_FALSE(store->last_prune());

    Retention retention;  // raw 14d, beats 2d
    const auto report = store->prune(retention, now, 60s);
    CHECK(report.complete);
    CHECK(report.executions == 13);  // api's old ones; db's only one is its last
    CHECK(report.beats == 10);
    CHECK(report.job_runs == 1);
    CHECK(report.batches >= 1);
    REQUIRE(store->last_prune());
    CHECK(*store->last_prune() == now);

    SECTION("raw rows past the window are gone; the recent execution stays")
    {
      const auto executions = store->recent_executions("api", 100, WithResults::yes);
      REQUIRE(executions.size() == 1);
      CHECK(executions[0].started_at == now - 1h);
      CHECK(store->recent_beats("worker", 100).empty());
    }
    SECTION("a target's last execution stays, whatever its age: its state and the next run need it")
    {
      CHECK(store->recent_executions("db", 100, WithResults::yes).size() == 1);
    }
    SECTION("a job's last run stays, the run before it goes")
    {
      const auto runs = store->recent_job_runs("nightly", 10);
      REQUIRE(runs.size() == 1);
      CHECK(runs[0].started_at == old + 1h);
      CHECK(store->beat_contexts().at("nightly").last_run->id == runs[0].id);
    }
    SECTION("notifications: undelivered and failed stay, and what each channel was last told")
    {
      // api: hook sent (old) goes; hook failed stays; board's first (sent) goes, its newest stays.
      CHECK(rows_of(*store, "api")
            == std::vector<std::pair<std::string, OutboxState>>{{"board", OutboxState::sent},
                                                                 {"hook", OutboxState::failed}});
      // db: the pending hook row stays, and board's only row (its newest).
      CHECK(rows_of(*store, "db")
            == std::vector<std::pair<std::string, OutboxState>>{{"board", OutboxState::sent},
                                                                 {"hook", OutboxState::pending}});
      CHECK(store->channel_health(now - 30 * 24h).at(1).failed_total == 1);
    }
    SECTION("the figures read the roll-ups and the events: the same after the prune")
    {
      const auto tallies_after = store->tallies(now - 30 * 24h, now);
      CHECK(tallies_after.at("api").runs == tallies_before.at("api").runs);
      CHECK(tallies_after.at("api").down == tallies_before.at("api").down);
      CHECK(tallies_after.at("worker").runs == 10);
      CHECK(store->incidents(now - 30 * 24h, now).size() == incidents_before.size());
      CHECK(store->recent_events("api", 10).size() == 2);
    }
    SECTION("a second prune finds nothing more to delete")
    {
      CHECK(store->prune(retention, now + 1min, 60s).total() == 0);
    }
  }
}

TEST_CASE("Store::prune stops at its time budget and the next prune resumes")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    const TimePoint now = k_t0;
    const TimePoint old = now - 20 * 24h;
    store->sync_targets({make_target("api", "API")}, old - 1h);
    std::vector<ExecutionWrite> writes;
    for (int i = 0; i < 3000; ++i) {
      writes.push_back(make_write("api", old + i * 1s, ExecStatus::all_clear));
    }
    store->record_executions(writes);
    Retention retention;
    // No time at all: at most one batch, and the prune says it is not complete.
    const auto first = store->prune(retention, now, 0ms);
    CHECK_FALSE(first.complete);
    CHECK(first.batches <= 1);
    CHECK_FALSE(store->last_prune());
    const auto second = store->prune(retention, now, 60s);
    CHECK(second.complete);
    CHECK(first.executions + second.executions == 2999);  // the last execution stays
    CHECK(store->last_prune());
  }
}
