// SPDX-License-Identifier: MIT
// End-to-end regression tests for the config half of issue 11 (hardening): every file the
// config reads is a regular file of bounded size (FIFOs, /dev/zero and symlink loops in the
// config path are refused with a clear error, never waited on or read without end); a discovery
// command may write as much as it likes to stderr.
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
