// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"
#include "core/config_node.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hb::checks {

// Keys every check accepts, whatever its type.
inline constexpr std::string_view k_common_check_keys[] = {
  "name", "type", "timeout", "severity", "confirm", "recover_after",
};

// Settings every check carries, handed to a factory for checks whose behaviour depends on them.
struct CommonSettings {
  Duration timeout{10'000};
  Severity severity = Severity::alert;
};

// Builds a probe from its config node, validating the type-specific keys (the common keys are
// validated by the caller). Throws hb::ConfigError naming the file and JSON path.
using CheckFactory = std::unique_ptr<Check> (*)(const ConfigNode& spec,
                                                 const CommonSettings& common);

// One check type: its name in config ("http"), the type-specific keys it accepts, its factory.
struct CheckType {
  std::string_view name;
  std::vector<std::string_view> keys;
  CheckFactory create;
};

// The table of check types. Adding a type means writing its class and adding one row to
// builtin() in registry.cpp; nothing else changes. Tests build their own registry with extra
// types (a check that throws, one that hangs).
class Registry {
public:
  // The built-in types: http, tcp, command, file.
  static const Registry& builtin();

  void add(CheckType type);
  // Returns the type called `name`, or nullptr.
  const CheckType* find(std::string_view name) const;
  std::vector<std::string_view> names() const;

  // Parses one check definition (common keys, then the type's own keys) into a CheckDef.
  // Throws hb::ConfigError with the node's location.
  CheckDef parse(const ConfigNode& spec) const;

private:
  std::vector<CheckType> m_types;
};

} // namespace hb::checks
