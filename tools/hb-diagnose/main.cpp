// SPDX-License-Identifier: MIT
// hb-diagnose: explains why something is failing and what to do about it; reads, never writes.
#include "common/cli.hpp"

#include "core/clock.hpp"
#include "diagnose/diagnose.hpp"
#include "output/diagnose_output.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Explain why something is failing and what to do about it.

Reads the database and the config (never writes either) and reports findings, most severe
first, each with its evidence and a recommendation: the scheduler not running hb-pulse or
hb-recover, failing checks grouped by cause (timeouts, HTTP 429, 5xx, DNS, TLS, connection
refused, plugin exits, the pulse deadline), a latency anomaly against the target's own 7-day
baseline, flapping, several targets failing on one dependency, recovery that does not help,
open escalations, channels that keep failing, configuration problems (a missing program or
secret, an invalid config), and the database's health. Every finding id: docs/diagnose.md.

Examples:
  hb-diagnose                     everything, over the last 24 hours
  hb-diagnose api --window 7d     one target, over a week
  hb-diagnose --severity warning  leave out info findings
  hb-diagnose --json              as JSON (schema: docs/schema/hb-diagnose.schema.json)
  hb-diagnose --integrity         also run the integrity check on a large database

Exit status:
  0         no finding at or above --severity
  1         warnings
  2         critical findings
  64        usage error
  65        an unknown target
  74        database error)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-diagnose");
  tools::CommonOptions options;
  tools::add_common_options(app, options, tools::HasJson::yes);
  std::string target;
  app.add_option("target", target, "Diagnose this target only");
  std::string window_text = "24h";
  app.add_option("--window", window_text, "How far back to look (default 24h)")
    ->type_name("DURATION");
  std::string severity_text = "info";
  app.add_option("--severity", severity_text,
                 "Show findings at or above this level: info (default), warning or critical")
    ->type_name("LEVEL");
  bool integrity = false;
  app.add_flag("--integrity", integrity,
               "Run the database's integrity check even on a large file (it reads every page; "
               "files up to 16 MiB are always checked)");

  return tools::run_tool(app, argc, argv, options, [&]() -> int {
    const auto window = util::parse_duration(window_text);
    if (!window || *window <= Duration(0)) {
      throw UsageError(fmt::format("--window: expected a positive duration like \"24h\", got "
                                   "\"{}\"",
                                   window_text));
    }
    const auto threshold = diagnose::parse_level(severity_text);
    if (!threshold) {
      throw UsageError(fmt::format("--severity: expected info, warning or critical, got \"{}\"",
                                   severity_text));
    }
    auto clock = clock_from_environment();
    const auto setup =
      tools::load_setup(options, tools::ConfigRequired::if_valid, config::RunDiscovery::no);
    auto store = tools::open_database(setup, store::OpenMode::read_only);

    diagnose::Inputs inputs;
    inputs.store = store.get();
    inputs.config = setup.config ? &*setup.config : nullptr;
    inputs.config_file = setup.config_file;
    inputs.config_error = setup.config_error;
    inputs.database = setup.database_shown;
    inputs.now = clock->now();
    inputs.window = *window;
    inputs.target = target;
    inputs.threshold = *threshold;
    inputs.integrity = integrity ? store::CheckIntegrity::yes : store::CheckIntegrity::no;
    const auto diagnosis = diagnose::diagnose(inputs);

    if (!options.quiet) {
      if (options.json) {
        tools::print_json(output::diagnosis_to_json(diagnosis));
      } else {
        const output::Style style(tools::use_color(options), tools::terminal_width());
        output::print_diagnosis(diagnosis, std::cout, style);
      }
    }
    return static_cast<int>(diagnosis.exit_code);
  });
}
