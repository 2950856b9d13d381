// SPDX-License-Identifier: MIT
// Contention (SPEC §5, §7): a hundred tools started in the same instant against one database all
// succeed, none loses a write, and the database stays consistent.
#include "e2e_helpers.hpp"
#include "reliability_helpers.hpp"

#include <chrono>

using namespace hb::test;
using nlohmann::json;

TEST_CASE("reliability: contention: 100 tools started at once against one database all succeed",
          "[reliability]")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  constexpr int k_agents = 10;
  json targets = json::array();
  for (int i = 0; i < k_agents; ++i) {
    targets.push_back({{"id", fmt::format("agent-{}", i)}, {"kind", "agent"}});
  }
  for (int i = 0; i < 6; ++i) {
    targets.push_back({{"id", fmt::format("web-{}", i)},
                       {"checks",
                        {{{"name", "home"},
                          {"type", "http"},
                          {"url", server.url(i % 2 == 0 ? "/ok" : "/slow/20")}}}}});
  }
  targets.push_back({{"id", "job"}, {"kind", "job"}});
  ws.write_config(json{{"targets", targets}}.dump(2));

  // Everything healthy first, so that hb-status has one right answer during the storm: 0.
  REQUIRE(ws.pulse().exit_code == 0);
  for (int i = 0; i < k_agents; ++i) {
    REQUIRE(ws.beat({fmt::format("agent-{}", i)}).exit_code == 0);
  }
  REQUIRE(ws.beat({"job", "--", "/bin/true"}).exit_code == 0);
  {
    const auto before = ws.status();
    INFO("hb-status before the storm: " << before.out << before.err);
    REQUIRE(before.exit_code == 0);
  }
  const long long executions_before = ws.scalar("SELECT count(*) FROM executions");

  // 70 hb-beat (50 beats, 20 wrapped job runs), 15 hb-pulse and 15 hb-status, interleaved, all
  // started before any is waited for.
  struct Started {
    std::string tool;
    pid_t pid;
    std::filesystem::path out;
    std::filesystem::path err;
  };
  std::vector<Started> started;
  int beats_sent = 0;
  int runs_sent = 0;
  std::filesystem::create_directories(ws.dir / "storm");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    const int slot = i % 20;
    Started s;
    std::vector<std::string> args{"--config", ws.config, "--db", ws.db};
    if (slot < 10) {
      s.tool = "hb-beat";
      args.insert(args.end(),
                  {fmt::format("agent-{}", i % k_agents), "--metric", fmt::format("storm={}", i)});
      ++beats_sent;
    } else if (slot < 14) {
      s.tool = "hb-beat";
      args.insert(args.end(), {"job", "--", "/bin/true"});
      ++runs_sent;
    } else if (slot < 17) {
      s.tool = "hb-pulse";
      args.insert(args.end(), {"--force", "--json"});
    } else {
      s.tool = "hb-status";
      args.push_back("--json");
    }
    s.out = ws.dir / "storm" / fmt::format("{}-{}.out", i, s.tool);
    s.err = ws.dir / "storm" / fmt::format("{}-{}.err", i, s.tool);
    s.pid = spawn_in_group(s.tool, args, {}, s.out, s.err);
    started.push_back(std::move(s));
  }
  REQUIRE(beats_sent + runs_sent == 70);

  int failures = 0;
  long long processed = 0;
  for (const auto& s : started) {
    const int code = reap(s.pid);
    const std::string out = read_file(s.out);
    const std::string err = read_file(s.err);
    const bool contended =
        err.find("locked") != std::string::npos || err.find("busy") != std::string::npos;
    if (code != 0 || contended) {
      ++failures;
      UNSCOPED_INFO(s.tool << " exited " << code << ": " << err);
      continue;
    }
    if (s.tool == "hb-pulse") {
      processed += json::parse(out).at("processed").get<long long>();
    } else if (s.tool == "hb-status") {
      if (json::parse(out).at("exitCode") != 0) {
        ++failures;
        UNSCOPED_INFO("hb-status saw a problem: " << out);
      }
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("the storm took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms");
  CHECK(failures == 0);

  // No beat and no execution is lost; everything is whole.
  CHECK(ws.scalar("SELECT count(*) FROM beats") == k_agents + beats_sent);
  CHECK(ws.scalar("SELECT sum(s.beats) FROM beat_states s JOIN targets t ON t.id = s.target_id "
                  "WHERE t.kind = 'agent'") == k_agents + beats_sent);
  CHECK(ws.scalar("SELECT count(*) FROM job_runs WHERE status = 'succeeded'") == 1 + runs_sent);
  CHECK(ws.scalar("SELECT count(*) FROM executions") == executions_before + processed);
  CHECK(processed >= 6); // --force: at least one pulse ran every target
  CHECK(ws.scalar("SELECT count(*) FROM pulses WHERE status != 'ok'") == 0);
  CHECK(ws.scalar("SELECT count(*) FROM leases") == 0);
  std::vector<Invariant> invariants = pulse_invariants();
  invariants.insert(invariants.end(), beat_invariants().begin(), beat_invariants().end());
  const auto problems = database_problems(ws.db, invariants);
  for (const auto& p : problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(problems.empty());
  CHECK(ws.status().exit_code == 0);
}
