// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace hb::checks {

// Metrics as JSON, the one form used in the database and in --json output:
// [{"name": "time", "value": 0.012, "unit": "s", "warn": "1", "crit": "2", "min": 0, "max": 10}];
// empty fields are left out.
nlohmann::json metrics_to_json(const std::vector<Metric>& metrics);

// Reads that form back; anything that is not such an array yields no metrics.
std::vector<Metric> metrics_from_json(const nlohmann::json& value);

} // namespace hb::checks
