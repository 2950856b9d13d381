// SPDX-License-Identifier: MIT
#include "agents/beats.hpp"

#include "core/errors.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <thread>

namespace {

using hb::BeatStatus;
using hb::TimePoint;
using hb::agents::BeatInput;
using hb::agents::Create;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;

TimePoint at(const char* text) { return *hb::util::parse_rfc3339(text); }

const TimePoint k_t0 = at("2026-03-02T12:00:00Z");

std::string db_path(const hb::test::TempDir& dir) { return (dir / "heartbeat.db").string(); }

std::unique_ptr<hb::store::Store> open_store(const hb::test::TempDir& dir)
{
  return hb::store::open_store(db_path(dir), hb::store::OpenMode::read_write);
}

hb::TargetInfo agent(const std::string& id)
{
  hb::config::Target t;
  t.id = id;
  t.name = id;
  t.kind = hb::TargetKind::agent;
  t.heartbeat = hb::config::Heartbeat{};
  t.heartbeat->every = 30s;
  t.heartbeat->grace = 3s;
  hb::TargetInfo info;
  info.id = id;
  info.name = id;
  info.kind = hb::TargetKind::agent;
  info.heartbeat = hb::agents::heartbeat_info(t);
  return info;
}

hb::TargetInfo service(const std::string& id)
{
  hb::TargetInfo info;
  info.id = id;
  info.name = id;
  info.kind = hb::TargetKind::service;
  info.interval = 5min;
  return info;
}

BeatInput beat(BeatStatus status = BeatStatus::healthy)
{
  BeatInput b;
  b.status = status;
  return b;
}

constexpr int k_all = 100'000;

// The number of events of `type` (of every target when `target` is empty), read through the
// store.
long long count_events(hb::store::Store& store, hb::EventType type, const std::string& target = "")
{
  long long n = 0;
  for (const auto& e : store.recent_events(target, k_all)) {
    n += e.type == type ? 1 : 0;
  }
  return n;
}

// The beats of `target`, read through the store.
long long count_beats(hb::store::Store& store, const std::string& target)
{
  return static_cast<long long>(store.recent_beats(target, k_all).size());
}

} // namespace

TEST_CASE("record_beat")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({agent("worker"), service("api")}, k_t0 - 1h);

  SECTION("records the beat, the state and the first transition in one go")
  {
    const auto w = hb::agents::record_beat(*store, "worker", beat(), Create::no, k_t0);
    CHECK(to_string(w.state.state) == "online");
    REQUIRE(w.beat);
    CHECK(w.beat->id > 0);
    REQUIRE(w.events.size() == 1);
    CHECK(w.events[0].id > 0);
    CHECK(count_beats(*store, "worker") == 1);
    CHECK(count_events(*store, hb::EventType::agent_online) == 1);
    const auto contexts = store->beat_contexts();
    REQUIRE(contexts.count("worker"));
    CHECK(to_string(contexts.at("worker").state.state) == "online");
    CHECK(contexts.at("worker").state.last_seen == k_t0);
    CHECK(!contexts.count("api"));
  }

  SECTION("an unknown target is refused unless --create")
  {
    CHECK_THROWS_MATCHES(
      hb::agents::record_beat(*store, "ghost", beat(), Create::no, k_t0), hb::agents::UnknownTarget,
      Message("unknown target \"ghost\": it is not in the database (targets in the config are "
              "synced by hb-pulse; pass --create to create it from this beat)"));
    CHECK(count_beats(*store, "ghost") == 0);
    CHECK(count_beats(*store, "worker") == 0);
    const auto w = hb::agents::record_beat(*store, "ghost", beat(), Create::yes, k_t0);
    CHECK(to_string(w.state.state) == "online");
    const auto records = store->targets(hb::store::IncludeRetired::no);
    const auto it = std::find_if(records.begin(), records.end(),
                                 [](const auto& r) { return r.info.id == "ghost"; });
    REQUIRE(it != records.end());
    CHECK(it->origin == hb::Origin::beat);
    CHECK(it->info.kind == hb::TargetKind::agent);
    REQUIRE(it->info.heartbeat);
    CHECK(it->info.heartbeat->every == 30s);
  }

  SECTION("a config sync does not retire targets hb-beat created")
  {
    hb::agents::record_beat(*store, "ghost", beat(), Create::yes, k_t0);
    store->sync_targets({agent("worker")}, k_t0 + 1min);
    const auto records = store->targets(hb::store::IncludeRetired::no);
    std::vector<std::string> ids;
    for (const auto& r : records) {
      ids.push_back(r.info.id);
    }
    CHECK(ids == std::vector<std::string>{"ghost", "worker"});
  }

  SECTION("a target resumed after a pause, or re-added after retirement, starts afresh")
  {
    hb::agents::record_beat(*store, "worker", beat(), Create::no, k_t0);
    auto paused = agent("worker");
    paused.paused = true;
    store->sync_targets({paused, service("api")}, k_t0 + 1min);
    CHECK(to_string(store->beat_contexts().at("worker").state.state) == "online");
    store->sync_targets({agent("worker"), service("api")}, k_t0 + 1h);
    // No missed beats dated inside the pause: the state restarts.
    CHECK(to_string(store->beat_contexts().at("worker").state.state) == "unknown");
    CHECK(hb::agents::refresh_all(*store, k_t0 + 1h + 10s).empty());

    hb::agents::record_beat(*store, "worker", beat(), Create::no, k_t0 + 2h);
    store->sync_targets({service("api")}, k_t0 + 3h);  // retired
    store->sync_targets({agent("worker"), service("api")}, k_t0 + 30h);  // back
    CHECK(to_string(store->beat_contexts().at("worker").state.state) == "unknown");
    CHECK(count_beats(*store, "worker") == 2);  // history kept
  }

  SECTION("a target without heartbeat settings takes no beats")
  {
    CHECK_THROWS_MATCHES(
      hb::agents::record_beat(*store, "api", beat(), Create::no, k_t0), hb::DataError,
      Message("target \"api\" is a service without a \"heartbeat\" block, so it takes no beats "
              "(give it one, or make it kind \"agent\" or \"job\")"));
  }

  SECTION("a job run on an agent is refused")
  {
    CHECK_THROWS_MATCHES(hb::agents::start_run(*store, "worker", "true", Create::no, k_t0),
                         hb::DataError,
                         Message("target \"worker\" is an agent, not a job: only job targets (kind "
                                 "\"job\") wrap commands; report from worker with a plain "
                                 "\"hb-beat worker\""));
  }

  SECTION("a wrapped run: start, then finish, with the state and the run row")
  {
    auto run = hb::agents::start_run(*store, "nightly", "backup --full", Create::yes, k_t0).run;
    REQUIRE(run);
    CHECK(run->id > 0);
    const auto running = store->recent_job_runs("nightly", 10);
    REQUIRE(running.size() == 1);
    CHECK(running[0].status == hb::JobRunStatus::running);
    const auto w =
      hb::agents::finish_run(*store, *run, {hb::JobRunStatus::failed, 3, "exit code 3", "oops\n"}, k_t0 + 5min);
    CHECK(to_string(w.state.state) == "failed");
    const auto runs = store->recent_job_runs("nightly", 10);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == hb::JobRunStatus::failed);
    CHECK(runs[0].exit_code == std::optional<int>(3));
    CHECK(runs[0].output_tail == "oops\n");
    CHECK(runs[0].command == "backup --full");
    CHECK(runs[0].completed_at == k_t0 + 5min);
  }
}

TEST_CASE("refresh_all")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  store->sync_targets({agent("a"), agent("b")}, k_t0 - 1h);
  hb::agents::record_beat(*store, "a", beat(), Create::no, k_t0);
  hb::agents::record_beat(*store, "b", beat(), Create::no, k_t0 + 5min);

  SECTION("records each transition once, dated when it happened")
  {
    auto writes = hb::agents::refresh_all(*store, k_t0 + 5min + 10s);
    REQUIRE(writes.size() == 1);
    CHECK(writes[0].state.target_id == "a");
    CHECK(to_string(writes[0].state.state) == "offline");
    REQUIRE(writes[0].events.size() == 2);
    CHECK(writes[0].events[1].at == k_t0 + 93s);
    CHECK(hb::agents::refresh_all(*store, k_t0 + 5min + 20s).empty());
    CHECK(count_events(*store, hb::EventType::agent_offline, "a") == 1);
  }

  SECTION("views derive the same state without writing")
  {
    const auto v = hb::agents::views(*store, k_t0 + 5min + 10s);
    CHECK(v.at("a").state == "offline");
    CHECK(v.at("b").state == "online");
    CHECK(count_events(*store, hb::EventType::agent_offline) == 0);
  }
}

TEST_CASE("record_beat: concurrent writers lose nothing")
{
  hb::test::TempDir dir;
  {
    auto store = open_store(dir);
    store->sync_targets({agent("a"), agent("b")}, k_t0 - 1h);
  }
  constexpr int k_threads = 8;
  constexpr int k_beats = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto store = open_store(dir);  // one connection each, as separate processes would have
        for (int i = 0; i < k_beats; ++i) {
          hb::agents::record_beat(*store, t % 2 == 0 ? "a" : "b", beat(), Create::no,
                                  k_t0 + std::chrono::milliseconds(i));
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(failures == 0);
  auto store = open_store(dir);
  CHECK(count_beats(*store, "a") + count_beats(*store, "b") == k_threads * k_beats);
  const auto contexts = store->beat_contexts();
  CHECK(contexts.at("a").state.beats + contexts.at("b").state.beats == k_threads * k_beats);
  // Each agent came online exactly once.
  CHECK(count_events(*store, hb::EventType::agent_online) == 2);
}

TEST_CASE("parse_metric_arg")
{
  std::string error;
  SECTION("name=value with an optional unit")
  {
    auto m = hb::agents::parse_metric_arg("cpu=45%", error);
    REQUIRE(m);
    CHECK(m->name == "cpu");
    CHECK(m->value == 45);
    CHECK(m->unit == "%");
    m = hb::agents::parse_metric_arg("queue.depth=1200", error);
    REQUIRE(m);
    CHECK(m->value == 1200);
    CHECK(m->unit.empty());
    m = hb::agents::parse_metric_arg("latency=-0.25s", error);
    REQUIRE(m);
    CHECK(m->value == -0.25);
    CHECK(m->unit == "s");
  }

  SECTION("rejects malformed names and values with a message that says which")
  {
    CHECK(!hb::agents::parse_metric_arg("cpu", error));
    CHECK(error == "expected name=value, got \"cpu\"");
    CHECK(!hb::agents::parse_metric_arg("9lives=1", error));
    CHECK_THAT(error, Contains("invalid metric name \"9lives\""));
    CHECK(!hb::agents::parse_metric_arg("=1", error));
    CHECK(!hb::agents::parse_metric_arg(std::string(65, 'a') + "=1", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=lots", error));
    CHECK(error == "metric \"cpu\": expected a number with an optional unit (%, s, ms, us, B, KB, "
                   "MB, GB, TB, c) like \"45%\", got \"lots\"");
    CHECK(!hb::agents::parse_metric_arg("cpu=nan", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=inf", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=1e999", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=0x10", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=45 %", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=45furlongs", error));
    CHECK(!hb::agents::parse_metric_arg("cpu=", error));
  }
}

TEST_CASE("cap_message")
{
  CHECK(hb::agents::cap_message("fine") == "fine");
  CHECK(hb::agents::cap_message("two\nlines") == "two lines");
  const std::string capped = hb::agents::cap_message(std::string(5000, 'x'));
  CHECK(capped.size() <= 1024);
  CHECK(hb::agents::cap_message("bad \xff byte") == "bad \xEF\xBF\xBD byte");
}

TEST_CASE("views: flapping does not count an agent's first state")
{
  hb::test::TempDir dir;
  auto store = open_store(dir);
  auto worker = agent("worker");
  worker.heartbeat->flapping_transitions = 2;
  store->sync_targets({worker}, k_t0 - 1h);
  // unknown → online (the first beat), then online → degraded: one change of state, not two.
  hb::agents::record_beat(*store, "worker", beat(), Create::no, k_t0);
  hb::agents::record_beat(*store, "worker", beat(BeatStatus::degraded), Create::no, k_t0 + 30s);
  auto has_flapping = [&](TimePoint now) {
    const auto v = hb::agents::views(*store, now).at("worker");
    for (const auto& issue : v.issues) {
      if (issue.type == "flapping") {
        return true;
      }
    }
    return false;
  };
  CHECK_FALSE(has_flapping(k_t0 + 31s));
  // A second real change makes two: flapping.
  hb::agents::record_beat(*store, "worker", beat(BeatStatus::failing), Create::no, k_t0 + 60s);
  CHECK(has_flapping(k_t0 + 61s));
}
