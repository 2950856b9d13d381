// SPDX-License-Identifier: MIT
#include "config/schedules.hpp"

#include "config/readers.hpp"
#include "core/command_spec.hpp"

#include <fmt/format.h>

namespace hb::config {
namespace {

constexpr std::string_view k_task_argv_example = R"(["/usr/local/bin/send-report", "--daily"])";

} // namespace

Schedule parse_schedule(const ConfigNode& node, const TargetDefaults& defaults)
{
  node.expect_object();
  node.reject_unknown_keys({"name", "cron", "timezone", "command", "env", "working_dir",
                            "enabled", "timeout", "retries", "retry_backoff",
                            "retry_backoff_max", "catch_up", "target"});
  Schedule schedule;
  schedule.source = node.where();

  auto name = node["name"];
  if (name.is_null()) {
    node.fail_message("missing \"name\"");
  }
  if (!name.is_string() || !is_valid_target_id(name.raw().get<std::string>())) {
    name.fail("a name of lowercase letters, digits, '_', '.' or '-' like \"weekly-report\"");
  }
  schedule.name = name.raw().get<std::string>();

  auto cron = node["cron"];
  if (cron.is_null()) {
    node.fail_message("missing \"cron\" (a cron expression like \"0 9 * * 1\")");
  }
  if (!cron.is_string()) {
    cron.fail("a cron expression like \"0 9 * * 1\"");
  }
  std::string error;
  auto parsed = schedule::CronExpr::parse(cron.raw().get<std::string>(), error);
  if (!parsed) {
    cron.fail_message(error);
  }
  schedule.cron = std::make_shared<const schedule::CronExpr>(std::move(*parsed));

  schedule.timezone =
    node["timezone"].is_null() ? defaults.timezone : parse_timezone(node["timezone"]);
  CommandSpec command = parse_command(node, k_task_argv_example);
  schedule.command = std::move(command.argv);
  schedule.env = std::move(command.env);
  schedule.working_dir = std::move(command.working_dir);
  schedule.description = std::move(command.description);
  schedule.enabled = node.get_bool("enabled", schedule.enabled);
  schedule.timeout = positive_duration(node, "timeout", schedule.timeout, "10m");
  schedule.retries = static_cast<int>(node.get_int("retries", schedule.retries, 0, 100));
  schedule.retry_backoff = positive_duration(node, "retry_backoff", schedule.retry_backoff, "1m");
  schedule.retry_backoff_max =
    positive_duration(node, "retry_backoff_max", schedule.retry_backoff_max, "1h");
  if (schedule.retry_backoff_max < schedule.retry_backoff) {
    node["retry_backoff_max"].fail_message(
      fmt::format("retry_backoff_max must not be shorter than retry_backoff ({})",
                  node["retry_backoff"].is_null() ? std::string("1m")
                                                  : node["retry_backoff"].shown_value()));
  }
  schedule.catch_up = node.get_bool("catch_up", schedule.catch_up);
  if (auto target = node["target"]; !target.is_null()) {
    if (!target.is_string() || !is_valid_target_id(target.raw().get<std::string>())) {
      target.fail("a target id");
    }
    schedule.target = target.raw().get<std::string>();
  }
  return schedule;
}

} // namespace hb::config
