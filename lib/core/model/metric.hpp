// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

namespace hb {

// One number reported by a check or a beat, e.g. parsed from Nagios performance data
// ('label'=value[UOM];warn;crit;min;max). Thresholds are kept as the plugin wrote them.
struct Metric {
  std::string name;
  double value = 0;
  std::string unit;
  std::string warn;
  std::string crit;
  std::optional<double> min;
  std::optional<double> max;
};

} // namespace hb
