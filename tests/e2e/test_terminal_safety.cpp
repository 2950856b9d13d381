// SPDX-License-Identifier: MIT
// What a beat, a plugin, a task or a job leaves behind: nothing of it reaches the operator's
// terminal that could rewrite or reorder what is shown (escape sequences, bidirectional
// overrides), and no process of a check or a task outlives it.
#include "e2e_helpers.hpp"

#include <chrono>
#include <fstream>

#include <signal.h>
#include <sys/types.h>

using namespace hb::test;
using nlohmann::json;

namespace {

// U+202E RIGHT-TO-LEFT OVERRIDE: "exe.txt" after it shows as "txt.exe".
const std::string k_rlo = "\xE2\x80\xAE";
// U+2066 LEFT-TO-RIGHT ISOLATE.
const std::string k_lri = "\xE2\x81\xA6";

bool has_hidden_controls(const std::string& text)
{
  return text.find('\033') != std::string::npos || text.find(k_rlo) != std::string::npos ||
         text.find(k_lri) != std::string::npos;
}

// True while `pid` runs (a zombie nobody has reaped yet counts as gone).
bool is_running(pid_t pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) {
    return false;
  }
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

pid_t pid_in(const std::filesystem::path& file)
{
  const std::string text = read_file(file);
  REQUIRE_FALSE(text.empty());
  return static_cast<pid_t>(std::stol(text));
}

json command_target(const std::string& id, const std::string& script)
{
  return json{{"id", id},
              {"checks",
               {{{"name", "plugin"},
                 {"type", "command"},
                 {"command", {"/bin/sh", "-c", script}},
                 {"timeout", "20s"}}}}};
}

} // namespace

TEST_CASE("terminal safety: a beat message with bidi overrides shows without them")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", {{{"id", "worker"}, {"kind", "agent"}}}}}.dump());
  REQUIRE(ws.pulse().exit_code == 0);

  const auto r =
      ws.beat({"worker", "--message", "report ready: " + k_rlo + "exe.txt " + k_lri + "x\033[2J"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"worker", "--color", "never"}, {"--color", "never"}, {"worker", "--json"}}) {
    const auto shown = ws.status(args);
    INFO("hb-status " << json(args).dump() << ":\n" << shown.out);
    CHECK_FALSE(has_hidden_controls(shown.out));
    if (args.front() == "worker") { // the overview shows no beat messages
      CHECK(shown.out.find("exe.txt") != std::string::npos);
    }
  }
  // Stored as shown: every reader of the database gets the safe text.
  CHECK(ws.text("SELECT message FROM beats") == "report ready:  exe.txt  x [2J");

  // A metric name cannot carry one: it is refused, and the refusal does not print it either.
  const auto metric = ws.beat({"worker", "--metric", "load" + k_rlo + "=1"});
  CHECK(metric.exit_code == 64);
  CHECK_FALSE(has_hidden_controls(metric.err));
}

TEST_CASE("terminal safety: plugin output with bidi overrides shows without them")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{
      {"targets",
       {command_target("plugin",
                       "printf 'OK \\342\\200\\256exe.txt | load=1;;;\\n\\342\\201\\246more\\n'")}}}
                      .dump());
  const auto pulse = ws.pulse({"--color", "never", "-v"});
  INFO("hb-pulse:\n" << pulse.out << pulse.err);
  REQUIRE(pulse.exit_code == 0);
  CHECK_FALSE(has_hidden_controls(pulse.out));
  CHECK_FALSE(has_hidden_controls(pulse.err));
  const auto shown = ws.status({"plugin", "--color", "never"});
  INFO("hb-status:\n" << shown.out);
  CHECK(shown.out.find("exe.txt") != std::string::npos);
  CHECK_FALSE(has_hidden_controls(shown.out));
}

TEST_CASE("terminal safety: a task's last output line shows without escapes or bidi overrides")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(
      json{{"targets", json::array()},
           {"schedules",
            {{{"name", "report"},
              {"cron", "* * * * *"},
              {"command",
               {"/bin/sh", "-c", "printf 'failed: \\033[2J\\342\\200\\256exe.txt\\n'; exit 1"}}}}}}
          .dump());
  REQUIRE(ws.pulse({}, "2026-03-02T10:00:30Z").exit_code == 0);
  const auto pulse = ws.pulse({"--color", "never", "-v"}, "2026-03-02T10:01:30Z");
  INFO("hb-pulse:\n" << pulse.out << pulse.err);
  REQUIRE(pulse.exit_code == 0);
  CHECK(pulse.out.find("exe.txt") != std::string::npos);
  CHECK_FALSE(has_hidden_controls(pulse.out));
  CHECK_FALSE(has_hidden_controls(pulse.err));
  CHECK(ws.text("SELECT message FROM task_runs") == "exited with code 1: failed:  [2J exe.txt");
  for (const auto& args : std::vector<std::vector<std::string>>{{"--color", "never"},
                                                                {"report", "--color", "never"}}) {
    const auto shown = ws.status(args, "2026-03-02T10:02:00Z");
    INFO("hb-status " << json(args).dump() << ":\n" << shown.out);
    CHECK_FALSE(has_hidden_controls(shown.out));
  }
}

TEST_CASE(
    "terminal safety: a job's output tail is shown and printed as JSON without bidi overrides")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", {{{"id", "backup"}, {"kind", "job"}}}}}.dump());
  REQUIRE(ws.pulse().exit_code == 0);
  const auto r = ws.beat({"backup", "--", "/usr/bin/printf", "saved \342\200\256exe.txt\n"});
  REQUIRE(r.exit_code == 0);

  const auto shown = ws.status({"backup", "--color", "never"});
  INFO("hb-status:\n" << shown.out);
  CHECK(shown.out.find("exe.txt") != std::string::npos);
  CHECK_FALSE(has_hidden_controls(shown.out));

  // JSON keeps the job's bytes, escaped: the reader gets them, the terminal does not.
  const auto as_json = ws.status({"backup", "--json"});
  INFO("hb-status --json:\n" << as_json.out);
  CHECK_FALSE(has_hidden_controls(as_json.out));
  CHECK(as_json.out.find("\\u202e") != std::string::npos);
  CHECK(json::parse(as_json.out).dump().find(k_rlo) != std::string::npos);
}

TEST_CASE("a plugin's background grandchild does not outlive its check")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto holding = ws.dir / "holding.pid";
  const auto detached = ws.dir / "detached.pid";
  const auto stubborn = ws.dir / "stubborn.pid";
  ws.write_config(
      json{{"targets",
            {// Keeps the output pipe open: the check must not wait for it either.
             command_target("holding", "sleep 300 & echo $! > " + holding.string() + "; echo OK"),
             // Lets go of the pipe: nothing but the process group ties it to the check.
             command_target("detached", "sleep 300 >/dev/null 2>&1 & echo $! > " +
                                            detached.string() + "; echo OK"),
             // Ignores SIGTERM: SIGKILL after the check's grace period.
             command_target("stubborn", "trap '' TERM; sleep 300 >/dev/null 2>&1 & echo $! > " +
                                            stubborn.string() + "; echo OK")}}}
          .dump());

  const auto start = std::chrono::steady_clock::now();
  const auto r = ws.pulse_json();
  const auto took = std::chrono::steady_clock::now() - start;
  for (const std::string id : {"holding", "detached", "stubborn"}) {
    INFO(id);
    CHECK(detail(r, id)["checks"][0]["status"] == "ok");
  }
  // Far from the 300 s the grandchildren would take, and from the 20 s timeout.
  CHECK(took < std::chrono::seconds(10));
  // Gone when hb-pulse returns, not some time later.
  for (const auto& file : {holding, detached, stubborn}) {
    INFO(file);
    const pid_t pid = pid_in(file);
    CHECK_FALSE(is_running(pid));
    if (is_running(pid)) {
      ::kill(pid, SIGKILL);
    }
  }
}

TEST_CASE("a task's background grandchild does not outlive the task")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const auto pid_file = ws.dir / "task-child.pid";
  ws.write_config(
      json{{"targets", json::array()},
           {"schedules",
            {{{"name", "spawner"},
              {"cron", "* * * * *"},
              {"command",
               {"/bin/sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $! > " + pid_file.string()}}}}}}
          .dump());
  REQUIRE(ws.pulse({}, "2026-03-02T10:00:30Z").exit_code == 0);
  const auto r = ws.pulse_json({}, "2026-03-02T10:01:30Z");
  CHECK(detail(r, "spawner")["result"] == "succeeded");
  const pid_t pid = pid_in(pid_file);
  CHECK_FALSE(is_running(pid));
  if (is_running(pid)) {
    ::kill(pid, SIGKILL);
  }
}
