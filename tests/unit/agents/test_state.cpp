// SPDX-License-Identifier: MIT
#include "agents/state.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

namespace {

using hb::AgentState;
using hb::BeatStatus;
using hb::TimePoint;
using hb::agents::BeatInput;
using hb::BeatContext;
using hb::BeatWrite;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *hb::util::parse_rfc3339(text); }

const TimePoint k_t0 = at("2026-03-02T12:00:00Z");

BeatContext agent_context()
{
  BeatContext c;
  c.target.info.id = "worker";
  c.target.info.kind = hb::TargetKind::agent;
  c.target.first_seen = k_t0 - 1h;
  hb::HeartbeatInfo hb;
  hb.every = 30s;
  hb.grace = 3s;
  c.target.info.heartbeat = hb;
  c.state.target_id = "worker";
  return c;
}

// `c` after `write` (what the store would read back next time).
BeatContext after(BeatContext c, const BeatWrite& write)
{
  c.state = write.state;
  if (write.run) {
    c.last_run = write.run;
    if (write.run->id == 0) {
      c.last_run->id = 1;
    }
  }
  return c;
}

BeatInput beat(BeatStatus status = BeatStatus::healthy, std::string message = "")
{
  BeatInput b;
  b.status = status;
  b.message = std::move(message);
  return b;
}

BeatContext online_since(TimePoint last_seen)
{
  BeatContext c = agent_context();
  c.state.state = hb::AgentState::online;
  c.state.since = last_seen - 10min;
  c.state.last_seen = last_seen;
  c.state.last_status = BeatStatus::healthy;
  c.state.consecutive_healthy = 20;
  return c;
}

BeatContext job_context()
{
  BeatContext c;
  c.target.info.id = "backup";
  c.target.info.kind = hb::TargetKind::job;
  c.target.first_seen = at("2026-03-01T00:00:00Z");
  hb::HeartbeatInfo hb;
  hb.grace = 30min;
  c.target.info.heartbeat = hb;
  c.state.target_id = "backup";
  return c;
}

} // namespace

TEST_CASE("evaluate_agent")
{
  SECTION("no beat missed until every + grace has passed")
  {
    const auto c = online_since(k_t0);
    auto e = hb::agents::evaluate_agent(c, k_t0 + 32s);
    CHECK(e.state == AgentState::online);
    CHECK(e.missed == 0);
    CHECK(e.transitions.empty());
    e = hb::agents::evaluate_agent(c, k_t0 + 33s);
    CHECK(e.missed == 1);
  }

  SECTION("one missed beat degrades, dated when the beat was missed")
  {
    const auto e = hb::agents::evaluate_agent(online_since(k_t0), k_t0 + 50s);
    CHECK(e.state == AgentState::degraded);
    CHECK(e.missed == 1);
    REQUIRE(e.transitions.size() == 1);
    CHECK(to_string(e.transitions[0].from) == "online");
    CHECK(to_string(e.transitions[0].to) == "degraded");
    CHECK(e.transitions[0].at == k_t0 + 33s);
    CHECK(e.transitions[0].message == "missed 1 beat (every 30s), last beat 33s ago");
  }

  SECTION("three missed beats take it offline, through degraded, each dated")
  {
    const auto e = hb::agents::evaluate_agent(online_since(k_t0), k_t0 + 10min);
    CHECK(e.state == AgentState::offline);
    CHECK(e.missed == 19);
    REQUIRE(e.transitions.size() == 2);
    CHECK(to_string(e.transitions[0].to) == "degraded");
    CHECK(e.transitions[0].at == k_t0 + 33s);
    CHECK(to_string(e.transitions[1].from) == "degraded");
    CHECK(to_string(e.transitions[1].to) == "offline");
    CHECK(e.transitions[1].at == k_t0 + 93s);
    CHECK(e.since == k_t0 + 93s);
  }

  SECTION("an agent already degraded goes offline only at offline_after")
  {
    auto c = online_since(k_t0);
    c.state.state = hb::AgentState::degraded;
    c.state.since = k_t0 + 33s;
    CHECK(hb::agents::evaluate_agent(c, k_t0 + 92s).transitions.empty());
    const auto e = hb::agents::evaluate_agent(c, k_t0 + 93s);
    REQUIRE(e.transitions.size() == 1);
    CHECK(to_string(e.transitions[0].to) == "offline");
  }

  SECTION("thresholds are configurable")
  {
    auto c = online_since(k_t0);
    c.target.info.heartbeat->degraded_after = 2;
    c.target.info.heartbeat->offline_after = 5;
    c.target.info.heartbeat->every = 1min;
    c.target.info.heartbeat->grace = 0s;
    CHECK(hb::agents::evaluate_agent(c, k_t0 + 119s).transitions.empty());
    auto e = hb::agents::evaluate_agent(c, k_t0 + 2min);
    CHECK(e.state == AgentState::degraded);
    e = hb::agents::evaluate_agent(c, k_t0 + 5min);
    CHECK(e.state == AgentState::offline);
    CHECK(e.transitions.back().at == k_t0 + 5min);
  }

  SECTION("degraded_after equal to offline_after goes straight to offline")
  {
    auto c = online_since(k_t0);
    c.target.info.heartbeat->degraded_after = 3;
    const auto e = hb::agents::evaluate_agent(c, k_t0 + 5min);
    REQUIRE(e.transitions.size() == 1);
    CHECK(to_string(e.transitions[0].from) == "online");
    CHECK(to_string(e.transitions[0].to) == "offline");
  }

  SECTION("an offline agent stays offline; nothing new is recorded")
  {
    auto c = online_since(k_t0);
    c.state.state = hb::AgentState::offline;
    c.state.since = k_t0 + 93s;
    const auto e = hb::agents::evaluate_agent(c, k_t0 + 1h);
    CHECK(e.state == AgentState::offline);
    CHECK(e.transitions.empty());
  }

  SECTION("a paused agent or one never seen misses nothing")
  {
    auto c = online_since(k_t0);
    c.target.info.paused = true;
    CHECK(hb::agents::evaluate_agent(c, k_t0 + 1h).transitions.empty());
    auto never = agent_context();
    const auto e = hb::agents::evaluate_agent(never, k_t0 + 1h);
    CHECK(e.state == AgentState::unknown);
    CHECK(e.transitions.empty());
  }

  SECTION("outside active hours no beat is expected; the timer restarts when they begin")
  {
    auto c = online_since(at("2026-03-02T20:59:50Z"));
    c.target.info.heartbeat->active_hours = "09:00-21:00";
    c.target.info.heartbeat->timezone = "UTC";
    // Overnight: silent, nothing missed.
    auto e = hb::agents::evaluate_agent(c, at("2026-03-03T03:00:00Z"));
    CHECK(e.missed == 0);
    CHECK(e.transitions.empty());
    // 09:00:20: within the first beat interval of the window.
    e = hb::agents::evaluate_agent(c, at("2026-03-03T09:00:20Z"));
    CHECK(e.transitions.empty());
    e = hb::agents::evaluate_agent(c, at("2026-03-03T09:02:00Z"));
    CHECK(e.state == AgentState::offline);
    CHECK(e.transitions[0].at == at("2026-03-03T09:00:33Z"));
  }

  SECTION("active hours are read in the target's timezone")
  {
    auto c = online_since(at("2026-03-02T12:00:00Z"));
    c.target.info.heartbeat->active_hours = "09:00-17:00";
    c.target.info.heartbeat->timezone = "America/New_York";  // UTC-5 in March before the 8th
    // 21:30 UTC is 16:30 in New York: inside, and long silent.
    CHECK(hb::agents::evaluate_agent(c, at("2026-03-02T21:30:00Z")).state == AgentState::offline);
    // 22:30 UTC is 17:30 there: outside.
    CHECK(hb::agents::evaluate_agent(c, at("2026-03-02T22:30:00Z")).transitions.empty());
  }
}

TEST_CASE("apply_agent_beat")
{
  SECTION("the first healthy beat brings an unknown agent online")
  {
    const auto w = hb::agents::apply_agent_beat(agent_context(), beat(), k_t0);
    CHECK(to_string(w.state.state) == "online");
    CHECK(w.state.since == k_t0);
    CHECK(w.state.last_seen == k_t0);
    CHECK(w.state.beats == 1);
    REQUIRE(w.events.size() == 1);
    CHECK(to_string(w.events[0].type) == "agent_online");
    CHECK(w.events[0].old_state == "unknown");
    CHECK(w.events[0].new_state == "online");
    REQUIRE(w.beat);
    CHECK(w.beat->at == k_t0);
  }

  SECTION("a healthy beat on time changes nothing")
  {
    const auto w = hb::agents::apply_agent_beat(online_since(k_t0), beat(), k_t0 + 30s);
    CHECK(to_string(w.state.state) == "online");
    CHECK(w.events.empty());
    CHECK(w.state.consecutive_healthy == 21);
  }

  SECTION("a degraded beat degrades; a failing beat takes it offline")
  {
    auto w = hb::agents::apply_agent_beat(online_since(k_t0), beat(BeatStatus::degraded, "slow disk"),
                                          k_t0 + 30s);
    CHECK(to_string(w.state.state) == "degraded");
    REQUIRE(w.events.size() == 1);
    CHECK(to_string(w.events[0].type) == "agent_degraded");
    CHECK(w.events[0].message == "agent reports degraded: slow disk");
    CHECK(w.state.consecutive_healthy == 0);

    w = hb::agents::apply_agent_beat(online_since(k_t0), beat(BeatStatus::failing), k_t0 + 30s);
    CHECK(to_string(w.state.state) == "offline");
    CHECK(to_string(w.events.at(0).type) == "agent_offline");
  }

  SECTION("back online only after recover_after healthy beats in a row")
  {
    auto c = online_since(k_t0);
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::degraded), k_t0 + 30s));
    auto w = hb::agents::apply_agent_beat(c, beat(), k_t0 + 60s);
    CHECK(to_string(w.state.state) == "degraded");
    CHECK(w.events.empty());
    CHECK(w.state.consecutive_healthy == 1);
    c = after(c, w);
    w = hb::agents::apply_agent_beat(c, beat(), k_t0 + 90s);
    CHECK(to_string(w.state.state) == "online");
    REQUIRE(w.events.size() == 1);
    CHECK(to_string(w.events[0].type) == "agent_online");
    CHECK(w.events[0].old_state == "degraded");
    CHECK(w.events[0].message == "2 healthy beats in a row");
  }

  SECTION("a degraded beat in between restarts the count")
  {
    auto c = online_since(k_t0);
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::failing), k_t0 + 30s));
    c = after(c, hb::agents::apply_agent_beat(c, beat(), k_t0 + 60s));
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::degraded), k_t0 + 90s));
    CHECK(to_string(c.state.state) == "degraded");
    c = after(c, hb::agents::apply_agent_beat(c, beat(), k_t0 + 120s));
    CHECK(to_string(c.state.state) == "degraded");
    c = after(c, hb::agents::apply_agent_beat(c, beat(), k_t0 + 150s));
    CHECK(to_string(c.state.state) == "online");
  }

  SECTION("a beat after silence records the silence first, then counts towards recovery")
  {
    const auto w = hb::agents::apply_agent_beat(online_since(k_t0), beat(), k_t0 + 5min);
    REQUIRE(w.events.size() == 2);
    CHECK(w.events[0].new_state == "degraded");
    CHECK(w.events[0].at == k_t0 + 33s);
    CHECK(w.events[1].new_state == "offline");
    CHECK(w.events[1].at == k_t0 + 93s);
    CHECK(to_string(w.state.state) == "offline");
    CHECK(w.state.consecutive_healthy == 1);
    CHECK(w.state.last_seen == k_t0 + 5min);
  }

  SECTION("a missed beat restarts the count even when the state does not change")
  {
    auto c = online_since(k_t0);
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::failing), k_t0 + 30s));
    c = after(c, hb::agents::apply_agent_beat(c, beat(), k_t0 + 60s));
    CHECK(c.state.consecutive_healthy == 1);
    // Three hours of silence (offline all along), then one healthy beat: not enough.
    const auto w = hb::agents::apply_agent_beat(c, beat(), k_t0 + 3h);
    CHECK(to_string(w.state.state) == "offline");
    CHECK(w.state.consecutive_healthy == 1);
  }

  SECTION("recover_after 1 recovers on the first healthy beat")
  {
    auto c = online_since(k_t0);
    c.target.info.heartbeat->recover_after = 1;
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::failing), k_t0 + 30s));
    const auto w = hb::agents::apply_agent_beat(c, beat(), k_t0 + 60s);
    CHECK(to_string(w.state.state) == "online");
  }

  SECTION("events of a target in its new-target grace are marked")
  {
    auto c = agent_context();
    c.target.info.heartbeat->new_target_grace = 7 * 24h;
    const auto w = hb::agents::apply_agent_beat(c, beat(), k_t0);
    REQUIRE(w.events.size() == 1);
    CHECK(w.events[0].in_grace);
  }

  SECTION("the beat keeps its message and metrics")
  {
    BeatInput b = beat(BeatStatus::healthy, "all good");
    b.metrics.push_back({"cpu", 45, "%", "", "", std::nullopt, std::nullopt});
    const auto w = hb::agents::apply_agent_beat(online_since(k_t0), b, k_t0 + 30s);
    CHECK(w.state.last_message == "all good");
    REQUIRE(w.state.last_metrics.size() == 1);
    CHECK(w.state.last_metrics[0].value == 45);
    REQUIRE(w.beat);
    CHECK(w.beat->metrics.size() == 1);
  }
}

TEST_CASE("agents view")
{
  SECTION("a silent agent is stale after offline_after × every, extended_offline after 5m offline")
  {
    auto c = online_since(k_t0);
    auto v = hb::agents::view(c, 0, k_t0 + 89s);
    CHECK(v.issues.empty());
    CHECK(v.state == "degraded");
    CHECK(v.health == hb::Health::warning);
    v = hb::agents::view(c, 0, k_t0 + 95s);
    CHECK(v.state == "offline");
    CHECK(v.health == hb::Health::failing);
    REQUIRE(v.issues.size() == 1);
    CHECK(v.issues[0].type == "stale");
    v = hb::agents::view(c, 0, k_t0 + 93s + 5min);
    REQUIRE(v.issues.size() == 2);
    CHECK(v.issues[1].type == "extended_offline");
    CHECK(v.issues[1].severity == hb::Severity::alert);
  }

  SECTION("stale counts only active hours, like missed beats")
  {
    auto c = online_since(at("2026-03-02T16:59:50Z"));
    c.target.info.heartbeat->active_hours = "09:00-17:00";
    // The next morning, 20 s into the window: nothing is missed, nothing is stale.
    const auto v = hb::agents::view(c, 0, at("2026-03-03T09:00:20Z"));
    CHECK(v.state == "online");
    CHECK(v.issues.empty());
    CHECK(hb::agents::view(c, 0, at("2026-03-03T09:01:35Z")).issues.at(0).type == "stale");
  }

  SECTION("an agent that never beat is stale once it should have")
  {
    const auto c = agent_context();  // first seen an hour before k_t0
    const auto v = hb::agents::view(c, 0, k_t0);
    CHECK(v.state == "unknown");
    REQUIRE(v.issues.size() == 1);
    CHECK(v.issues[0].type == "stale");
    CHECK(v.issues[0].message == "no beat since it appeared 1h ago");
  }

  SECTION("degraded_performance when the agent says so; flapping past the threshold")
  {
    auto c = online_since(k_t0);
    c = after(c, hb::agents::apply_agent_beat(c, beat(BeatStatus::degraded, "gc pauses"), k_t0 + 30s));
    auto v = hb::agents::view(c, 4, k_t0 + 40s);
    REQUIRE(v.issues.size() == 1);
    CHECK(v.issues[0].type == "degraded_performance");
    CHECK(v.issues[0].severity == hb::Severity::warning);
    v = hb::agents::view(c, 5, k_t0 + 40s);
    REQUIRE(v.issues.size() == 2);
    CHECK(v.issues[1].type == "flapping");
    CHECK(v.issues[1].message == "5 state changes within 1h");
  }
}

TEST_CASE("evaluate_job")
{
  SECTION("a job without every or schedule is never late")
  {
    const auto e = hb::agents::evaluate_job(job_context(), at("2026-06-01T00:00:00Z"));
    CHECK(e.state == hb::JobState::unknown);
    CHECK(!e.next_expected);
    CHECK(e.transitions.empty());
  }

  SECTION("every: late when no run started within every + grace of the last")
  {
    auto c = job_context();
    c.target.info.heartbeat->every = 1h;
    c.target.info.heartbeat->grace = 10min;
    c.state.state = hb::JobState::ok;
    c.state.last_seen = at("2026-03-02T10:00:00Z");
    CHECK(hb::agents::evaluate_job(c, at("2026-03-02T11:09:59Z")).transitions.empty());
    const auto e = hb::agents::evaluate_job(c, at("2026-03-02T11:30:00Z"));
    CHECK(e.state == hb::JobState::late);
    CHECK(e.late);
    REQUIRE(e.transitions.size() == 1);
    CHECK(e.transitions[0].at == at("2026-03-02T11:10:00Z"));
    CHECK(to_string(e.transitions[0].from) == "ok");
  }

  SECTION("schedule: late when the expected run has not started within grace, in its timezone")
  {
    auto c = job_context();
    c.target.info.heartbeat->schedule = "0 3 * * *";
    c.target.info.heartbeat->timezone = "Europe/Berlin";  // UTC+1 in March
    c.state.state = hb::JobState::ok;
    c.state.last_seen = at("2026-03-01T02:00:05Z");  // 03:00:05 Berlin
    auto e = hb::agents::evaluate_job(c, at("2026-03-02T02:20:00Z"));
    CHECK(e.next_expected == at("2026-03-02T02:00:00Z"));
    CHECK(e.transitions.empty());
    e = hb::agents::evaluate_job(c, at("2026-03-02T02:30:00Z"));
    CHECK(e.state == hb::JobState::late);
    CHECK(e.transitions.at(0).at == at("2026-03-02T02:30:00Z"));
  }

  SECTION("a run that starts a little before its fire time counts for it")
  {
    auto c = job_context();
    c.target.info.heartbeat->schedule = "0 3 * * *";
    c.state.state = hb::JobState::ok;
    c.state.last_seen = at("2026-03-02T02:59:50Z");
    const auto e = hb::agents::evaluate_job(c, at("2026-03-02T05:00:00Z"));
    CHECK(e.next_expected == at("2026-03-03T03:00:00Z"));
    CHECK(e.state == hb::JobState::ok);
  }

  SECTION("a new job is late when its first expected run does not come")
  {
    auto c = job_context();  // first seen 2026-03-01T00:00Z
    c.target.info.heartbeat->schedule = "0 3 * * *";
    const auto e = hb::agents::evaluate_job(c, at("2026-03-01T04:00:00Z"));
    CHECK(e.state == hb::JobState::late);
    CHECK(e.transitions.at(0).message.find("it has never run") != std::string::npos);
  }

  SECTION("hung: a run still going after max_runtime")
  {
    auto c = job_context();
    c.target.info.heartbeat->max_runtime = 2h;
    c.state.state = hb::JobState::ok;
    c.state.last_seen = at("2026-03-02T03:00:00Z");
    hb::JobRun run;
    run.id = 7;
    run.started_at = at("2026-03-02T03:00:00Z");
    c.last_run = run;
    auto e = hb::agents::evaluate_job(c, at("2026-03-02T04:59:00Z"));
    CHECK(e.running);
    CHECK(e.state == hb::JobState::ok);
    CHECK(e.transitions.empty());
    e = hb::agents::evaluate_job(c, at("2026-03-02T05:30:00Z"));
    CHECK(e.hung);
    CHECK(e.state == hb::JobState::hung);
    CHECK(e.transitions.at(0).at == at("2026-03-02T05:00:00Z"));
  }

  SECTION("a paused job is never late or hung")
  {
    auto c = job_context();
    c.target.info.heartbeat->every = 1h;
    c.target.info.paused = true;
    CHECK(hb::agents::evaluate_job(c, at("2026-06-01T00:00:00Z")).transitions.empty());
  }
}

TEST_CASE("job runs")
{
  SECTION("start, then success: unknown -> ok")
  {
    auto c = job_context();
    const TimePoint start = at("2026-03-02T03:00:00Z");
    auto w = hb::agents::start_job_run(c, "backup --full", "host1", 42, start);
    REQUIRE(w.run);
    CHECK(to_string(w.run->status) == "running");
    CHECK(w.run->command == "backup --full");
    CHECK(w.state.last_seen == start);
    CHECK(w.events.empty());
    c = after(c, w);
    hb::agents::RunEnd end{hb::JobRunStatus::succeeded, 0, "", "done\n"};
    w = hb::agents::finish_job_run(c, 1, start, end, start + 90s);
    CHECK(to_string(w.state.state) == "ok");
    REQUIRE(w.events.size() == 1);
    CHECK(to_string(w.events[0].type) == "job_ok");
    CHECK(w.run->completed_at == start + 90s);
    CHECK(w.run->exit_code == 0);
  }

  SECTION("failure, then success: job_failed then job_recovered")
  {
    auto c = job_context();
    c.state.state = hb::JobState::ok;
    const TimePoint start = at("2026-03-02T03:00:00Z");
    auto w = hb::agents::finish_job_run(c, 1, start, {hb::JobRunStatus::failed, 2, "exit code 2", ""}, start + 5s);
    CHECK(to_string(w.state.state) == "failed");
    CHECK(to_string(w.events.at(0).type) == "job_failed");
    CHECK(w.events.at(0).message == "run failed: exit code 2");
    c = after(c, w);
    w = hb::agents::finish_job_run(c, 2, start + 1h, {hb::JobRunStatus::succeeded, 0, "", ""}, start + 1h + 5s);
    CHECK(to_string(w.state.state) == "ok");
    CHECK(to_string(w.events.at(0).type) == "job_recovered");
    CHECK(w.events.at(0).old_state == "failed");
  }

  SECTION("a failing job that fails again records no new event")
  {
    auto c = job_context();
    c.state.state = hb::JobState::failed;
    const auto w = hb::agents::finish_job_run(c, 1, k_t0, {hb::JobRunStatus::timed_out, 124, "timed out", ""}, k_t0 + 1h);
    CHECK(to_string(w.state.state) == "failed");
    CHECK(w.events.empty());
  }

  SECTION("overlapping runs: the job follows the run that started last")
  {
    auto c = job_context();
    c.state.state = hb::JobState::ok;
    c = after(c, hb::agents::start_job_run(c, "long", "h", 1, k_t0));       // run 1
    c.last_run->id = 1;
    c.state.last_run_id = 1;
    auto w = hb::agents::start_job_run(c, "short", "h", 2, k_t0 + 1min);   // run 2
    c = after(c, w);
    c.last_run->id = 2;
    c.state.last_run_id = 2;
    w = hb::agents::finish_job_run(c, 2, k_t0 + 1min, {hb::JobRunStatus::succeeded, 0, "", ""}, k_t0 + 2min);
    CHECK(to_string(w.state.state) == "ok");
    c = after(c, w);
    // The older run fails later: recorded, but the job stays as its newest run left it.
    w = hb::agents::finish_job_run(c, 1, k_t0, {hb::JobRunStatus::failed, 1, "exit code 1", ""}, k_t0 + 10min);
    REQUIRE(w.run);
    CHECK(to_string(w.run->status) == "failed");
    CHECK(to_string(w.state.state) == "ok");
    CHECK(w.events.empty());
  }

  SECTION("a plain beat on a job is a zero-length run")
  {
    auto w = hb::agents::apply_job_beat(job_context(), beat(BeatStatus::failing, "disk full"), k_t0);
    REQUIRE(w.run);
    CHECK(w.run->id == 0);
    CHECK(w.run->started_at == k_t0);
    CHECK(w.run->completed_at == k_t0);
    CHECK(to_string(w.run->status) == "failed");
    CHECK(to_string(w.state.state) == "failed");
    CHECK(w.state.last_seen == k_t0);
  }

  SECTION("a late job that runs successfully recovers")
  {
    auto c = job_context();
    c.target.info.heartbeat->every = 1h;
    c.state.state = hb::JobState::late;
    c.state.last_seen = k_t0 - 3h;
    auto w = hb::agents::start_job_run(c, "x", "h", 1, k_t0);
    c = after(c, w);
    // Running: not late any more, but not ok until it succeeds.
    auto e = hb::agents::evaluate_job(c, k_t0 + 1min);
    CHECK(e.running);
    CHECK(!e.late);
    CHECK(e.state == hb::JobState::late);
    CHECK(hb::agents::view(c, 0, k_t0 + 1min).state == "running");
    w = hb::agents::finish_job_run(c, 1, k_t0, {hb::JobRunStatus::succeeded, 0, "", ""}, k_t0 + 2min);
    CHECK(to_string(w.state.state) == "ok");
    CHECK(to_string(w.events.at(0).type) == "job_recovered");
  }
}

TEST_CASE("refresh")
{
  SECTION("records silence transitions and resets the healthy count")
  {
    const auto w = hb::agents::refresh(online_since(k_t0), k_t0 + 2min);
    REQUIRE(w);
    CHECK(to_string(w->state.state) == "offline");
    CHECK(w->state.consecutive_healthy == 0);
    CHECK(w->events.size() == 2);
    CHECK(!w->beat);
  }

  SECTION("nothing to write when the state is right")
  {
    CHECK(!hb::agents::refresh(online_since(k_t0), k_t0 + 10s));
  }
}

TEST_CASE("refresh: a last beat dated in the future is clock skew, re-anchored once")
{
  // The agent beat while the clock ran 30 days ahead; the clock is right again.
  const auto stored = online_since(k_t0 + 720h);
  CHECK(hb::agents::evaluate_agent(stored, k_t0).missed == 0);
  const auto w = hb::agents::refresh(stored, k_t0);
  REQUIRE(w);
  CHECK(w->state.last_seen == std::optional<TimePoint>(k_t0));
  CHECK(w->state.since == std::optional<TimePoint>(k_t0));
  REQUIRE(w->events.size() == 1);
  CHECK(w->events[0].type == hb::EventType::clock_skew);
  CHECK(w->events[0].message
        == "worker: last beat dated 30d ahead of this clock (clock skew?); silence counts from now");
  CHECK(w->events[0].at == k_t0);

  // From there missed beats count as usual (every 30s, grace 3s, offline after 3 by default)...
  const auto c = after(stored, *w);
  CHECK(!hb::agents::refresh(c, k_t0 + 10s));
  const auto later = hb::agents::refresh(c, k_t0 + 2min);
  REQUIRE(later);
  CHECK(to_string(later->state.state) == "offline");
  // ...while the view shows the stored time, which hb-status marks as ahead of the clock.
  CHECK(hb::agents::view(stored, 0, k_t0).last_seen == stored.state.last_seen);
}

TEST_CASE("without_future")
{
  auto c = online_since(k_t0);
  std::optional<TimePoint> skewed;
  CHECK(hb::agents::without_future(c, k_t0 + 1s, &skewed).state.last_seen == c.state.last_seen);
  CHECK_FALSE(skewed);
  // Up to a minute ahead is another host's clock, not skew.
  hb::agents::without_future(c, k_t0 - 59s, &skewed);
  CHECK_FALSE(skewed);
  const auto fixed = hb::agents::without_future(c, k_t0 - 1h, &skewed);
  CHECK(skewed == std::optional<TimePoint>(k_t0));
  CHECK(fixed.state.last_seen == std::optional<TimePoint>(k_t0 - 1h));
  CHECK(fixed.state.since == std::optional<TimePoint>(k_t0 - 1h));
}
