// SPDX-License-Identifier: MIT
// The `recovery` settings of the config, top-level and per target (lib/config/recovery.cpp).
#include "config/config.hpp"

#include "core/errors.hpp"
#include "support/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using hb::Duration;
using hb::RecoveryIssue;
using hb::config::Config;
using hb::config::LoadOptions;
using hb::config::RunDiscovery;
using hb::test::ScopedEnv;

Config load_text(const std::string& text)
{
  LoadOptions options;
  options.discovery = RunDiscovery::no;
  return hb::config::load_from_string(text, "heartbeat.json", options);
}

std::string error_of(const std::string& text)
{
  try {
    load_text(text);
  } catch (const hb::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// The contract of issue 13, as documented.
constexpr const char* k_contract = R"({
  "channels": {"pd": {"type": "dashboard"}, "ops-slack": {"type": "dashboard"}},
  "recovery": {
    "enabled": true,
    "concurrency": 5,
    "max_failure_rate": 0.5, "failure_window": "1h",
    "verify_after": "30s",
    "backoff": "1m", "backoff_max": "30m",
    "escalate_after": 2,
    "max_attempts": 5, "attempts_window": "6h",
    "shared_cause_min": 3,
    "escalation": { "channels": ["pd", "ops-slack"], "command": ["/usr/local/bin/dispatch-agent"] },
    "actions": {
      "stale":   ["/usr/bin/systemctl", "start", "${target.id}-sync.timer"],
      "failing": ["/usr/local/bin/restart-tenant", "${target.id}"]
    }
  },
  "targets": [
    { "id": "api", "recovery": {
        "actions": { "offline": ["/usr/bin/systemctl", "restart", "api"],
                     "checks": { "health": ["/usr/bin/systemctl", "restart", "api"] },
                     "phases": { "timeout": ["/usr/local/bin/scale-up", "api"] } },
        "verify_after": "10s" } },
    { "id": "legacy", "recovery": {"enabled": false} }
  ]
})";

} // namespace

TEST_CASE("config: the recovery contract of issue 13 is read as documented")
{
  const Config config = load_text(k_contract);
  const auto& r = config.recovery;
  CHECK(r.enabled);
  CHECK(r.concurrency == 5);
  CHECK(r.max_failure_rate == 0.5);
  CHECK(r.failure_window == Duration(3'600'000));
  CHECK(r.verify_after == Duration(30'000));
  CHECK(r.backoff == Duration(60'000));
  CHECK(r.backoff_max == Duration(1'800'000));
  CHECK(r.escalate_after == 2);
  CHECK(r.max_attempts == 5);
  CHECK(r.attempts_window == Duration(6 * 3'600'000));
  CHECK(r.shared_cause_min == 3);
  CHECK(r.escalation_channels == std::vector<std::string>{"pd", "ops-slack"});
  CHECK(config.notify.escalation_channels == r.escalation_channels);
  REQUIRE(r.escalation_command);
  CHECK(r.escalation_command->command.argv == std::vector<std::string>{"/usr/local/bin/dispatch-agent"});
  // Placeholders stay literal until the action runs.
  CHECK(r.actions.issues.at(RecoveryIssue::stale).command.argv ==
        std::vector<std::string>{"/usr/bin/systemctl", "start", "${target.id}-sync.timer"});
  CHECK(r.actions.issues.at(RecoveryIssue::failing).command.argv ==
        std::vector<std::string>{"/usr/local/bin/restart-tenant", "${target.id}"});
  CHECK(r.actions.issues.at(RecoveryIssue::failing).timeout == Duration(120'000));

  const auto* api = config.find_target("api");
  REQUIRE(api != nullptr);
  CHECK(api->recovery.enabled);
  CHECK(api->recovery.verify_after == Duration(10'000));
  CHECK(api->recovery.actions.issues.count(RecoveryIssue::offline) == 1);
  CHECK(api->recovery.actions.checks.count("health") == 1);
  CHECK(api->recovery.actions.phases.at("timeout").command.argv ==
        std::vector<std::string>{"/usr/local/bin/scale-up", "api"});
  CHECK_FALSE(config.find_target("legacy")->recovery.enabled);
}

TEST_CASE("config: recovery defaults without a recovery object")
{
  const Config config = load_text(R"({"targets": [{"id": "a"}]})");
  CHECK(config.recovery.enabled);
  CHECK(config.recovery.concurrency == 5);
  CHECK(config.recovery.escalate_after == 2);
  CHECK(config.recovery.max_attempts == 5);
  CHECK(config.recovery.interval == Duration(300'000));
  CHECK(config.recovery.actions.empty());
  CHECK(config.find_target("a")->recovery.enabled);
}

TEST_CASE("config: an action object takes env and timeout like a command check, and ${VAR} resolves")
{
  ScopedEnv token("HB_TEST_RECOVERY_TOKEN", "s3cret-token");
  const Config config = load_text(R"({"recovery": {"actions": {"failing": {
      "command": ["/bin/restart", "--token", "${HB_TEST_RECOVERY_TOKEN}", "${target.name}"],
      "env": {"MODE": "fast"}, "timeout": "5s"}}}})");
  const auto& action = config.recovery.actions.issues.at(RecoveryIssue::failing);
  CHECK(action.command.argv ==
        std::vector<std::string>{"/bin/restart", "--token", "s3cret-token", "${target.name}"});
  CHECK(action.command.env.at("MODE") == "fast");
  CHECK(action.timeout == Duration(5'000));
  CHECK(config.redactor.redact("said s3cret-token") == "said ***");
}

TEST_CASE("config: bad recovery settings name what and where")
{
  CHECK_THAT(error_of(R"({"recovery": {"actions": {"failing": "systemctl restart api"}}})"),
             Catch::Contains("recovery.actions.failing") && Catch::Contains("never runs a shell"));
  CHECK_THAT(error_of(R"({"recovery": {"actions": {"broken": ["/bin/true"]}}})"),
             Catch::Contains("recovery.actions") && Catch::Contains("broken"));
  CHECK_THAT(error_of(R"({"recovery": {"actions": {"phases": {"latency": ["/bin/true"]}}}})"),
             Catch::Contains("recovery.actions.phases") && Catch::Contains("latency"));
  CHECK_THAT(error_of(R"({"recovery": {"escalation": {"channels": ["nowhere"]}}})"),
             Catch::Contains("recovery.escalation.channels[0]") && Catch::Contains("unknown channel \"nowhere\""));
  CHECK_THAT(error_of(R"({"recovery": {"max_failure_rate": 1.5}})"),
             Catch::Contains("recovery.max_failure_rate") && Catch::Contains("between 0 and 1"));
  CHECK_THAT(error_of(R"({"recovery": {"backoff": "10m", "backoff_max": "1m"}})"),
             Catch::Contains("recovery.backoff_max") && Catch::Contains("shorter than backoff"));
  CHECK_THAT(error_of(R"({"recovery": {"concurrency": 0}})"), Catch::Contains("recovery.concurrency"));
  CHECK_THAT(error_of(R"({"recovery": {"escalate_afer": 2}})"), Catch::Contains("escalate_after"));
  CHECK_THAT(error_of(R"({"targets": [{"id": "a", "recovery": {"enabled": "no"}}]})"),
             Catch::Contains("targets[0].recovery.enabled"));
  CHECK_THAT(error_of(R"({"targets": [{"id": "a", "recovery": {"actions": {"failing": []}}}]})"),
             Catch::Contains("targets[0].recovery.actions.failing") && Catch::Contains("non-empty"));
}
