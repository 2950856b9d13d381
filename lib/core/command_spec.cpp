// SPDX-License-Identifier: MIT
#include "core/command_spec.hpp"

#include "util/redact.hpp"
#include "util/shell_quote.hpp"

#include <fmt/format.h>

namespace hb {
namespace {

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

} // namespace

CommandSpec parse_command(const ConfigNode& spec, std::string_view argv_example)
{
  const ConfigNode command = spec["command"];
  if (command.is_null()) {
    spec.fail_message(fmt::format("missing \"command\" (an argv array like {})", argv_example));
  }
  if (command.is_string()) {
    command.fail_message(fmt::format(
        "command must be an argv array like {}; heartbeat never runs a shell", argv_example));
  }
  if (!command.is_array()) {
    command.fail(fmt::format("an argv array like {}", argv_example));
  }
  const std::vector<ConfigNode> elements = command.elements();
  if (elements.empty()) {
    command.fail(fmt::format("a non-empty argv array like {}", argv_example));
  }

  std::vector<std::string> argv;
  std::vector<std::string> shown;
  std::vector<std::string> secrets;
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
      if (hidden) {
        secrets.push_back(arg);
      }
    } else {
      const bool hidden = is_secret(element.raw());
      shown.push_back(hidden ? "***" : arg);
      if (hidden) {
        secrets.push_back(arg);
      }
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
      if (is_secret(value.raw())) {
        secrets.push_back(env[name]);
      }
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
    if (is_secret(dir.raw())) {
      secrets.push_back(working_dir);
    }
  }

  CommandSpec out;
  util::MaskedArguments masked = util::mask_arguments(shown);
  out.description = util::shell_quote(masked.shown);
  // A value given literally after --password is as secret as one read from the environment, for
  // the config's redactor too.
  for (const auto& value : masked.hidden) {
    spec.note_secret(value);
  }
  secrets.insert(secrets.end(), masked.hidden.begin(), masked.hidden.end());
  out.secrets = std::move(secrets);
  out.argv = std::move(argv);
  out.env = std::move(env);
  out.working_dir = std::move(working_dir);
  return out;
}

} // namespace hb
