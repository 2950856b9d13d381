// SPDX-License-Identifier: MIT
#include "checks/registry.hpp"

#include "checks/command_check.hpp"
#include "checks/file_check.hpp"
#include "checks/http_check.hpp"
#include "checks/tcp_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <regex>

namespace hb::checks {

CheckStatus failure_status(Severity severity)
{
  return severity == Severity::warning ? CheckStatus::warning : CheckStatus::alert;
}

const Registry& Registry::builtin()
{
  static const Registry k_builtin = [] {
    Registry r;
    r.add(http_check_type());
    r.add(tcp_check_type());
    r.add(command_check_type());
    r.add(file_check_type());
    return r;
  }();
  return k_builtin;
}

void Registry::add(CheckType type)
{
  m_types.erase(std::remove_if(m_types.begin(), m_types.end(),
                               [&](const CheckType& t) { return t.name == type.name; }),
                m_types.end());
  m_types.push_back(std::move(type));
}

const CheckType* Registry::find(std::string_view name) const
{
  for (const auto& type : m_types) {
    if (type.name == name) {
      return &type;
    }
  }
  return nullptr;
}

std::vector<std::string_view> Registry::names() const
{
  std::vector<std::string_view> out;
  for (const auto& type : m_types) {
    out.push_back(type.name);
  }
  return out;
}

CheckDef Registry::parse(const ConfigNode& spec) const
{
  spec.expect_object();
  CheckDef def;
  auto type_node = spec["type"];
  if (type_node.is_null()) {
    spec.fail_message(fmt::format("missing \"type\" (one of: {})", fmt::join(names(), ", ")));
  }
  if (!type_node.is_string()) {
    type_node.fail(fmt::format("one of {}", fmt::join(names(), ", ")));
  }
  def.type = type_node.raw().get<std::string>();
  const CheckType* type = find(def.type);
  if (type == nullptr) {
    const std::string suggestion = closest_match(def.type, names());
    type_node.fail_message(fmt::format("unknown check type {}{} (known types: {})",
                                       type_node.shown_value(),
                                       suggestion.empty() ? ""
                                                          : fmt::format(" (did you mean \"{}\"?)",
                                                                        suggestion),
                                       fmt::join(names(), ", ")));
  }

  std::vector<std::string_view> allowed(std::begin(k_common_check_keys),
                                        std::end(k_common_check_keys));
  allowed.insert(allowed.end(), type->keys.begin(), type->keys.end());
  spec.reject_unknown_keys(allowed);

  auto name_node = spec["name"];
  if (name_node.is_null()) {
    spec.fail_message("missing \"name\"");
  }
  if (!name_node.is_string()) {
    name_node.fail("a check name like \"api-health\"");
  }
  def.name = name_node.raw().get<std::string>();
  static const std::regex k_name_pattern("[A-Za-z0-9_.:-]{1,100}");
  if (!std::regex_match(def.name, k_name_pattern)) {
    name_node.fail("a check name of letters, digits, '_', '.', ':' or '-' (at most 100)");
  }

  def.timeout = spec.get_duration("timeout", def.timeout);
  if (def.timeout <= Duration(0)) {
    spec["timeout"].fail("a positive duration like \"10s\"");
  }
  if (auto severity = spec["severity"]; !severity.is_null()) {
    auto parsed = severity.is_string() ? parse_severity(severity.raw().get<std::string>())
                                       : std::nullopt;
    if (!parsed) {
      severity.fail("\"warning\" or \"alert\"");
    }
    def.severity = *parsed;
  }
  def.confirm = static_cast<int>(spec.get_int("confirm", 1, 1, 1000));
  def.recover_after = static_cast<int>(spec.get_int("recover_after", 1, 1, 1000));

  CommonSettings common{def.timeout, def.severity};
  def.probe = type->create(spec, common);
  return def;
}

} // namespace hb::checks
