// SPDX-License-Identifier: MIT
// The store contract, part 3: scheduled tasks, beats and job runs. Through the Store interface
// only, once per backend (store_contract.hpp).
#include "store_contract.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

namespace {

ScheduleInfo make_schedule(const std::string& name, const std::string& cron = "0 3 * * *")
{
  ScheduleInfo s;
  s.name = name;
  s.cron = cron;
  s.timezone = "Europe/Paris";
  s.target_id = "acme";
  s.description = "backup " + name;
  return s;
}

TaskRun make_run(const std::string& schedule, TimePoint started, TaskRunStatus status)
{
  TaskRun r;
  r.schedule = schedule;
  r.fire_at = started - 1s;
  r.started_at = started;
  r.completed_at = started + 20s;
  r.status = status;
  r.exit_code = status == TaskRunStatus::succeeded ? 0 : 2;
  r.attempt = 1;
  r.message = std::string(to_string(status));
  r.output_tail = "tail\n";
  return r;
}

ScheduleState state_after(const TaskRun& run)
{
  ScheduleState s;
  s.name = run.schedule;
  s.covered_fire = run.fire_at;
  s.attempts = run.attempt;
  s.last_run_at = run.started_at;
  s.last_status = run.status;
  s.last_exit_code = run.exit_code;
  s.last_message = run.message;
  return s;
}

// A decider that records a healthy beat at `at`, with an event when the agent comes online.
BeatDecider beat_at(TimePoint at)
{
  return [at](const BeatContext& c) {
    BeatWrite w;
    w.state = c.state;
    w.state.state = AgentState::online;
    w.state.last_seen = at;
    w.state.last_status = BeatStatus::healthy;
    w.state.beats = c.state.beats + 1;
    Beat b;
    b.at = at;
    b.message = "ok";
    b.metrics = {Metric{"load", 0.5, "", "", "", std::nullopt, std::nullopt}};
    w.beat = b;
    if (c.state.state != BeatPhase(AgentState::online)) {
      w.events.push_back(make_event("", at, EventType::agent_online, "first beat", "unknown"));
    }
    return w;
  };
}

// A refresh decider that marks every agent offline, once.
std::optional<BeatWrite> mark_offline(const BeatContext& c)
{
  if (c.state.state == BeatPhase(AgentState::offline)) {
    return std::nullopt;
  }
  BeatWrite w;
  w.state = c.state;
  w.state.state = AgentState::offline;
  w.events.push_back(make_event(c.target.info.id, k_t0 + 5min, EventType::agent_offline, "silent"));
  return w;
}

} // namespace

TEST_CASE("Store::sync_schedules and Store::schedules")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_schedules({make_schedule("backup"), make_schedule("vacuum", "0 4 * * 0")}, k_t0);

    SECTION("inserts schedules, read back by name")
    {
      const auto records = store->schedules(IncludeRetired::no);
      REQUIRE(records.size() == 2);
      CHECK(records[0].info.name == "backup");
      CHECK(records[0].info.cron == "0 3 * * *");
      CHECK(records[0].info.timezone == "Europe/Paris");
      CHECK(records[0].info.target_id == "acme");
      CHECK(records[0].info.enabled);
      CHECK(records[0].info.description == "backup backup");
      CHECK(records[0].created_at == k_t0);
      CHECK_FALSE(records[0].retired_at);
      CHECK(records[1].info.name == "vacuum");
    }

    SECTION("retires a schedule that left the config, and revives it afresh")
    {
      store->sync_schedules({make_schedule("backup")}, k_t0 + 1h);
      const auto live = store->schedules(IncludeRetired::no);
      REQUIRE(live.size() == 1);
      CHECK(live[0].info.name == "backup");
      const auto all = store->schedules(IncludeRetired::yes);
      REQUIRE(all.size() == 2);
      CHECK(all[1].retired_at == std::optional<TimePoint>(k_t0 + 1h));

      store->sync_schedules({make_schedule("backup"), make_schedule("vacuum", "0 4 * * 0")},
                            k_t0 + 2h);
      const auto back = store->schedules(IncludeRetired::no);
      REQUIRE(back.size() == 2);
      CHECK_FALSE(back[1].retired_at);
      CHECK(back[1].created_at == k_t0 + 2h);  // fire times from before are not run
    }

    SECTION("a changed cron expression starts afresh; a changed description does not")
    {
      auto backup = make_schedule("backup");
      backup.description = "nightly backup";
      store->sync_schedules({backup, make_schedule("vacuum", "0 5 * * 0")}, k_t0 + 1h);
      const auto records = store->schedules(IncludeRetired::no);
      REQUIRE(records.size() == 2);
      CHECK(records[0].info.description == "nightly backup");
      CHECK(records[0].created_at == k_t0);
      CHECK(records[1].info.cron == "0 5 * * 0");
      CHECK(records[1].created_at == k_t0 + 1h);
    }
  }
}

TEST_CASE("Store::claim_tasks, Store::record_task_run and Store::schedule_states")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_schedules({make_schedule("backup"), make_schedule("vacuum")}, k_t0);
    const std::vector<std::string> all{"backup", "vacuum"};

    SECTION("no state before the first run")
    {
      CHECK(store->schedule_states().empty());
    }

    SECTION("a task claimed by a live run elsewhere is held; ttl 0 frees it at once")
    {
      CHECK(store->claim_tasks(all, "one", 1h, task_always_due).claimed == all);
      const auto second = store->claim_tasks(all, "two", 1h, task_always_due);
      CHECK(second.claimed.empty());
      CHECK(second.held == all);
      store->claim_tasks({"vacuum"}, "one", 0ms, task_always_due);  // re-claimed, expiring now
      const auto third = store->claim_tasks(all, "two", 1h, task_always_due);
      CHECK(third.claimed == std::vector<std::string>{"vacuum"});
      CHECK(third.held == std::vector<std::string>{"backup"});
    }

    SECTION("task claims and target claims do not collide")
    {
      store->sync_targets({make_target("backup", "Backup")}, k_t0);
      store->claim_tasks({"backup"}, "one", 1h, task_always_due);
      CHECK(store->claim_targets({"backup"}, "two", 1h, always_due).claimed
            == std::vector<std::string>{"backup"});
    }

    SECTION("record_task_run assigns the id, writes the state and releases the claim")
    {
      store->claim_tasks(all, "one", 1h, task_always_due);
      auto run = make_run("backup", k_t0, TaskRunStatus::failed);
      run.pulse_id = 7;
      auto state = state_after(run);
      state.pending_fire = run.fire_at;
      state.retry_at = k_t0 + 5min;
      store->record_task_run(run, state, "one");
      CHECK(run.id > 0);

      const auto states = store->schedule_states();
      REQUIRE(states.count("backup"));
      const auto& s = states.at("backup");
      CHECK(s.name == "backup");
      CHECK(s.covered_fire == std::optional<TimePoint>(run.fire_at));
      CHECK(s.pending_fire == std::optional<TimePoint>(run.fire_at));
      CHECK(s.attempts == 1);
      CHECK(s.retry_at == std::optional<TimePoint>(k_t0 + 5min));
      CHECK(s.last_run_at == std::optional<TimePoint>(k_t0));
      CHECK(s.last_status == std::optional<TaskRunStatus>(TaskRunStatus::failed));
      CHECK(s.last_exit_code == std::optional<int>(2));
      CHECK(s.last_message == "failed");
      CHECK_FALSE(states.count("vacuum"));

      // "backup" is free again; "vacuum" is still held by "one".
      const auto next = store->claim_tasks(all, "two", 1h, task_always_due);
      CHECK(next.claimed == std::vector<std::string>{"backup"});
      CHECK(next.held == std::vector<std::string>{"vacuum"});
    }

    SECTION("the predicate sees the stored state inside the claim")
    {
      auto run = make_run("backup", k_t0, TaskRunStatus::succeeded);
      store->record_task_run(run, state_after(run), "");
      std::map<std::string, ScheduleState> seen;
      const auto claim =
        store->claim_tasks(all, "one", 1h, [&](const std::string& name, const ScheduleState& s) {
          seen[name] = s;
          return !s.last_status;  // only what never ran
        });
      CHECK(claim.claimed == std::vector<std::string>{"vacuum"});
      CHECK(seen.at("backup").last_status == std::optional<TaskRunStatus>(TaskRunStatus::succeeded));
      CHECK(seen.at("vacuum").name == "vacuum");
      CHECK_FALSE(seen.at("vacuum").last_run_at);
    }
  }
}

TEST_CASE("Store::recent_task_runs")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_schedules({make_schedule("backup"), make_schedule("vacuum")}, k_t0);
    for (int i = 0; i < 3; ++i) {
      auto run = make_run("backup", k_t0 + std::chrono::hours(i),
                          i == 1 ? TaskRunStatus::failed : TaskRunStatus::succeeded);
      run.attempt = i + 1;
      store->record_task_run(run, state_after(run), "");
    }
    auto other = make_run("vacuum", k_t0, TaskRunStatus::timed_out);
    other.exit_code.reset();
    store->record_task_run(other, state_after(other), "");

    const auto runs = store->recent_task_runs("backup", 2);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].started_at == k_t0 + 2h);
    CHECK(runs[0].attempt == 3);
    CHECK(runs[1].started_at == k_t0 + 1h);
    CHECK(runs[1].status == TaskRunStatus::failed);
    CHECK(runs[1].exit_code == std::optional<int>(2));
    CHECK(runs[1].fire_at == k_t0 + 1h - 1s);
    CHECK(runs[1].completed_at == k_t0 + 1h + 20s);
    CHECK(runs[1].output_tail == "tail\n");
    CHECK(runs[1].schedule == "backup");
    const auto vacuum = store->recent_task_runs("vacuum", 10);
    REQUIRE(vacuum.size() == 1);
    CHECK(vacuum[0].id == other.id);
    CHECK_FALSE(vacuum[0].exit_code);
    CHECK_FALSE(vacuum[0].pulse_id);
    CHECK(store->recent_task_runs("nothing", 10).empty());
  }
}

TEST_CASE("Store::record_beat, Store::beat_contexts and Store::recent_beats")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_agent("worker"), make_target("api", "API")}, k_t0 - 1h);

    SECTION("beat_contexts has every live target that pushes beats")
    {
      const auto contexts = store->beat_contexts();
      REQUIRE(contexts.size() == 1);
      const auto& c = contexts.at("worker");
      CHECK(c.target.info.id == "worker");
      CHECK(c.state.target_id == "worker");
      CHECK(c.state.state == BeatPhase(AgentState::unknown));
      CHECK(c.state.beats == 0);
      CHECK_FALSE(c.last_run);
    }

    SECTION("records the beat, the state and the events the decider returns")
    {
      std::optional<BeatContext> seen;
      const auto w = store->record_beat("worker", std::nullopt, k_t0, [&](const BeatContext& c) {
        seen = c;
        return beat_at(k_t0)(c);
      });
      REQUIRE(seen);
      CHECK(seen->target.info.heartbeat);
      REQUIRE(w);
      REQUIRE(w->beat);
      CHECK(w->beat->id > 0);
      CHECK(w->beat->target_id == "worker");
      REQUIRE(w->events.size() == 1);
      CHECK(w->events[0].id > 0);
      CHECK(w->events[0].target_id == "worker");

      const auto c = store->beat_contexts().at("worker");
      CHECK(c.state.state == BeatPhase(AgentState::online));
      CHECK(c.state.last_seen == std::optional<TimePoint>(k_t0));
      CHECK(c.state.last_status == std::optional<BeatStatus>(BeatStatus::healthy));
      CHECK(c.state.beats == 1);
      const auto events = store->recent_events("worker", 10);
      REQUIRE(events.size() == 1);
      CHECK(events[0].type == EventType::agent_online);
      // A first state (from "unknown") is no change of state: flapping does not count it.
      CHECK(store->count_events(k_t0, {EventType::agent_online}).empty());

      // The second beat sees the first's state, so no second "online".
      store->record_beat("worker", std::nullopt, k_t0 + 30s, beat_at(k_t0 + 30s));
      CHECK(store->recent_events("worker", 10).size() == 1);
      CHECK(store->beat_contexts().at("worker").state.beats == 2);
    }

    SECTION("recent_beats is newest first and limited, with metrics")
    {
      for (int i = 0; i < 3; ++i) {
        const auto at = k_t0 + std::chrono::seconds(30 * i);
        store->record_beat("worker", std::nullopt, at, beat_at(at));
      }
      const auto beats = store->recent_beats("worker", 2);
      REQUIRE(beats.size() == 2);
      CHECK(beats[0].at == k_t0 + 60s);
      CHECK(beats[1].at == k_t0 + 30s);
      CHECK(beats[0].target_id == "worker");
      CHECK(beats[0].status == BeatStatus::healthy);
      CHECK(beats[0].message == "ok");
      REQUIRE(beats[0].metrics.size() == 1);
      CHECK(beats[0].metrics[0].name == "load");
      CHECK(beats[0].metrics[0].value == 0.5);
      CHECK(store->recent_beats("api", 10).empty());
    }

    SECTION("an unknown target without `create` writes nothing and returns std::nullopt")
    {
      bool called = false;
      const auto w = store->record_beat("ghost", std::nullopt, k_t0, [&](const BeatContext& c) {
        called = true;
        return beat_at(k_t0)(c);
      });
      CHECK_FALSE(w);
      CHECK_FALSE(called);
      CHECK(store->recent_beats("ghost", 10).empty());
      CHECK(ids(store->targets(IncludeRetired::yes)) == std::vector<std::string>{"api", "worker"});
    }

    SECTION("an unknown target with `create` is created (origin beat, first_seen now)")
    {
      const auto w = store->record_beat("ghost", make_agent("ghost"), k_t0, beat_at(k_t0));
      REQUIRE(w);
      const auto records = store->targets(IncludeRetired::no);
      const auto* ghost = find(records, "ghost");
      REQUIRE(ghost);
      CHECK(ghost->origin == Origin::beat);
      CHECK(ghost->first_seen == k_t0);
      CHECK(ghost->info.heartbeat);
      CHECK(store->recent_beats("ghost", 10).size() == 1);
      CHECK(store->beat_contexts().count("ghost"));
    }

    SECTION("a live target without heartbeat settings reaches the decider, which may refuse")
    {
      bool called = false;
      store->record_beat("api", std::nullopt, k_t0, [&](const BeatContext& c) {
        called = true;
        CHECK_FALSE(c.target.info.heartbeat);
        return BeatWrite{c.state, {}, {}, {}};
      });
      CHECK(called);
    }
  }
}

TEST_CASE("Store job runs: record_beat with a run, Store::recent_job_runs")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    auto job = make_agent("nightly");
    job.kind = TargetKind::job;
    store->sync_targets({job}, k_t0 - 1h);
    auto start = [&](TimePoint at) {
      return store->record_beat("nightly", std::nullopt, at, [&](const BeatContext& c) {
        BeatWrite w;
        w.state = c.state;
        w.state.beats = c.state.beats + 1;
        JobRun run;
        run.started_at = at;
        run.command = "backup --full";
        run.host = "db1";
        run.pid = 4242;
        w.run = run;
        return w;
      });
    };

    const auto started = start(k_t0);
    REQUIRE(started);
    REQUIRE(started->run);
    const std::int64_t run_id = started->run->id;
    CHECK(run_id > 0);
    CHECK(started->state.last_run_id == std::optional<std::int64_t>(run_id));
    const auto context = store->beat_contexts().at("nightly");
    REQUIRE(context.last_run);
    CHECK(context.last_run->id == run_id);
    CHECK(context.last_run->status == JobRunStatus::running);

    // Finishing updates the same run.
    store->record_beat("nightly", std::nullopt, k_t0 + 5min, [&](const BeatContext& c) {
      BeatWrite w;
      w.state = c.state;
      w.state.state = JobState::failed;
      JobRun run = *c.last_run;
      run.completed_at = k_t0 + 5min;
      run.status = JobRunStatus::failed;
      run.exit_code = 3;
      run.message = "exit code 3";
      run.output_tail = "oops\n";
      w.run = run;
      w.events.push_back(make_event("nightly", k_t0 + 5min, EventType::job_failed, "exit code 3"));
      return w;
    });
    start(k_t0 + 1h);

    const auto runs = store->recent_job_runs("nightly", 10);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].started_at == k_t0 + 1h);
    CHECK(runs[0].status == JobRunStatus::running);
    CHECK_FALSE(runs[0].completed_at);
    CHECK(runs[1].id == run_id);
    CHECK(runs[1].target_id == "nightly");
    CHECK(runs[1].status == JobRunStatus::failed);
    CHECK(runs[1].completed_at == std::optional<TimePoint>(k_t0 + 5min));
    CHECK(runs[1].exit_code == std::optional<int>(3));
    CHECK(runs[1].message == "exit code 3");
    CHECK(runs[1].output_tail == "oops\n");
    CHECK(runs[1].command == "backup --full");
    CHECK(runs[1].host == "db1");
    CHECK(runs[1].pid == 4242);
    CHECK(store->recent_job_runs("nightly", 1).size() == 1);
    CHECK(store->beat_contexts().at("nightly").state.state == BeatPhase(JobState::failed));
    CHECK(store->recent_events("nightly", 10).at(0).type == EventType::job_failed);
  }
}

TEST_CASE("Store::refresh_beat_states")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_agent("a"), make_agent("b"), make_agent("c")}, k_t0 - 1h);
    store->record_beat("c", std::nullopt, k_t0, [](const BeatContext& c) {
      BeatWrite w;
      w.state = c.state;
      w.state.state = AgentState::offline;
      return w;
    });

    SECTION("writes what the decider asks for, and nothing when nothing changes")
    {
      const auto writes = store->refresh_beat_states(mark_offline);
      REQUIRE(writes.size() == 2);
      CHECK(writes[0].state.target_id == "a");
      CHECK(writes[1].state.target_id == "b");
      REQUIRE(writes[0].events.size() == 1);
      CHECK(writes[0].events[0].id > 0);
      const auto contexts = store->beat_contexts();
      CHECK(contexts.at("a").state.state == BeatPhase(AgentState::offline));
      CHECK(contexts.at("b").state.state == BeatPhase(AgentState::offline));
      CHECK(store->count_events(k_t0, {EventType::agent_offline})
            == std::map<std::string, int>{{"a", 1}, {"b", 1}});
      CHECK(store->refresh_beat_states(mark_offline).empty());
      CHECK(store->recent_events("", 10).size() == 2);
    }

    SECTION("writes per target: each change is committed before the next target is decided")
    {
      // Another connection (another process) looks at "a" whenever "b" is decided. With one
      // transaction over all targets it would still see "a" as it was when "b" is last decided.
      auto other = backend.open(dir.path());
      std::vector<BeatPhase> a_when_b_decided;
      const auto writes = store->refresh_beat_states([&](const BeatContext& c) {
        if (c.target.info.id == "b") {
          a_when_b_decided.push_back(other->beat_contexts().at("a").state.state);
        }
        return mark_offline(c);
      });
      CHECK(writes.size() == 2);
      REQUIRE_FALSE(a_when_b_decided.empty());
      CHECK(a_when_b_decided.back() == BeatPhase(AgentState::offline));
    }

    SECTION("decides on the stored state, not on a stale read")
    {
      // A beat lands for "a" between the first look and the write: the decider is asked again
      // on what is stored, so the beat is not overwritten.
      bool landed = false;
      const auto writes = store->refresh_beat_states([&](const BeatContext& c) {
        if (c.target.info.id == "a" && !landed) {
          landed = true;
          auto other = backend.open(dir.path());
          other->record_beat("a", std::nullopt, k_t0, [](const BeatContext& ctx) {
            BeatWrite w;
            w.state = ctx.state;
            w.state.state = AgentState::offline;
            w.state.last_message = "from the beat";
            return w;
          });
        }
        return mark_offline(c);
      });
      REQUIRE(writes.size() == 1);
      CHECK(writes[0].state.target_id == "b");
      CHECK(store->beat_contexts().at("a").state.last_message == "from the beat");
    }
  }
}
