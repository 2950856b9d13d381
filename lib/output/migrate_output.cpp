// SPDX-License-Identifier: MIT
#include "output/migrate_output.hpp"

#include "util/duration.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

// docs/schema/hb-migrate.schema.json; changes only when a field changes meaning or disappears.
constexpr int k_migrate_json_schema = 1;

} // namespace

void print_copy(const store::CopyReport& report, std::ostream& out, bool all_tables)
{
  out << fmt::format("copied {} rows from {} to {} in {}\n", report.total(), report.from,
                     report.to, util::format_duration(report.took));
  for (const auto& t : report.tables) {
    if (t.rows > 0 || all_tables) {
      out << fmt::format("  {:<18} {:>10}\n", t.name, t.rows);
    }
  }
}

nlohmann::json copy_to_json(const store::CopyReport& report)
{
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& t : report.tables) {
    tables[t.name] = t.rows;
  }
  return {{"schema", k_migrate_json_schema},
          {"from", report.from},
          {"to", report.to},
          {"schemaVersion", report.schema_version},
          {"rows", report.total()},
          {"tables", std::move(tables)},
          {"tookMs", report.took.count()}};
}

} // namespace hb::output
