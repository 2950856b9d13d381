// SPDX-License-Identifier: MIT
#include "checks/command_check.hpp"

#include "checks/perfdata.hpp"
#include "util/duration.hpp"
#include "util/process.hpp"

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
               std::string working_dir, std::string description)
      : m_argv(std::move(argv))
      , m_env(std::move(env))
      , m_working_dir(std::move(working_dir))
      , m_description(std::move(description))
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
    const util::ProcessResult process = util::run_process(spec);

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

private:
  std::vector<std::string> m_argv;
  std::map<std::string, std::string> m_env;
  std::string m_working_dir;
  std::string m_description;
};

// A value read through a secret ({"env": ...}, {"file": ...} or a "${...}" placeholder) must not
// appear in descriptions, which are stored and printed.
bool is_secret(const nlohmann::json& raw)
{
  return raw.is_object() ||
         (raw.is_string() && raw.get_ref<const std::string&>().find("${") != std::string::npos);
}

std::string basename_of(const std::string& path)
{
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::unique_ptr<Check> create_command_check(const ConfigNode& spec, const CommonSettings&)
{
  const ConfigNode command = spec["command"];
  if (command.is_null()) {
    spec.fail_message(fmt::format("missing \"command\" (an argv array like {})", k_argv_example));
  }
  if (command.is_string()) {
    command.fail_message(fmt::format(
        "command must be an argv array like {}; heartbeat never runs a shell", k_argv_example));
  }
  if (!command.is_array()) {
    command.fail(fmt::format("an argv array like {}", k_argv_example));
  }
  const std::vector<ConfigNode> elements = command.elements();
  if (elements.empty()) {
    command.fail(fmt::format("a non-empty argv array like {}", k_argv_example));
  }

  std::vector<std::string> argv;
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const ConfigNode& element = elements[i];
    if (!element.is_string() && !element.is_object()) {
      element.fail("a string");
    }
    std::string arg = element.as_string();
    if (i == 0) {
      if (arg.empty()) {
        element.fail("a program path like \"/usr/lib/nagios/plugins/check_disk\"");
      }
      // A placeholder in the directory part ("${PLUGINS}/check_disk") hides nothing secret in
      // the program's name, so the name is shown unless it came from a secret itself.
      const bool hidden =
          element.is_object() ||
          basename_of(element.raw().get<std::string>()).find("${") != std::string::npos;
      shown.push_back(hidden ? "***" : basename_of(arg));
    } else {
      shown.push_back(is_secret(element.raw()) ? "***" : arg);
    }
    argv.push_back(std::move(arg));
  }

  std::map<std::string, std::string> env;
  if (const ConfigNode env_node = spec["env"]; !env_node.is_null()) {
    if (!env_node.is_object()) {
      env_node.fail("an object of environment variables like {\"LC_ALL\": \"C\"}");
    }
    for (const auto& [name, value] : env_node.members()) {
      if (name.empty() || name.find('=') != std::string::npos) {
        value.fail_message(fmt::format(
            "invalid environment variable name \"{}\" (empty or containing '=')", name));
      }
      if (!value.is_string() && !value.is_object()) {
        value.fail("a string");
      }
      env[name] = value.as_string();
    }
  }

  std::string working_dir;
  if (const ConfigNode dir = spec["working_dir"]; !dir.is_null()) {
    if (!dir.is_string() && !dir.is_object()) {
      dir.fail("a directory path");
    }
    working_dir = dir.as_string();
    if (working_dir.empty()) {
      dir.fail("a directory path");
    }
  }

  std::string description;
  for (const auto& part : shown) {
    if (!description.empty()) {
      description += ' ';
    }
    description += part;
  }
  description = truncate_utf8(sanitize_text(description, KeepNewlines::no), k_max_description);
  return std::make_unique<CommandCheck>(std::move(argv), std::move(env), std::move(working_dir),
                                        std::move(description));
}

} // namespace

CheckType command_check_type()
{
  return {"command", {"command", "env", "working_dir"}, &create_command_check};
}

} // namespace hb::checks
