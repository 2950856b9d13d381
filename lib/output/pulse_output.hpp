// SPDX-License-Identifier: MIT
#pragma once

#include "output/style.hpp"
#include "pulse/pulse.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

enum class Detail { normal, verbose };

// The pulse summary for people: one line per target run (and, verbose, per target skipped),
// failing checks beneath, then a totals line.
void print_pulse(const pulse::PulseReport& report, std::ostream& out, const Style& style,
                 Detail detail);

// The seeds' pulse response: success, pulse, processed, details[], heartbeat{timestamp,
// nextExpected}; documented in docs/operations.md.
nlohmann::json pulse_to_json(const pulse::PulseReport& report);

} // namespace hb::output
