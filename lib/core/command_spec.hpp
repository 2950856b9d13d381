// SPDX-License-Identifier: MIT
#pragma once

#include "core/config_node.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hb {

// A program to run as configured by the keys `command` (an argv array: heartbeat never runs a
// shell), `env` and `working_dir`; used by command checks and scheduled tasks.
struct CommandSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string working_dir;
  // The argv for people and the database, shell-quoted (util::shell_quote): the program's base
  // name, then the arguments, with every value that came from a secret ({"env"}, {"file"} or a
  // "${...}" placeholder) and every value of a --password/--token-like option as "***".
  std::string description;
  // The resolved values that description hides (secret arguments, env values and working_dir,
  // secret option values), for a util::Redactor over what the program prints.
  std::vector<std::string> secrets;
};

// Reads `command`, `env` and `working_dir` of `spec`; `argv_example` is quoted in messages.
// Throws hb::ConfigError naming the file and JSON path.
CommandSpec parse_command(const ConfigNode& spec, std::string_view argv_example);

} // namespace hb
