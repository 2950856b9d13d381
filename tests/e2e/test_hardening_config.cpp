// SPDX-License-Identifier: MIT
// End-to-end regression tests for the config half of issue 11 (hardening): every file the
// config reads is a regular file of bounded size (FIFOs, /dev/zero and symlink loops in the
// config path are refused with a clear error, never waited on or read without end); resolved
// secrets never reach what the tools print or store; a discovery command may write as much as it
// likes to stderr.
#include "e2e_helpers.hpp"

#include "support/fifo.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include <sys/stat.h>

using namespace hb::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Runs `tool` like run_tool() (same environment, 60 s timeout) with its memory bounded at 2 GiB
// (address space; under AddressSanitizer, which reserves terabytes of it, resident memory), so
// that a regression that reads /dev/zero without end fails the test rather than the machine.
ToolResult run_tool_bounded(const std::string& tool, const std::vector<std::string>& args)
{
  hb::util::ProcessSpec spec;
  spec.env = {{"HB_CONFIG", ""}, {"HB_DB", ""}, {"HB_NOW", ""}, {"HEARTBEAT_ENABLED", ""},
              {"NO_COLOR", "1"}};
#if defined(__SANITIZE_ADDRESS__)
  const char* asan = std::getenv("ASAN_OPTIONS");
  spec.env["ASAN_OPTIONS"] =
    std::string(asan != nullptr ? asan : "") + (asan != nullptr ? ":" : "") + "hard_rss_limit_mb=2048";
  spec.argv = {tool_path(tool)};
#else
  spec.argv = {"/bin/sh", "-c", "ulimit -v 2097152 && exec \"$0\" \"$@\"", tool_path(tool)};
#endif
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = std::chrono::seconds(60);
  spec.stderr_mode = hb::util::ProcessSpec::Stderr::separate;
  const auto r = hb::util::run_process(spec);
  ToolResult out;
  out.out = r.output;
  out.err = r.error_output;
  out.exit_code = r.end == hb::util::ProcessResult::End::exited ? r.exit_code : -1;
  if (r.end != hb::util::ProcessResult::End::exited) {
    out.err += "\n[test runner: " + r.error + "]";
  }
  return out;
}

// Everything the database holds, as bytes (the main file and any write-ahead log).
std::string database_bytes(const Workspace& ws)
{
  std::string bytes = read_file(ws.db);
  if (fs::exists(ws.db + "-wal")) {
    bytes += read_file(ws.db + "-wal");
  }
  return bytes;
}

json command_check(const std::string& name, const json& command)
{
  return {{"name", name}, {"type", "command"}, {"command", command}};
}

} // namespace

TEST_CASE("a FIFO as --config, include or secret file is refused at once")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());

  SECTION("--config")
  {
    const Fifo fifo(ws.config);
    const auto r = ws.pulse();
    CHECK(r.exit_code == 78);
    CHECK(r.err
          == fmt::format("hb-pulse: error: cannot read config file \"{}\": is a FIFO, not a "
                         "regular file\n",
                         ws.config));
  }

  SECTION("a FIFO matched by an include glob")
  {
    fs::create_directories(ws.dir / "conf.d");
    const Fifo fifo(ws.dir / "conf.d" / "x.json");
    ws.write_config(R"({"include": "conf.d/*.json"})");
    const auto r = ws.pulse();
    CHECK(r.exit_code == 78);
    CHECK(r.err == "hb-pulse: error: heartbeat.json: include: cannot read \"conf.d/x.json\": is "
                   "a FIFO, not a regular file\n");
  }

  SECTION("a secret file")
  {
    const Fifo fifo(ws.dir / "token");
    ws.write_config(
      json{{"targets",
            {{{"id", "api"},
              {"checks",
               {command_check("up", {"/bin/echo", {{"file", fifo.path().string()}}})}}}}}}
        .dump());
    const auto r = ws.pulse();
    CHECK(r.exit_code == 78);
    CHECK(r.err
          == fmt::format("hb-pulse: error: heartbeat.json: targets[0].checks[0].command[1].file: "
                         "cannot read secret file \"{}\": is a FIFO, not a regular file\n",
                         fifo.path().string()));
  }
}

TEST_CASE("/dev/zero as --config, include or secret file is refused without reading it")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());

  SECTION("--config")
  {
    const auto r = run_tool_bounded("hb-pulse", {"--config", "/dev/zero", "--db", ws.db});
    CHECK(r.exit_code == 78);
    CHECK(r.err == "hb-pulse: error: cannot read config file \"/dev/zero\": is a character "
                   "device, not a regular file\n");
  }

  SECTION("a stray symlink in conf.d")
  {
    fs::create_directories(ws.dir / "conf.d");
    fs::create_symlink("/dev/zero", ws.dir / "conf.d" / "zero.json");
    ws.write_config(R"({"include": ["conf.d/*.json"]})");
    const auto r = run_tool_bounded("hb-pulse", {"--config", ws.config, "--db", ws.db});
    CHECK(r.exit_code == 78);
    CHECK(r.err == "hb-pulse: error: heartbeat.json: include[0]: cannot read \"conf.d/zero.json\": "
                   "is a character device, not a regular file\n");
  }

  SECTION("a secret file")
  {
    ws.write_config(
      json{{"targets",
            {{{"id", "api"},
              {"checks", {command_check("up", {"/bin/echo", {{"file", "/dev/zero"}}})}}}}}}
        .dump());
    const auto r = run_tool_bounded("hb-pulse", {"--config", ws.config, "--db", ws.db});
    CHECK(r.exit_code == 78);
    CHECK(r.err == "hb-pulse: error: heartbeat.json: targets[0].checks[0].command[1].file: "
                   "cannot read secret file \"/dev/zero\": is a character device, not a regular "
                   "file\n");
  }
}

TEST_CASE("a symlink loop in the config path says so, not \"no such file\"")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  fs::create_symlink("loop.json", ws.config);
  fs::create_symlink("heartbeat.json", ws.dir / "loop.json");
  const auto r = ws.pulse();
  CHECK(r.exit_code == 78);
  CHECK(r.err
        == fmt::format("hb-pulse: error: cannot read config file \"{}\": too many levels of "
                       "symbolic links (a symlink loop?)\n",
                       ws.config));
}

TEST_CASE("a discovery command may write more than 16 MiB to stderr")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const std::string script = (ws.dir / "list-tenants").string();
  ws.dir.write("list-tenants", "#!/bin/sh\n"
                               "head -c 17000000 /dev/zero | tr '\\0' . >&2\n"
                               "echo '[{\"id\": \"acme\", \"checks\": [{\"name\": \"up\", "
                               "\"type\": \"command\", \"command\": [\"/bin/echo\", \"fine\"]}]}]'\n");
  ::chmod(script.c_str(), 0755);
  ws.write_config(json{{"discovery", {{{"command", {script}}}}}}.dump());
  const auto out = ws.pulse_json({}, "2026-02-18T09:00:00Z");
  CHECK(out["status"] == "ok");
  CHECK(detail(out, "acme")["status"] == "all_clear");
}

TEST_CASE("resolved secrets never reach output, hb-status or the database")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const std::string workdir_secret = "/nonexistent/wd-s3cr3t";
  const std::string program_secret = "/nonexistent/prog-s3cr3t";
  const std::string host_secret = "db-s3cr3t.invalid";
  const std::string file_secret = "file-s3cr3t-t0ken";
  const fs::path secret_file = ws.dir.write("token", file_secret + "\n");
  const std::map<std::string, std::string> env{{"HB_E2E_WORKDIR", workdir_secret},
                                               {"HB_E2E_PROGRAM", program_secret},
                                               {"HB_E2E_HOST", host_secret}};
  json workdir_check = command_check("workdir", {"/bin/true"});
  workdir_check["working_dir"] = "${HB_E2E_WORKDIR}";
  ws.write_config(
    json{{"targets",
          {{{"id", "api"},
            {"interval", "1m"},
            {"checks",
             {workdir_check, command_check("program", {"${HB_E2E_PROGRAM}", "--check"}),
              {{"name", "db"}, {"type", "tcp"}, {"host", {{"env", "HB_E2E_HOST"}}},
               {"port", 5432}, {"timeout", "3s"}},
              // A plugin that prints a secret it was never given: another part of the config
              // reads the same file.
              command_check("echo",
                            {"/bin/sh", "-c",
                             fmt::format("echo \"CRITICAL: token $(cat '{}')\"; exit 2",
                                         secret_file.string())})}}}}},
         {"schedules",
          {{{"name", "report"}, {"cron", "0 9 * * *"}, {"command", {"/bin/true"}},
            {"working_dir", "${HB_E2E_WORKDIR}"},
            {"env", {{"TOKEN", {{"file", secret_file.string()}}}}}}}}}
      .dump());

  ws.pulse({}, "2026-02-18T08:59:00Z", env);
  const auto r = ws.pulse({"--json"}, "2026-02-18T09:00:10Z", env);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  const json failing = detail(out, "api")["failing"];
  auto message_of = [&](const std::string& check) {
    for (const auto& f : failing) {
      if (f["check"] == check) {
        return f["message"].get<std::string>();
      }
    }
    FAIL("no failing check " << check << " in " << failing.dump());
    return std::string();
  };
  CHECK(message_of("workdir")
        == "cannot use working directory \"***\": No such file or directory");
  CHECK(message_of("program") == "cannot run \"***\": No such file or directory");
  CHECK(message_of("db").find("\"***\"") != std::string::npos);
  CHECK(message_of("echo") == "CRITICAL: token ***");
  CHECK(ws.text("SELECT description FROM checks WHERE name = 'db'") == "tcp ***:5432");
  CHECK(ws.text("SELECT message FROM task_runs") == "cannot use working directory \"***\": No "
                                                    "such file or directory");

  const auto status = ws.status({"api", "--color", "never"}, "2026-02-18T09:01:00Z");
  const auto overview = ws.status({"--color", "never"}, "2026-02-18T09:01:00Z");
  const auto status_json = ws.status({"api", "--json"}, "2026-02-18T09:01:00Z");
  INFO("hb-status api: " << status.out);
  CHECK(status.out.find("***") != std::string::npos);
  const std::string database = database_bytes(ws);
  for (const auto& secret : {workdir_secret, program_secret, host_secret, file_secret}) {
    INFO("secret: " << secret);
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(r.err.find(secret) == std::string::npos);
    CHECK(status.out.find(secret) == std::string::npos);
    CHECK(overview.out.find(secret) == std::string::npos);
    CHECK(status_json.out.find(secret) == std::string::npos);
    CHECK(database.find(secret) == std::string::npos);
  }
}
