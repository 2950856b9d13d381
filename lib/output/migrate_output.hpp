// SPDX-License-Identifier: MIT
#pragma once

#include "store/copy.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

// hb-migrate's summary: "copied N rows from A to B in 1.2s", then one line per table that had
// rows (every table when `all_tables`).
void print_copy(const store::CopyReport& report, std::ostream& out, bool all_tables);

// hb-migrate --json: {"schema","from","to","schemaVersion","rows","tables":{name:rows},"tookMs"}
// (docs/schema/hb-migrate.schema.json).
nlohmann::json copy_to_json(const store::CopyReport& report);

} // namespace hb::output
