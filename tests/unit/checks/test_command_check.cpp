// SPDX-License-Identifier: MIT
#include "checks/command_check.hpp"

#include "support/test_helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace {

using hb::CheckStatus;
using hb::Duration;
using hb::checks::CheckContext;
using hb::checks::CheckDef;
using hb::checks::CheckResult;
using nlohmann::json;

const std::string k_dummy = "/usr/lib/nagios/plugins/check_dummy";

// The messages below quote a top-level check in heartbeat.json, and plugins get 10 s by default.
const hb::test::CheckPlace k_place{"heartbeat.json", "checks[0]"};

CheckDef parse_check(const json& spec)
{
  return hb::test::parse_check(spec, k_place);
}

CheckResult run_check(const json& spec, Duration timeout = Duration(10'000))
{
  return hb::test::run_check(spec, timeout, k_place);
}

std::string config_error(const json& spec)
{
  return hb::test::config_error(spec, k_place);
}

json command_spec(json argv)
{
  return json{{"name", "cmd"}, {"type", "command"}, {"command", std::move(argv)}};
}

bool have_dummy_plugin()
{
  return ::access(k_dummy.c_str(), X_OK) == 0;
}

} // namespace

TEST_CASE("command check: Nagios plugins")
{
  INFO(k_dummy << " must be installed (apt install monitoring-plugins-basic)");
  REQUIRE(have_dummy_plugin());

  SECTION("exit 0 is ok with the summary as message")
  {
    const CheckResult result = run_check(command_spec({k_dummy, "0", "all good"}));
    CHECK(result.status == CheckStatus::ok);
    CHECK(result.message == "OK: all good");
    CHECK(result.phase.empty());
    CHECK(result.latency > Duration(0));
  }

  SECTION("exit 1 is warning")
  {
    const CheckResult result = run_check(command_spec({k_dummy, "1", "getting full"}));
    CHECK(result.status == CheckStatus::warning);
    CHECK(result.message == "WARNING: getting full");
    CHECK(result.phase == "exit_code");
  }

  SECTION("exit 2 is alert")
  {
    const CheckResult result = run_check(command_spec({k_dummy, "2", "disk full"}));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.message == "CRITICAL: disk full");
    CHECK(result.phase == "exit_code");
  }

  SECTION("exit 3 is error")
  {
    const CheckResult result = run_check(command_spec({k_dummy, "3", "no idea"}));
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "UNKNOWN: no idea");
    CHECK(result.phase == "exit_code");
  }

  SECTION("a CRITICAL stays alert when the check's severity is warning: the plugin decides")
  {
    json spec = command_spec({k_dummy, "2", "disk full"});
    spec["severity"] = "warning";
    CHECK(run_check(spec).status == CheckStatus::alert);
  }

  SECTION("describe shows the plugin's name and its arguments")
  {
    CHECK(parse_check(command_spec({k_dummy, "0", "all good"})).probe->describe() ==
          "check_dummy 0 'all good'");
  }
}

TEST_CASE("command check: results")
{
  using namespace std::chrono_literals;

  SECTION("performance data becomes metrics")
  {
    const CheckResult result =
        run_check(command_spec({"/bin/sh", "-c", "echo 'DISK OK | /=10MB;20;30;0;100 inodes=5%'"}));
    CHECK(result.status == CheckStatus::ok);
    CHECK(result.message == "DISK OK");
    REQUIRE(result.metrics.size() == 2);
    CHECK(result.metrics[0].name == "/");
    CHECK(result.metrics[0].value == 10);
    CHECK(result.metrics[0].unit == "MB");
    CHECK(result.metrics[0].warn == "20");
    CHECK(result.metrics[0].crit == "30");
    CHECK(result.metrics[0].min == 0.0);
    CHECK(result.metrics[0].max == 100.0);
    CHECK(result.metrics[1].name == "inodes");
    CHECK(result.metrics[1].unit == "%");
  }

  SECTION("metrics are kept for failing plugins too")
  {
    const CheckResult result =
        run_check(command_spec({"/bin/sh", "-c", "echo 'LOAD CRITICAL | load1=9;2;4'; exit 2"}));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.message == "LOAD CRITICAL");
    REQUIRE(result.metrics.size() == 1);
    CHECK(result.metrics[0].value == 9);
  }

  SECTION("an out-of-range exit code is an error")
  {
    const CheckResult result = run_check(command_spec({"/bin/sh", "-c", "echo boom; exit 7"}));
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "plugin exited with out-of-range code 7: boom");
    CHECK(result.phase == "exit_code");

    const CheckResult silent = run_check(command_spec({"/bin/sh", "-c", "exit 255"}));
    CHECK(silent.message == "plugin exited with out-of-range code 255 and no output");
  }

  SECTION("no output says so")
  {
    const CheckResult result = run_check(command_spec({"/bin/sh", "-c", "exit 1"}));
    CHECK(result.status == CheckStatus::warning);
    CHECK(result.message == "plugin exited with code 1 and no output");
  }

  SECTION("stderr is part of the output, so crash messages show")
  {
    const CheckResult result =
        run_check(command_spec({"/bin/sh", "-c", "echo 'segfault in libfoo' >&2; exit 3"}));
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "segfault in libfoo");
  }

  SECTION("death by signal is an error")
  {
    const CheckResult result = run_check(command_spec({"/bin/sh", "-c", "kill -9 $$"}));
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "killed by signal 9");
    CHECK(result.phase == "signal");
  }

  SECTION("a hanging command times out promptly")
  {
    const auto started = std::chrono::steady_clock::now();
    const CheckResult result = run_check(command_spec({"sleep", "30"}), 500ms);
    CHECK(std::chrono::steady_clock::now() - started < 15s); // not the 30 s of sleep
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "timed out after 500ms");
    CHECK(result.phase == "timeout");
    CHECK(result.latency >= 500ms);
  }

  SECTION("the cancel flag cuts the command off")
  {
    const CheckDef def = parse_check(command_spec({"sleep", "30"}));
    std::atomic<bool> cancel{true};
    const auto started = std::chrono::steady_clock::now();
    const CheckResult result = def.probe->run(CheckContext{cancel, Duration(10'000), hb::test::system_clock()});
    CHECK(std::chrono::steady_clock::now() - started < 15s); // not the 30 s of sleep
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "cut off: pulse deadline or shutdown");
    CHECK(result.phase == "cancelled");
  }

  SECTION("a missing program is an error in phase spawn")
  {
    const CheckResult result = run_check(command_spec({"/nonexistent/check_x", "-w", "1"}));
    CHECK(result.status == CheckStatus::error);
    CHECK(result.message == "cannot run \"/nonexistent/check_x\": No such file or directory");
    CHECK(result.phase == "spawn");
  }

  SECTION("env and working_dir reach the plugin")
  {
    const std::string dir = std::filesystem::canonical(std::filesystem::temp_directory_path());
    json spec = command_spec({"/bin/sh", "-c", "echo \"OK $HB_CMD_TEST $(pwd -P)\""});
    spec["env"] = {{"HB_CMD_TEST", "from-env"}};
    spec["working_dir"] = dir;
    const CheckResult result = run_check(spec);
    CHECK(result.message == "OK from-env " + dir);
  }

  SECTION("secrets resolve for the plugin but are hidden from describe and its output")
  {
    ::setenv("HB_CMD_TEST_HOST", "db.internal", 1);
    ::setenv("HB_CMD_TEST_SECRET", "hunter2", 1);
    json spec = command_spec(
        {"/bin/echo", "-H", "${HB_CMD_TEST_HOST}", "--password", {{"env", "HB_CMD_TEST_SECRET"}}});
    const CheckDef def = parse_check(spec);
    std::atomic<bool> cancel{false};
    const CheckResult result = def.probe->run(CheckContext{cancel, Duration(10'000), hb::test::system_clock()});
    ::unsetenv("HB_CMD_TEST_HOST");
    ::unsetenv("HB_CMD_TEST_SECRET");
    // The plugin got them (echo printed them), but they never reach the message.
    CHECK(result.message == "-H *** --password ***");
    CHECK(def.probe->describe() == "echo -H *** --password ***");
  }

  SECTION("describe keeps the program name behind a placeholder directory, and is capped")
  {
    ::setenv("HB_CMD_TEST_DIR", "/usr/lib/nagios/plugins", 1);
    const CheckDef def = parse_check(command_spec({"${HB_CMD_TEST_DIR}/check_dummy", "0"}));
    ::unsetenv("HB_CMD_TEST_DIR");
    CHECK(def.probe->describe() == "check_dummy 0");

    const CheckDef long_def = parse_check(command_spec({"/bin/echo", std::string(300, 'a')}));
    const std::string description = long_def.probe->describe();
    CHECK(description.size() == 120);
    CHECK(description.substr(0, 6) == "echo a");
    CHECK(description.substr(117) == "...");
  }
}

TEST_CASE("command check: config errors")
{
  SECTION("a command string is refused: no shell")
  {
    CHECK(config_error(command_spec("check_disk -w 10%")) ==
          R"(heartbeat.json: checks[0].command: command must be an argv array like )"
          R"(["/usr/lib/nagios/plugins/check_disk", "-w", "10%"]; heartbeat never runs a shell)");
  }

  SECTION("an empty array")
  {
    CHECK(config_error(command_spec(json::array())) ==
          R"(heartbeat.json: checks[0].command: expected a non-empty argv array like )"
          R"(["/usr/lib/nagios/plugins/check_disk", "-w", "10%"], got [])");
  }

  SECTION("a non-string element")
  {
    CHECK(config_error(command_spec({"/bin/echo", 5})) ==
          "heartbeat.json: checks[0].command[1]: expected a string, got 5");
  }

  SECTION("neither string nor array")
  {
    CHECK(config_error(command_spec(42)) ==
          R"(heartbeat.json: checks[0].command: expected an argv array like )"
          R"(["/usr/lib/nagios/plugins/check_disk", "-w", "10%"], got 42)");
  }

  SECTION("a missing command")
  {
    CHECK(config_error(json{{"name", "cmd"}, {"type", "command"}}) ==
          R"(heartbeat.json: checks[0]: missing "command" (an argv array like )"
          R"(["/usr/lib/nagios/plugins/check_disk", "-w", "10%"]))");
  }

  SECTION("an empty program")
  {
    CHECK(config_error(command_spec({""})) ==
          R"(heartbeat.json: checks[0].command[0]: expected a program path like )"
          R"("/usr/lib/nagios/plugins/check_disk", got "")");
  }

  SECTION("an unknown key")
  {
    json spec = command_spec({"/bin/true"});
    spec["workingdir"] = "/tmp";
    CHECK(
        config_error(spec) ==
        R"(heartbeat.json: checks[0].workingdir: unknown key "workingdir" (did you mean "working_dir"?))");
  }

  SECTION("env of the wrong type")
  {
    json spec = command_spec({"/bin/true"});
    spec["env"] = "LC_ALL=C";
    CHECK(config_error(spec) ==
          R"(heartbeat.json: checks[0].env: expected an object of environment variables )"
          R"(like {"LC_ALL": "C"}, got "LC_ALL=C")");
    spec["env"] = {{"LC_ALL", 1}};
    CHECK(config_error(spec) == "heartbeat.json: checks[0].env.LC_ALL: expected a string, got 1");
  }

  SECTION("working_dir of the wrong type")
  {
    json spec = command_spec({"/bin/true"});
    spec["working_dir"] = true;
    CHECK(config_error(spec) ==
          "heartbeat.json: checks[0].working_dir: expected a directory path, got true");
  }

  SECTION("an unset secret in an argument")
  {
    ::unsetenv("HB_CMD_TEST_UNSET");
    CHECK(
        config_error(command_spec({"/bin/echo", "${HB_CMD_TEST_UNSET}"})) ==
        R"(heartbeat.json: checks[0].command[1]: environment variable "HB_CMD_TEST_UNSET" is not set)");
  }
}
