// SPDX-License-Identifier: MIT
#include "agents/wrap.hpp"

#include "core/errors.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include <stdexcept>

namespace {

using hb::BeatStatus;
using hb::TimePoint;
using hb::agents::Create;
using hb::util::ProcessOutcome;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;

const TimePoint k_t0 = *hb::util::parse_rfc3339("2026-03-02T12:00:00Z");

hb::TargetInfo target(const std::string& id, hb::TargetKind kind)
{
  hb::config::Target t;
  t.id = id;
  t.kind = kind;
  t.heartbeat = hb::config::Heartbeat{};
  t.heartbeat->every = 30s;
  t.heartbeat->grace = 3s;
  hb::TargetInfo info;
  info.id = id;
  info.name = id;
  info.kind = kind;
  info.heartbeat = hb::agents::heartbeat_info(t);
  return info;
}

// A recorder on a SQLite file in `dir` that knows `job` and `agent`; `synced` counts config syncs.
struct Fixture {
  hb::test::TempDir dir;
  std::string db = (dir / "heartbeat.db").string();
  hb::util::ManualClock clock{k_t0};
  int synced = 0;

  Fixture()
  {
    hb::store::open_store(db, hb::store::OpenMode::read_write)
      ->sync_targets({target("nightly", hb::TargetKind::job),
                      target("worker", hb::TargetKind::agent)},
                     k_t0 - 1h);
  }

  hb::agents::Recorder recorder()
  {
    hb::agents::Recorder r;
    r.open_store = [this] { return hb::store::open_store(db, hb::store::OpenMode::read_write); };
    r.sync_target = [this](hb::store::Store& store, const std::string& id, TimePoint now) {
      if (id != "from-config") {
        return false;
      }
      ++synced;
      store.sync_targets({target("nightly", hb::TargetKind::job),
                          target("worker", hb::TargetKind::agent),
                          target("from-config", hb::TargetKind::agent)},
                         now);
      return true;
    };
    return r;
  }

  long long count(const char* sql) const
  {
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getInt64();
  }
  std::string text(const char* sql) const
  {
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getString();
  }
};

hb::agents::JobRequest job(std::vector<std::string> command, const std::string& id = "nightly")
{
  hb::agents::JobRequest request;
  request.target = id;
  request.command = std::move(command);
  return request;
}

} // namespace

TEST_CASE("check_target_id")
{
  CHECK_NOTHROW(hb::agents::check_target_id("worker-3.eu_1"));
  CHECK_THROWS_MATCHES(hb::agents::check_target_id("Not An Id"), hb::UsageError,
                       Message("invalid target id \"Not An Id\" (lowercase letters, digits, '_', "
                               "'.' or '-', at most 100 characters)"));
}

TEST_CASE("parse_job_timeout")
{
  CHECK(hb::agents::parse_job_timeout("") == hb::Duration(0));
  CHECK(hb::agents::parse_job_timeout("2h") == 2h);
  CHECK_THROWS_MATCHES(hb::agents::parse_job_timeout("soon"), hb::UsageError,
                       Message("--timeout: expected a duration like \"2h\", got \"soon\""));
  CHECK_THROWS_AS(hb::agents::parse_job_timeout("0s"), hb::UsageError);
}

TEST_CASE("beat_input")
{
  SECTION("metrics are parsed, the message capped")
  {
    const auto beat = hb::agents::beat_input(BeatStatus::degraded, std::string(5000, 'x'),
                                             {"cpu=45%", "queue=12"});
    CHECK(beat.status == BeatStatus::degraded);
    CHECK(beat.message.size() <= 1024);
    REQUIRE(beat.metrics.size() == 2);
    CHECK(beat.metrics[0].name == "cpu");
    CHECK(beat.metrics[1].value == 12);
  }
  SECTION("a malformed metric names the flag")
  {
    CHECK_THROWS_WITH(hb::agents::beat_input(BeatStatus::healthy, "", {"cpu=lots"}),
                      Contains("--metric: metric \"cpu\": expected a number"));
  }
  SECTION("a metric given twice is refused")
  {
    CHECK_THROWS_MATCHES(hb::agents::beat_input(BeatStatus::healthy, "", {"cpu=1", "cpu=2"}),
                         hb::UsageError, Message("--metric: \"cpu\" is given twice"));
  }
  SECTION("at most 32 metrics")
  {
    std::vector<std::string> many;
    for (int i = 0; i < 33; ++i) {
      many.push_back("m" + std::to_string(i) + "=1");
    }
    CHECK_THROWS_MATCHES(hb::agents::beat_input(BeatStatus::healthy, "", many), hb::UsageError,
                         Message("--metric: at most 32 metrics per beat, got 33"));
  }
}

TEST_CASE("stored_command_line")
{
  CHECK(hb::agents::stored_command_line({"pg_dump", "--password=hunter2", "app"})
        == "pg_dump --password=*** app");
  CHECK(hb::agents::stored_command_line({"x", std::string(5000, 'a')}).size() <= 1024);
}

TEST_CASE("run_end")
{
  SECTION("success keeps the tail of the output")
  {
    const auto end = hb::agents::run_end({ProcessOutcome::Kind::succeeded, 0, "exited 0 after 2s"},
                                         "a\nb\n");
    CHECK(end.status == hb::JobRunStatus::succeeded);
    CHECK(end.exit_code == 0);
    CHECK(end.message == "exited 0 after 2s");
    CHECK(end.output_tail == "a\nb\n");
  }
  SECTION("a timeout is timed_out, a cancelled run failed")
  {
    CHECK(hb::agents::run_end({ProcessOutcome::Kind::timed_out, 124, "timed out after 1s"}, "")
            .status
          == hb::JobRunStatus::timed_out);
    const auto end = hb::agents::run_end({ProcessOutcome::Kind::cancelled, 143, "cancelled"}, "");
    CHECK(end.status == hb::JobRunStatus::failed);
    CHECK(end.exit_code == 143);
  }
  SECTION("the tail keeps the last 20 lines")
  {
    std::string output;
    for (int i = 0; i < 30; ++i) {
      output += "line " + std::to_string(i) + "\n";
    }
    const auto end = hb::agents::run_end({ProcessOutcome::Kind::failed, 1, "exited with code 1"},
                                         output);
    CHECK(end.output_tail.rfind("line 10\n", 0) == 0);
  }
}

TEST_CASE("record_plain_beat")
{
  Fixture f;
  const auto recorder = f.recorder();

  SECTION("records the beat at the clock's now")
  {
    const auto beat = hb::agents::record_plain_beat(
      {"worker", BeatStatus::healthy, "fine", {"cpu=45%"}, Create::no}, recorder, f.clock);
    CHECK(beat.target == "worker");
    CHECK(beat.at == k_t0);
    CHECK(to_string(beat.write.state.state) == "online");
    CHECK(f.count("SELECT count(*) FROM beats WHERE target_id = 'worker'") == 1);
  }
  SECTION("a target new in the config is synced, then recorded")
  {
    hb::agents::record_plain_beat({"from-config", BeatStatus::healthy, "", {}, Create::no},
                                  recorder, f.clock);
    CHECK(f.synced == 1);
    CHECK(f.count("SELECT count(*) FROM beats WHERE target_id = 'from-config'") == 1);
  }
  SECTION("an unknown target is refused, bad input before the store is opened")
  {
    CHECK_THROWS_AS(hb::agents::record_plain_beat(
                      {"ghost", BeatStatus::healthy, "", {}, Create::no}, recorder, f.clock),
                    hb::agents::UnknownTarget);
    auto never = recorder;
    never.open_store = []() -> std::unique_ptr<hb::store::Store> {
      throw std::runtime_error("opened");
    };
    CHECK_THROWS_AS(hb::agents::record_plain_beat(
                      {"worker", BeatStatus::healthy, "", {"x"}, Create::no}, never, f.clock),
                    hb::UsageError);
  }
}

TEST_CASE("run_wrapped")
{
  Fixture f;
  const auto recorder = f.recorder();

  SECTION("records the start and the end; the exit code is the job's")
  {
    const auto run = hb::agents::run_wrapped(
      job({"/bin/sh", "-c", "echo oops >&2; exit 3"}), recorder, f.clock);
    CHECK(run.exit_code == 3);
    CHECK(run.recorded);
    CHECK(run.outcome.kind == ProcessOutcome::Kind::failed);
    CHECK(f.text("SELECT status FROM job_runs") == "failed");
    CHECK(f.count("SELECT exit_code FROM job_runs") == 3);
    CHECK(f.text("SELECT message FROM job_runs") == "exited with code 3: oops");
    CHECK(f.text("SELECT command FROM job_runs") == "/bin/sh -c 'echo oops >&2; exit 3'");
    REQUIRE(run.events.size() == 1);
    CHECK(run.events[0].new_state == "failed");
  }
  SECTION("a job that cannot be recorded runs all the same")
  {
    auto broken = recorder;
    broken.open_store = []() -> std::unique_ptr<hb::store::Store> {
      throw hb::StoreError("cannot open the database");
    };
    const auto run = hb::agents::run_wrapped(job({"/bin/sh", "-c", "exit 5"}), broken, f.clock);
    CHECK(run.exit_code == 5);
    CHECK_FALSE(run.recorded);
    CHECK(f.count("SELECT count(*) FROM job_runs") == 0);
  }
  SECTION("an unknown target: the job runs unrecorded")
  {
    const auto run = hb::agents::run_wrapped(job({"/bin/true"}, "ghost"), recorder, f.clock);
    CHECK(run.exit_code == 0);
    CHECK_FALSE(run.recorded);
  }
  SECTION("not found is 127, a timeout 124 and timed_out")
  {
    CHECK(hb::agents::run_wrapped(job({"/nonexistent/backup"}), recorder, f.clock).exit_code
          == 127);
    auto slow = job({"/bin/sleep", "5"});
    slow.timeout = 200ms;
    const auto run = hb::agents::run_wrapped(slow, recorder, f.clock);
    CHECK(run.exit_code == 124);
    CHECK(f.text("SELECT status FROM job_runs ORDER BY id DESC LIMIT 1") == "timed_out");
    CHECK(f.text("SELECT message FROM job_runs ORDER BY id DESC LIMIT 1")
          == "timed out after 200ms");
  }
  SECTION("no command is a usage error")
  {
    CHECK_THROWS_MATCHES(hb::agents::run_wrapped(job({}), recorder, f.clock), hb::UsageError,
                         Message("no command after \"--\""));
  }
}

TEST_CASE("run_unrecorded")
{
  CHECK(hb::agents::run_unrecorded(job({"/bin/sh", "-c", "exit 4"})).exit_code == 4);
  CHECK(hb::agents::run_unrecorded(job({"/bin/sh", "-c", "kill -KILL $$"})).exit_code == 137);
}
