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

// The tone of the system pulse: alive good, warning warn, error bad, unknown muted.
Tone pulse_tone(pulse::PulseState state);

// The cells of a target's row, for every printer of the overview:
// its state word ("healthy", "stale", "paused", "offline", ...) and tone,
std::string state_word(const status::TargetRow& row);
Tone state_tone(const status::TargetRow& row);
// "seen 42s ago", "started 3h ago", or the time since the last check run,
std::string last_cell(const status::TargetRow& row, TimePoint now);
// and its message: an agent's missed beats and last metrics before anything else.
std::string row_message(const status::TargetRow& row);

// The documented, stable JSON schemas (docs/operations.md, "hb-status --json").
nlohmann::json status_to_json(const status::StatusReport& report);
nlohmann::json target_to_json(const status::TargetDetail& detail);

} // namespace hb::output
