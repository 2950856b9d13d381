// SPDX-License-Identifier: MIT
#pragma once

#include "status/report.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

// Prints `report` as Markdown (GitHub-flavoured tables): a summary, a table of the targets, the
// incidents, and the notifications per channel. Cells are escaped (| and newlines) so that a
// message cannot break a table.
void print_report_markdown(const status::Report& report, std::ostream& out);

// The same report as JSON (docs/schema/hb-status-report.schema.json).
nlohmann::json report_to_json(const status::Report& report);

} // namespace hb::output
