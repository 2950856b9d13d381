// SPDX-License-Identifier: MIT
// Crash consistency (SPEC §5, §7): hb-pulse and hb-beat killed with SIGKILL at random instants
// leave a database that passes integrity_check, in which every execution is whole (with all its
// check results, its target's state and events) or absent, nothing a tool reported as done is
// lost, and the next run succeeds. The instants come from a fixed seed (HB_TEST_SEED replays
// another one); every failure names the seed, the trial and the delay.
#include "e2e_helpers.hpp"
#include "reliability_helpers.hpp"

#include "util/time.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <random>
#include <thread>
#include <utility>
#include <vector>

using namespace hb::test;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// Sanitizer builds are several times slower per run: fewer trials keep each case in its budget.
constexpr int k_pulse_trials_per_case = k_sanitized ? 30 : 60;
constexpr int k_beat_trials = k_sanitized ? 40 : 80;
constexpr int k_create_trials = k_sanitized ? 10 : 20;

// A plugin like check_dummy: prints its second argument, exits with its first.
std::string dummy_plugin(const Workspace& ws)
{
  if (has_plugin("check_dummy")) {
    return plugin("check_dummy");
  }
  const auto path = ws.dir.write("dummy.sh", "#!/bin/sh\necho \"$2\"\nexit \"$1\"\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path.string();
}

json http(const std::string& name, const std::string& url, json extra = json::object())
{
  json check{{"name", name}, {"type", "http"}, {"url", url}};
  check.update(extra);
  return check;
}

json command(const std::string& name, const std::string& program, const std::string& code,
             const std::string& text)
{
  return {{"name", name}, {"type", "command"}, {"command", {program, code, text}}};
}

// Twenty targets whose results never change (so their events are predictable): http checks on
// the test server, some slow so that the pulse spans a couple of batch writes, and command checks
// of every exit code. Returns the config text and sets `checks` to the number of checks.
std::string crash_pulse_config(const TestHttpServer& server, const std::string& dummy, int& checks)
{
  json targets = json::array();
  auto add = [&](const std::string& id, json target_checks) {
    checks += static_cast<int>(target_checks.size());
    targets.push_back({{"id", id}, {"checks", std::move(target_checks)}});
  };
  for (int i = 0; i < 8; ++i) {
    add(fmt::format("ok-{}", i), {http("home", server.url("/ok"))});
  }
  for (int i = 0; i < 4; ++i) {
    add(fmt::format("slow-{}", i), {http("slow", server.url("/slow/100"))});
  }
  add("alert-0", {http("home", server.url("/status/500"))});
  add("two-checks", {http("home", server.url("/ok")),
                     http("body", server.url("/body/fine"), {{"body_contains", "fine"}})});
  add("plugin-ok", {command("dummy", dummy, "0", "OK: fine|x=1")});
  add("plugin-warning", {command("dummy", dummy, "1", "WARNING: meh")});
  add("plugin-critical", {command("dummy", dummy, "2", "CRITICAL: bad")});
  add("plugin-unknown", {command("dummy", dummy, "3", "UNKNOWN: what")});
  add("mixed", {http("home", server.url("/ok")), command("dummy", dummy, "0", "OK")});
  add("mixed-bad", {http("home", server.url("/status/503")), command("dummy", dummy, "1", "W")});
  // Few checks at once, so that the pulse lasts long enough to be killed in every phase:
  // claiming, running, between batch writes, writing, finishing.
  return json{{"pulse", {{"deadline", "30s"}, {"concurrency", 2}}}, {"targets", targets}}.dump(2);
}

// How a run that was to be killed ended.
struct KilledRun {
  int exit_code = -1; // 128 + 9 when the kill landed
  bool killed = false;
};

// Starts `tool` and kills its process group with SIGKILL after `delay`, unless it ended first.
KilledRun run_and_kill(const std::string& tool, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env, microseconds delay,
                       const Workspace& ws)
{
  const pid_t pid = spawn_in_group(tool, args, env, ws.dir / "killed.out", ws.dir / "killed.err");
  const auto kill_at = Clock::now() + delay;
  // Poll rather than sleep: a run that ends early is reaped at once, and a reaped pid is never
  // signalled (it could belong to someone else by then).
  while (Clock::now() < kill_at) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), false};
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(kill_at - Clock::now(), microseconds(500)));
  }
  ::kill(-pid, SIGKILL);
  const int code = reap(pid);
  return {code, code == 128 + SIGKILL};
}

// Wall time of one unkilled run of `tool`, which must succeed.
Clock::duration timed_run(const std::string& tool, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const Workspace& ws)
{
  const auto start = Clock::now();
  const pid_t pid = spawn_in_group(tool, args, env, ws.dir / "timed.out", ws.dir / "timed.err");
  const int code = reap(pid);
  const auto took = Clock::now() - start;
  INFO(tool << " stderr: " << read_file(ws.dir / "timed.err"));
  REQUIRE(code == 0);
  return took;
}

// The window kills are drawn from: a little longer than the median of `runs` unkilled runs, so
// that every phase of a run, its last commit included, can be hit (and some runs complete).
// Kills land uniformly in [0, 1.2 x the median of `times`], the durations of unkilled runs.
microseconds window_from(std::vector<Clock::duration> times)
{
  std::sort(times.begin(), times.end());
  return std::chrono::duration_cast<microseconds>(times[times.size() / 2] * 6 / 5);
}

template <typename Run> microseconds kill_window(int runs, Run&& run)
{
  std::vector<Clock::duration> times;
  for (int i = 0; i < runs; ++i) {
    times.push_back(run(i));
  }
  return window_from(std::move(times));
}

std::string problems_text(const std::vector<std::string>& problems)
{
  std::string out;
  for (const auto& p : problems) {
    out += "\n  " + p;
  }
  return out;
}

// `count` trials from `first`: each kills a pulse at a random instant, checks the database, then
// runs the next pulse, which must succeed and run every target.
void pulse_crash_trials(int first, int count)
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  int checks = 0;
  ws.write_config(crash_pulse_config(server, dummy_plugin(ws), checks));
  constexpr int k_targets = 20;
  const std::uint32_t seed = test_seed(20260302) + static_cast<std::uint32_t>(first);
  std::mt19937 random(seed);
  // Each trial is ten minutes after the last one, and the claims a killed pulse leaves behind
  // are aged past their time-to-live (deadline + 1 min, on the database's clock, which HB_NOW
  // does not move) before the next run, which must therefore run every target.
  const auto base = *hb::util::parse_rfc3339("2026-03-02T00:00:00Z");
  auto at = [&](int trial, int minutes) {
    return hb::util::format_rfc3339(base + std::chrono::minutes(trial * 10 + minutes));
  };
  auto pulse_args = [&](const char* output) {
    return std::vector<std::string>{"--config", ws.config, "--db", ws.db, "--force", output};
  };

  constexpr int k_timed = 5;
  std::vector<Clock::duration> recent; // the last unkilled pulses' durations
  for (int i = 0; i < k_timed; ++i) {
    recent.push_back(
        timed_run("hb-pulse", pulse_args("-q"), {{"HB_NOW", at(first - k_timed + i, 0)}}, ws));
  }
  // The window follows the machine, from the last few unkilled pulses: under ctest -j2 (and
  // sanitizers) a pulse takes several times longer while a heavy test runs beside it.
  auto current_window = [&] {
    const std::size_t n = std::min<std::size_t>(recent.size(), k_timed);
    return window_from({recent.end() - static_cast<std::ptrdiff_t>(n), recent.end()});
  };
  int acknowledged = k_timed; // pulses that exited 0: each must be recorded, whole
  int killed = 0;
  long long executions = ws.scalar("SELECT count(*) FROM executions");
  REQUIRE(executions == k_timed * k_targets);

  for (int trial = first; trial < first + count; ++trial) {
    const microseconds window = current_window();
    const microseconds delay(std::uniform_int_distribution<long long>(0, window.count())(random));
    INFO("seed " << seed << ", trial " << trial << ": SIGKILL after " << delay.count()
                 << " us (window " << window.count() << " us)");
    const KilledRun run =
        run_and_kill("hb-pulse", pulse_args("-q"), {{"HB_NOW", at(trial, 0)}}, delay, ws);
    INFO("killed run: exit " << run.exit_code << ", stderr: " << read_file(ws.dir / "killed.err"));
    if (run.killed) {
      ++killed;
    } else {
      REQUIRE(run.exit_code == 0);
      ++acknowledged;
    }
    const auto problems = database_problems(ws.db, pulse_invariants());
    if (!problems.empty()) {
      FAIL("after the kill:" << problems_text(problems));
    }
    // Nothing committed is lost: executions only ever grow.
    const long long after_kill = ws.scalar("SELECT count(*) FROM executions");
    REQUIRE(after_kill >= executions);
    REQUIRE(after_kill <= executions + k_targets);

    // Ten minutes pass for the database's clock too: the killed pulse's claims have expired.
    expire_claims(ws.db);
    const auto next_started = Clock::now();
    const auto next = ws.pulse({"--force", "--json"}, at(trial, 5));
    recent.push_back(Clock::now() - next_started);
    INFO("next run: exit " << next.exit_code << ", stderr: " << next.err);
    REQUIRE(next.exit_code == 0);
    const auto out = json::parse(next.out);
    REQUIRE(out.at("processed") == k_targets);
    REQUIRE(out.at("summary").at("held") == 0);
    ++acknowledged;
    executions = ws.scalar("SELECT count(*) FROM executions");
    REQUIRE(executions == after_kill + k_targets);
    REQUIRE(ws.scalar("SELECT count(*) FROM leases") == 0);
  }

  const auto problems = database_problems(ws.db, pulse_invariants());
  if (!problems.empty()) {
    FAIL("at the end:" << problems_text(problems));
  }
  CHECK(killed >= count / 4); // the window is right: many runs were cut short
  CHECK(ws.scalar("SELECT count(*) FROM pulses WHERE status = 'ok'") >= acknowledged);
  CHECK(ws.scalar("SELECT count(*) FROM pulses") <= k_timed + 2 * count);
  CHECK(ws.scalar("SELECT count(*) FROM executions") >= acknowledged * k_targets);
  CHECK(ws.scalar("SELECT count(*) FROM check_results") >= acknowledged * checks);
  // hb-status reads what the kills left: a health code, never a database error.
  const auto status = ws.status({"--json"}, at(first + count, 0));
  INFO("hb-status stderr: " << status.err);
  CHECK(status.exit_code == 2); // alert-0 and plugin-critical are failing
  CHECK(json::parse(status.out)["exitCode"] == 2);
}

} // namespace

TEST_CASE("reliability: crash consistency: hb-pulse killed with SIGKILL at random instants: part 1",
          "[reliability]")
{
  pulse_crash_trials(0, k_pulse_trials_per_case);
}

TEST_CASE("reliability: crash consistency: hb-pulse killed with SIGKILL at random instants: part 2",
          "[reliability]")
{
  pulse_crash_trials(1000, k_pulse_trials_per_case);
}

TEST_CASE("reliability: crash consistency: hb-beat killed with SIGKILL at random instants",
          "[reliability]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  constexpr int k_agents = 4;
  json targets = json::array();
  for (int i = 0; i < k_agents; ++i) {
    targets.push_back({{"id", fmt::format("agent-{}", i)}, {"kind", "agent"}});
  }
  targets.push_back({{"id", "job"}, {"kind", "job"}});
  ws.write_config(json{{"targets", targets}}.dump(2));
  REQUIRE(ws.pulse().exit_code == 0); // syncs the targets
  const std::uint32_t seed = test_seed(20260303);
  std::mt19937 random(seed);
  auto beat_args = [&](int trial) {
    return std::vector<std::string>{"--config",
                                    ws.config,
                                    "--db",
                                    ws.db,
                                    fmt::format("agent-{}", trial % k_agents),
                                    "--metric",
                                    fmt::format("trial={}", trial),
                                    "--message",
                                    fmt::format("trial {}", trial)};
  };
  auto job_args = [&](const std::string& program, const std::string& arg) {
    std::vector<std::string> args{"--config", ws.config, "--db", ws.db, "job", "--", program};
    if (!arg.empty()) {
      args.push_back(arg);
    }
    return args;
  };

  const auto beat_window =
      kill_window(5, [&](int i) { return timed_run("hb-beat", beat_args(1000 + i), {}, ws); });
  const auto job_window = kill_window(
      5, [&](int) { return timed_run("hb-beat", job_args("/bin/sleep", "0.05"), {}, ws); });
  long long beats_sent = 5;  // every hb-beat run for an agent that was started
  long long beats_acked = 5; // ... and those that exited 0: each must be in the database
  long long runs_started = 5;
  long long runs_acked = 5; // wrapped runs that exited 0: each must be recorded as succeeded
  int killed = 0;

  for (int trial = 0; trial < k_beat_trials; ++trial) {
    const bool wrapper = trial % 2 == 1;
    const auto window = wrapper ? job_window : beat_window;
    const microseconds delay(std::uniform_int_distribution<long long>(0, window.count())(random));
    INFO("seed " << seed << ", trial " << trial << (wrapper ? " (job wrapper)" : " (beat)")
                 << ": SIGKILL after " << delay.count() << " us (window " << window.count()
                 << " us)");
    const KilledRun run = run_and_kill(
        "hb-beat", wrapper ? job_args("/bin/sleep", "0.05") : beat_args(trial), {}, delay, ws);
    INFO("killed run: exit " << run.exit_code << ", stderr: " << read_file(ws.dir / "killed.err"));
    (wrapper ? runs_started : beats_sent) += 1;
    if (run.killed) {
      ++killed;
    } else {
      REQUIRE(run.exit_code == 0);
      (wrapper ? runs_acked : beats_acked) += 1;
    }
    const auto problems = database_problems(ws.db, beat_invariants());
    if (!problems.empty()) {
      FAIL("after the kill:" << problems_text(problems));
    }
    REQUIRE(ws.scalar("SELECT count(*) FROM beats") >= beats_acked);
    REQUIRE(ws.scalar("SELECT count(*) FROM beats") <= beats_sent);
    REQUIRE(ws.scalar("SELECT count(*) FROM job_runs WHERE status = 'succeeded'") >= runs_acked);
    REQUIRE(ws.scalar("SELECT count(*) FROM job_runs") <= runs_started);

    // The next run works.
    const auto next = wrapper ? run_tool("hb-beat", job_args("/bin/true", ""))
                              : run_tool("hb-beat", beat_args(trial));
    INFO("next run: exit " << next.exit_code << ", stderr: " << next.err);
    REQUIRE(next.exit_code == 0);
    (wrapper ? runs_started : beats_sent) += 1;
    (wrapper ? runs_acked : beats_acked) += 1;
  }

  const auto problems = database_problems(ws.db, beat_invariants());
  if (!problems.empty()) {
    FAIL("at the end:" << problems_text(problems));
  }
  CHECK(killed >= k_beat_trials / 5); // the window is right: many runs were cut short
  CHECK(ws.scalar("SELECT count(*) FROM beats") >= beats_acked);
  CHECK(ws.scalar("SELECT count(*) FROM job_runs WHERE status = 'succeeded'") >= runs_acked);
  // A wrapper killed mid-run leaves its run "running": never more of them than kills.
  CHECK(ws.scalar("SELECT count(*) FROM job_runs WHERE status = 'running'") <= killed);
  const auto status = ws.status({"--json"});
  INFO("hb-status stderr: " << status.err);
  CHECK(status.exit_code <= 3);
  CHECK(json::parse(status.out)["exitCode"] == status.exit_code);
}

TEST_CASE("reliability: crash consistency: a tool killed while it creates the database",
          "[reliability][sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", json::array()}}.dump());
  const std::uint32_t seed = test_seed(20260304);
  std::mt19937 random(seed);
  const std::vector<std::string> args{"--config", ws.config, "--db", ws.db, "fresh", "--create"};
  auto remove_database = [&] {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(ws.db + suffix);
    }
  };
  const auto window = kill_window(5, [&](int) {
    remove_database();
    return timed_run("hb-beat", args, {}, ws);
  });

  for (int trial = 0; trial < k_create_trials; ++trial) {
    remove_database();
    const microseconds delay(std::uniform_int_distribution<long long>(0, window.count())(random));
    INFO("seed " << seed << ", trial " << trial << ": SIGKILL after " << delay.count()
                 << " us (window " << window.count() << " us)");
    const KilledRun run = run_and_kill("hb-beat", args, {}, delay, ws);
    INFO("killed run: exit " << run.exit_code << ", stderr: " << read_file(ws.dir / "killed.err"));
    REQUIRE((run.killed || run.exit_code == 0));
    const auto problems = database_problems(ws.db, beat_invariants());
    if (!problems.empty()) {
      FAIL("after the kill:" << problems_text(problems));
    }
    const auto next = run_tool("hb-beat", args);
    INFO("next run: stderr: " << next.err);
    REQUIRE(next.exit_code == 0);
    // The killed run may have committed its beat just before the kill landed.
    const long long beats = ws.scalar("SELECT count(*) FROM beats");
    REQUIRE(beats >= (run.killed ? 1 : 2));
    REQUIRE(beats <= 2);
  }
}

TEST_CASE("reliability: crash consistency: a pulse killed while it creates the database, then 20 "
          "tools at once",
          "[reliability][sqlite]")
{
  // The "database does not exist yet" round: hb-pulse creates the database (and its folder) and
  // is killed at a random instant of that; then 20 tools start at once at whatever it left (no
  // file, an empty file, a schema half done, a hot journal). All succeed, and the database is
  // whole.
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  json targets = json::array();
  for (int i = 0; i < 5; ++i) {
    targets.push_back({{"id", fmt::format("agent-{}", i)}, {"kind", "agent"}});
  }
  targets.push_back(
      {{"id", "web"},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}});
  ws.write_config(json{{"targets", targets}}.dump());
  const std::uint32_t seed = test_seed(20260311);
  std::mt19937 random(seed);
  const auto folder = ws.dir / "state";
  const std::string db = (folder / "heartbeat.db").string();
  const std::vector<std::string> pulse_args{"--config", ws.config, "--db", db, "--force"};
  const auto window = kill_window(5, [&](int) {
    std::filesystem::remove_all(folder);
    return timed_run("hb-pulse", pulse_args, {}, ws);
  });

  for (int trial = 0; trial < k_create_trials; ++trial) {
    std::filesystem::remove_all(folder);
    const microseconds delay(std::uniform_int_distribution<long long>(0, window.count())(random));
    INFO("seed " << seed << ", trial " << trial << ": SIGKILL after " << delay.count()
                 << " us (window " << window.count() << " us)");
    const KilledRun run = run_and_kill("hb-pulse", pulse_args, {}, delay, ws);
    INFO("killed run: exit " << run.exit_code << ", stderr: " << read_file(ws.dir / "killed.err"));
    REQUIRE((run.killed || run.exit_code == 0));
    std::vector<Invariant> invariants = pulse_invariants();
    invariants.insert(invariants.end(), beat_invariants().begin(), beat_invariants().end());
    auto problems = database_problems(db, invariants);
    if (!problems.empty()) {
      FAIL("after the kill:" << problems_text(problems));
    }

    std::vector<std::pair<std::string, pid_t>> started;
    for (int i = 0; i < 20; ++i) {
      std::vector<std::string> args{"--config", ws.config, "--db", db};
      std::string tool = i % 4 == 3 ? "hb-status" : i % 4 == 2 ? "hb-pulse" : "hb-beat";
      if (tool == "hb-beat") {
        args.push_back(fmt::format("agent-{}", i % 5));
      } else if (tool == "hb-pulse") {
        args.push_back("--force");
      }
      const auto out = ws.dir / fmt::format("race-{}.out", i);
      const auto err = ws.dir / fmt::format("race-{}.err", i);
      started.emplace_back(tool, spawn_in_group(tool, args, {}, out, err));
    }
    for (std::size_t i = 0; i < started.size(); ++i) {
      const auto& [tool, pid] = started[i];
      const int code = reap(pid);
      INFO(tool << " exited " << code << ": " << read_file(ws.dir / fmt::format("race-{}.err", i)));
      CHECK((tool == "hb-status" ? code >= 0 && code <= 3 : code == 0));
    }
    problems = database_problems(db, invariants);
    if (!problems.empty()) {
      FAIL("after the race:" << problems_text(problems));
    }
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    REQUIRE(database.execAndGet("SELECT count(*) FROM beats").getInt() == 10);
  }
}
