// SPDX-License-Identifier: MIT
#pragma once

#include "diagnose/finding.hpp"
#include "output/style.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

// hb-diagnose for people: a summary line, the findings grouped by severity (most severe first),
// each with its evidence and recommendation wrapped to the terminal's width (80 columns when
// not a terminal: wrapped, never cut), then the database's figures.
void print_diagnosis(const diagnose::Diagnosis& diagnosis, std::ostream& out, const Style& style);

// hb-diagnose --json (schema: docs/schema/hb-diagnose.schema.json).
nlohmann::json diagnosis_to_json(const diagnose::Diagnosis& diagnosis);

} // namespace hb::output
