// SPDX-License-Identifier: MIT
#include "config/recovery.hpp"

#include "config/readers.hpp"
#include "core/errors.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace hb::config {
namespace {

constexpr std::string_view k_action_example = R"(["/usr/bin/systemctl", "restart", "api"])";

// The placeholders filled in when an action runs: reading them through these variables keeps
// them literal (a ${VAR} of the environment is resolved, and is a secret, as everywhere else).
const ConfigNode::Vars& placeholder_vars()
{
  static const ConfigNode::Vars k_vars{
    {"target.id", "${target.id}"},
    {"target.name", "${target.name}"},
    {"check.name", "${check.name}"},
    {"issue", "${issue}"},
  };
  return k_vars;
}

// An action: an argv array, or {"command": [...], "env": {...}, "working_dir": "...",
// "timeout": "2m"}.
RecoveryAction parse_action(const ConfigNode& node)
{
  RecoveryAction action;
  action.source = node.where();
  const ConfigNode with_placeholders = node.with_vars(&placeholder_vars(), "");
  if (node.is_array() || node.is_string()) {
    if (node.is_string()) {
      node.fail_message(fmt::format(
          "a recovery action must be an argv array like {}; heartbeat never runs a shell",
          k_action_example));
    }
    std::vector<std::string> argv;
    for (const auto& element : with_placeholders.elements()) {
      if (!element.is_string() && !element.is_object()) {
        element.fail("a string");
      }
      argv.push_back(element.as_string());
    }
    if (argv.empty() || argv.front().empty()) {
      node.fail(fmt::format("a non-empty argv array like {}", k_action_example));
    }
    action.command.argv = std::move(argv);
    return action;
  }
  if (!node.is_object()) {
    node.fail(fmt::format("an argv array like {} or an object with \"command\"",
                          k_action_example));
  }
  node.reject_unknown_keys({"command", "env", "working_dir", "timeout"});
  action.command = parse_command(with_placeholders, k_action_example);
  action.timeout = positive_duration(node, "timeout", action.timeout, "2m");
  return action;
}

std::optional<RecoveryIssue> issue_key(std::string_view key)
{
  return parse_recovery_issue(key);
}

constexpr std::string_view k_phases[] = {"dns",  "connect", "tls",      "http_status",
                                         "body", "timeout", "exit_code"};

RecoveryActions parse_actions(const ConfigNode& node)
{
  RecoveryActions actions;
  if (node.is_null()) {
    return actions;
  }
  if (!node.is_object()) {
    node.fail(R"(an object like {"failing": ["/usr/local/bin/restart-tenant", "${target.id}"]})");
  }
  node.reject_unknown_keys(
      {"stale", "failing", "high_error_rate", "offline", "checks", "phases"});
  for (const auto& [key, value] : node.members()) {
    if (key == "checks") {
      if (!value.is_object()) {
        value.fail(R"(an object of actions by check name like {"health": ["/usr/bin/systemctl", "restart", "api"]})");
      }
      for (const auto& [name, action] : value.members()) {
        actions.checks[name] = parse_action(action);
      }
    } else if (key == "phases") {
      if (!value.is_object()) {
        value.fail(R"(an object of actions by failure phase like {"timeout": ["/usr/local/bin/scale-up", "api"]})");
      }
      value.reject_unknown_keys(
          std::vector<std::string_view>(std::begin(k_phases), std::end(k_phases)));
      for (const auto& [phase, action] : value.members()) {
        actions.phases[phase] = parse_action(action);
      }
    } else if (const auto issue = issue_key(key)) {
      actions.issues[*issue] = parse_action(value);
    }
  }
  return actions;
}

double parse_rate(const ConfigNode& node, double fallback)
{
  if (node.is_null()) {
    return fallback;
  }
  if (!node.raw().is_number() || !std::isfinite(node.raw().get<double>())
      || node.raw().get<double>() < 0 || node.raw().get<double>() > 1) {
    node.fail("a failure rate between 0 and 1 like 0.5");
  }
  return node.raw().get<double>();
}

} // namespace

RecoverySettings parse_recovery(const ConfigNode& node, const Config& config)
{
  RecoverySettings settings;
  if (node.is_null()) {
    return settings;
  }
  if (!node.is_object()) {
    node.fail(R"(an object like {"enabled": true, "actions": {...}})");
  }
  node.reject_unknown_keys({"enabled", "interval", "concurrency", "max_failure_rate",
                            "failure_window", "min_executions", "verify_after", "backoff",
                            "backoff_max", "escalate_after", "max_attempts", "attempts_window",
                            "shared_cause_min", "escalation", "actions"});
  settings.enabled = node.get_bool("enabled", settings.enabled);
  settings.interval = positive_duration(node, "interval", settings.interval, "5m");
  settings.concurrency =
      static_cast<int>(node.get_int("concurrency", settings.concurrency, 1, 256));
  settings.max_failure_rate = parse_rate(node["max_failure_rate"], settings.max_failure_rate);
  settings.failure_window =
      positive_duration(node, "failure_window", settings.failure_window, "1h");
  settings.min_executions =
      static_cast<int>(node.get_int("min_executions", settings.min_executions, 1, 1'000'000));
  settings.verify_after = node.get_duration("verify_after", settings.verify_after);
  settings.backoff = positive_duration(node, "backoff", settings.backoff, "1m");
  settings.backoff_max = positive_duration(node, "backoff_max", settings.backoff_max, "30m");
  if (settings.backoff_max < settings.backoff) {
    node["backoff_max"].fail_message(
        fmt::format("backoff_max ({}) is shorter than backoff ({})",
                    util::format_duration(settings.backoff_max),
                    util::format_duration(settings.backoff)));
  }
  settings.escalate_after =
      static_cast<int>(node.get_int("escalate_after", settings.escalate_after, 1, 1000));
  settings.max_attempts =
      static_cast<int>(node.get_int("max_attempts", settings.max_attempts, 1, 1000));
  settings.attempts_window =
      positive_duration(node, "attempts_window", settings.attempts_window, "6h");
  settings.shared_cause_min =
      static_cast<int>(node.get_int("shared_cause_min", settings.shared_cause_min, 2, 100'000));
  if (auto escalation = node["escalation"]; !escalation.is_null()) {
    if (!escalation.is_object()) {
      escalation.fail(R"(an object like {"channels": ["pd"], "command": ["/usr/local/bin/dispatch-agent"]})");
    }
    escalation.reject_unknown_keys({"channels", "command"});
    if (auto channels = escalation["channels"]; !channels.is_null()) {
      if (!channels.is_array()) {
        channels.fail(R"(an array of channel names like ["pd", "ops-slack"])");
      }
      for (const auto& channel : channels.elements()) {
        if (!channel.is_string()) {
          channel.fail("a channel name");
        }
        const std::string name = channel.raw().get<std::string>();
        if (config.find_channel(name) == nullptr) {
          channel.fail_message(fmt::format("unknown channel \"{}\" (define it in \"channels\")",
                                           name));
        }
        if (std::find(settings.escalation_channels.begin(), settings.escalation_channels.end(),
                      name) == settings.escalation_channels.end()) {
          settings.escalation_channels.push_back(name);
        }
      }
    }
    if (auto command = escalation["command"]; !command.is_null()) {
      settings.escalation_command = parse_action(command);
    }
  }
  settings.actions = parse_actions(node["actions"]);
  return settings;
}

TargetRecovery parse_target_recovery(const ConfigNode& node)
{
  TargetRecovery recovery;
  if (node.is_null()) {
    return recovery;
  }
  if (!node.is_object()) {
    node.fail(R"(an object like {"enabled": false} or {"actions": {...}})");
  }
  node.reject_unknown_keys({"enabled", "verify_after", "actions"});
  recovery.enabled = node.get_bool("enabled", true);
  recovery.verify_after = node.find_duration("verify_after");
  recovery.actions = parse_actions(node["actions"]);
  return recovery;
}

} // namespace hb::config
