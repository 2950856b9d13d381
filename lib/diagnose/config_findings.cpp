// SPDX-License-Identifier: MIT
// Findings about the configuration: why it does not load, programs that cannot run, targets
// that can never run, checks that outlive the pulse.
#include "diagnose/parts.hpp"
#include "health/windows.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace hb::diagnose::parts {
namespace {

// Why `program` cannot be run as the tools would run it ("" when it can): a path is used as it
// is, a bare name is looked up in PATH (as posix_spawnp does).
std::string why_not_runnable(const std::string& program)
{
  auto check = [](const std::string& path) -> std::string {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return "does not exist";
    }
    if (!S_ISREG(st.st_mode)) {
      return "is not a regular file";
    }
    if (::access(path.c_str(), X_OK) != 0) {
      return "is not executable (for this user)";
    }
    return "";
  };
  if (program.find('/') != std::string::npos) {
    return check(program);
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && check(dir + "/" + program).empty()) {
      return "";
    }
  }
  return fmt::format("is not found in PATH ({})", path != nullptr ? path : "");
}

struct Program {
  std::string program;
  std::string where;  // "target api, check disk"
  std::string target;
  std::string check;
};

void add_action(std::vector<Program>& out, const config::RecoveryAction& action,
                const std::string& target)
{
  if (!action.command.argv.empty()) {
    out.push_back({action.command.argv[0], action.source, target, ""});
  }
}

void add_actions(std::vector<Program>& out, const config::RecoveryActions& actions,
                 const std::string& target)
{
  for (const auto& [issue, action] : actions.issues) {
    add_action(out, action, target);
  }
  for (const auto& [name, action] : actions.checks) {
    add_action(out, action, target);
  }
  for (const auto& [phase, action] : actions.phases) {
    add_action(out, action, target);
  }
}

std::vector<Program> programs_of(const config::Config& config)
{
  std::vector<Program> out;
  for (const config::Target& target : config.targets) {
    if (target.paused) {
      continue;
    }
    for (const checks::CheckDef& check : target.checks) {
      if (check.probe && !check.probe->program().empty()) {
        out.push_back({check.probe->program(),
                       fmt::format("{}, check \"{}\"", target.source, check.name), target.id,
                       check.name});
      }
    }
    add_actions(out, target.recovery.actions, target.id);
  }
  for (const config::Schedule& schedule : config.schedules) {
    if (!schedule.command.empty()) {
      out.push_back({schedule.command[0], schedule.source, schedule.target, ""});
    }
  }
  add_actions(out, config.recovery.actions, "");
  if (config.recovery.escalation_command) {
    add_action(out, *config.recovery.escalation_command, "");
  }
  for (const config::Channel& channel : config.channels) {
    if (!channel.command.empty()) {
      out.push_back({channel.command[0], channel.source, "", ""});
    }
  }
  return out;
}

// Whether some run of a pulse every `interval` (aligned to the interval, as cron's */N is) in
// the week before `now` falls inside `hours`.
bool ever_active(const ActiveHours& hours, const std::string& timezone, Duration interval,
                 TimePoint now)
{
  const auto step = std::max<Duration::rep>(60'000, interval.count());
  const auto start = (util::to_unix_ms(now) / step) * step;
  for (auto t = start; t > start - 8LL * 86'400'000; t -= step) {
    if (health::within_active_hours(hours, timezone, util::from_unix_ms(t))) {
      return true;
    }
  }
  return false;
}

} // namespace

void configuration(const Inputs& inputs, Findings& out)
{
  if (!inputs.config_error.empty()) {
    static const std::regex unset(R"re(environment variable "([^"]+)" is not set|"\$\{([^}]+)\}" is neither)re");
    std::smatch match;
    if (std::regex_search(inputs.config_error, match, unset)) {
      const std::string name = match[1].matched ? match[1].str() : match[2].str();
      out.push_back({"config.secret_missing", Level::critical, "", "",
                     fmt::format("The config needs environment variable {}, which is not set",
                                 name),
                     {inputs.config_error},
                     fmt::format(
                       "Set {0} where the tools run: in the systemd unit (Environment= or "
                       "EnvironmentFile=), in the crontab line, or in the CronJob's env; or give "
                       "it as {{\"file\": \"/etc/heartbeat/{0}\"}}. No tool can load the config "
                       "until then.",
                       name)});
    } else {
      out.push_back({"config.invalid", Level::critical, "", "",
                     "The config does not load: every tool that needs it exits 78",
                     {inputs.config_error},
                     "Fix the file at the place the message names; `hb-pulse --dry-run` "
                     "checks it without running anything."});
    }
    return;
  }
  if (inputs.config == nullptr) {
    return;
  }
  const config::Config& config = *inputs.config;
  for (const Program& program : programs_of(config)) {
    if (!inputs.target.empty() && program.target != inputs.target) {
      continue;
    }
    const std::string why = why_not_runnable(program.program);
    if (why.empty()) {
      continue;
    }
    const std::string name = config.redactor.redact(program.program);
    out.push_back({"config.command_missing", Level::critical, program.target, program.check,
                   fmt::format("{} {}: {}", name, why, program.where),
                   {fmt::format("program \"{}\" {}", name, why),
                    fmt::format("configured at {}", program.where)},
                   "Install the program (Nagios plugins: apt install monitoring-plugins) or "
                   "correct the path; use an absolute path, since cron and systemd run with a "
                   "short PATH."});
  }
  for (const config::Target& target : config.targets) {
    if (target.paused || (!inputs.target.empty() && target.id != inputs.target)) {
      continue;
    }
    for (const checks::CheckDef& check : target.checks) {
      if (check.timeout > config.pulse.deadline) {
        out.push_back({"config.timeout_over_deadline", Level::warning, target.id, check.name,
                       fmt::format("Check \"{}\" of {} may run longer than a whole pulse",
                                   check.name, target.id),
                       {fmt::format("timeout {} > pulse.deadline {}",
                                    util::format_duration(check.timeout),
                                    util::format_duration(config.pulse.deadline)),
                        fmt::format("configured at {}", target.source)},
                       "Lower the check's \"timeout\" below pulse.deadline, or raise the "
                       "deadline (and keep it below the scheduler's interval); otherwise the "
                       "pulse cuts it off and it fails as \"cut off\"."});
      }
    }
    if (target.active_hours && target.heartbeat == std::nullopt &&
        !ever_active(*target.active_hours, target.timezone, config.pulse.interval, inputs.now)) {
      out.push_back({"config.never_active", Level::warning, target.id, "",
                     fmt::format("Target {} can never run: no pulse falls inside its active hours",
                                 target.id),
                     {fmt::format("active hours {} ({}), pulse every {}",
                                  target.active_hours->text(), target.timezone,
                                  util::format_duration(config.pulse.interval)),
                      fmt::format("configured at {}", target.source)},
                     "Widen the active hours to at least one pulse interval, or align them "
                     "with the times the scheduler runs hb-pulse."});
    }
  }
}

} // namespace hb::diagnose::parts
