// SPDX-License-Identifier: MIT
#include "checks/metric_json.hpp"

#include <optional>
#include <string>

namespace hb::checks {

nlohmann::json metrics_to_json(const std::vector<Metric>& metrics)
{
  auto out = nlohmann::json::array();
  for (const auto& m : metrics) {
    nlohmann::json item{{"name", m.name}, {"value", m.value}};
    if (!m.unit.empty()) {
      item["unit"] = m.unit;
    }
    if (!m.warn.empty()) {
      item["warn"] = m.warn;
    }
    if (!m.crit.empty()) {
      item["crit"] = m.crit;
    }
    if (m.min) {
      item["min"] = *m.min;
    }
    if (m.max) {
      item["max"] = *m.max;
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<Metric> metrics_from_json(const nlohmann::json& parsed)
{
  std::vector<Metric> out;
  if (!parsed.is_array()) {
    return out;
  }
  auto text = [](const nlohmann::json& item, const char* key) {
    auto it = item.find(key);
    return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [](const nlohmann::json& item, const char* key) -> std::optional<double> {
    auto it = item.find(key);
    return it != item.end() && it->is_number() ? std::optional<double>(it->get<double>())
                                               : std::nullopt;
  };
  for (const auto& item : parsed) {
    if (!item.is_object()) {
      continue;
    }
    Metric m;
    m.name = text(item, "name");
    m.value = number(item, "value").value_or(0.0);
    m.unit = text(item, "unit");
    m.warn = text(item, "warn");
    m.crit = text(item, "crit");
    m.min = number(item, "min");
    m.max = number(item, "max");
    out.push_back(std::move(m));
  }
  return out;
}

} // namespace hb::checks
