// SPDX-License-Identifier: MIT
#pragma once

// The health figures (score, uptime, incident figures) as hb-status prints them: cells of the
// table, the fleet's summary line, the incidents of one target, and JSON.

#include "health/figures.hpp"
#include "output/style.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace hb::output {

// excellent and good: good; fair and poor: warn; critical: bad.
Tone tone_of(health::Band band);

// "92 excellent", or "-" without a score.
std::string score_cell(const std::optional<health::Score>& score, const Style& style);

// "99.9%" (one decimal; "100%" only when nothing was down), or "-" without observations.
std::string uptime_text(const std::optional<double>& uptime);

// "health: 87.5 excellent; uptime 99.2% 24h, 99.8% 7d, 99.9% 30d" and, when there were
// incidents in the last 7 days, a second line with their figures.
void print_figures_summary(const health::Figures& figures, std::ostream& out, const Style& style);

// One target's incidents (oldest first) with their detection and repair times.
void print_incidents(const std::vector<health::IncidentTimeline>& incidents, TimePoint now,
                     std::ostream& out);

// A duration as people read it: rounded to the nearest second from a minute up ("4h", not
// "3h 59m" for 3h 59m 59.998s), to the millisecond below.
std::string human_duration(Duration d);

nlohmann::json figures_json(const health::Figures& figures);
// The incident figures of a window (count, MTTD, MTTR, ...), as figures_json nests them.
nlohmann::json incident_figures_json(const health::IncidentFigures& figures);
nlohmann::json incident_json(const health::IncidentTimeline& incident);

} // namespace hb::output
