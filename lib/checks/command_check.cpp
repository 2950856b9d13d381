// SPDX-License-Identifier: MIT
#include "checks/command_check.hpp"

#include "checks/perfdata.hpp"
#include "core/command_spec.hpp"
#include "util/duration.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

namespace hb::checks {
namespace {

constexpr std::size_t k_output_cap = 64 * 1024;
constexpr std::size_t k_max_description = 120;
// Plugins normally die at once on SIGTERM; a short grace keeps a cut-off pulse prompt.
constexpr Duration k_kill_grace{1000};
constexpr std::string_view k_argv_example =
    R"(["/usr/lib/nagios/plugins/check_disk", "-w", "10%"])";

// Runs a Nagios-style plugin: exit code 0/1/2/3 becomes ok/warning/alert/error, the first output
// line the message, the performance data the metrics. The plugin decides the status: a CRITICAL
// is `alert` even when the check's severity is `warning`, because the plugin has its own
// warning threshold to express "warning".
class CommandCheck final : public Check {
public:
  CommandCheck(std::vector<std::string> argv, std::map<std::string, std::string> env,
               std::string working_dir, std::string description, util::Redactor redactor)
      : m_argv(std::move(argv))
      , m_env(std::move(env))
      , m_working_dir(std::move(working_dir))
      , m_description(std::move(description))
      , m_redactor(std::move(redactor))
  {
  }

  CheckResult run(const CheckContext& context) const override
  {
    util::ProcessSpec spec;
    spec.argv = m_argv;
    spec.env = m_env;
    spec.working_dir = m_working_dir;
    spec.timeout = context.timeout;
    spec.cancel = &context.cancel;
    spec.output_cap = k_output_cap;
    spec.kill_grace = k_kill_grace;
    // Plugins write to stdout; stderr is merged to catch crash messages and usage errors.
    spec.stderr_mode = util::ProcessSpec::Stderr::merge;
    util::ProcessResult process = util::run_process(spec);
    // A plugin may print what it was given (a token in a usage error, a password in a
    // connection string): secrets never reach the message, the metrics or the database.
    process.output = m_redactor.redact(std::move(process.output));
    process.error = m_redactor.redact(std::move(process.error));

    CheckResult result;
    result.status = CheckStatus::error;
    result.latency = process.elapsed;
    switch (process.end) {
    case util::ProcessResult::End::spawn_failed:
      result.message = process.error;
      result.phase = "spawn";
      return result;
    case util::ProcessResult::End::timed_out:
      result.message = fmt::format("timed out after {}", util::format_duration(context.timeout));
      result.phase = "timeout";
      return result;
    case util::ProcessResult::End::cancelled:
      result.message = "cut off: pulse deadline or shutdown";
      result.phase = "cancelled";
      return result;
    case util::ProcessResult::End::signaled:
      result.message = fmt::format("killed by signal {}", process.term_signal);
      result.phase = "signal";
      return result;
    case util::ProcessResult::End::exited:
      break;
    }

    PluginOutput output = parse_plugin_output(process.output);
    result.metrics = std::move(output.metrics);
    const int code = process.exit_code;
    const std::string& summary = output.summary;
    switch (code) {
    case 0:
      result.status = CheckStatus::ok;
      break;
    case 1:
      result.status = CheckStatus::warning;
      break;
    case 2:
      result.status = CheckStatus::alert;
      break;
    case 3:
      result.status = CheckStatus::error;
      break;
    default:
      result.status = CheckStatus::error;
      result.message =
          summary.empty()
              ? fmt::format("plugin exited with out-of-range code {} and no output", code)
              : fmt::format("plugin exited with out-of-range code {}: {}", code, summary);
      break;
    }
    if (result.message.empty()) {
      result.message =
          summary.empty() ? fmt::format("plugin exited with code {} and no output", code) : summary;
    }
    if (code != 0) {
      result.phase = "exit_code";
    }
    return result;
  }

  std::string describe() const override { return m_description; }
  std::string program() const override { return m_argv.empty() ? std::string() : m_argv[0]; }

private:
  std::vector<std::string> m_argv;
  std::map<std::string, std::string> m_env;
  std::string m_working_dir;
  std::string m_description;
  util::Redactor m_redactor;
};

std::unique_ptr<Check> create_command_check(const ConfigNode& spec, const CommonSettings&)
{
  CommandSpec command = parse_command(spec, k_argv_example);
  const std::string description =
    truncate_utf8(sanitize_text(command.description, KeepNewlines::no), k_max_description);
  util::Redactor redactor(command.secrets);
  return std::make_unique<CommandCheck>(std::move(command.argv), std::move(command.env),
                                        std::move(command.working_dir), description,
                                        std::move(redactor));
}

} // namespace

CheckType command_check_type()
{
  return {"command", {"command", "env", "working_dir"}, &create_command_check};
}

} // namespace hb::checks
