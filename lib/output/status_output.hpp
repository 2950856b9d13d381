// SPDX-License-Identifier: MIT
#pragma once

#include "output/style.hpp"
#include "status/status.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

// The overview: system pulse line, counts, one row per target.
void print_status(const status::StatusReport& report, std::ostream& out, const Style& style);
// hb-status TARGET: checks with their last result, recent executions, recent events.
void print_target(const status::TargetDetail& detail, std::ostream& out, const Style& style);

// The documented, stable JSON schemas (docs/operations.md, "hb-status --json").
nlohmann::json status_to_json(const status::StatusReport& report);
nlohmann::json target_to_json(const status::TargetDetail& detail);

} // namespace hb::output
