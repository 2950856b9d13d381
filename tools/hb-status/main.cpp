// SPDX-License-Identifier: MIT
// hb-status: shows where everything stands; also a Nagios-style plugin through its exit code.
#include "common/cli.hpp"

#include "agents/beats.hpp"
#include "core/clock.hpp"
#include "output/events.hpp"
#include "output/status_output.hpp"
#include "status/status.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Show the system pulse, every target's state, or one target in depth.

Examples:
  hb-status                 the pulse, counts and one row per target
  hb-status api             one target: each check's last result, recent runs, events
  hb-status --json          the same as JSON (schema in docs/operations.md)
  HB_NOW=2026-02-18T14:05:00Z hb-status   as seen at that instant

Exit codes follow the Nagios convention on the worst state shown: 0 all healthy, 1 warning,
2 failing or the pulse is stale/failed, 3 no data yet; 64 usage; 65 unknown target;
74 database error; 78 configuration error.)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-status");
  tools::CommonOptions options;
  std::string target;
  tools::add_common_options(app, options, tools::HasJson::yes);
  app.add_option("target", target, "Show this target in depth");

  return tools::run_tool(app, argc, argv, options, [&]() -> int {
    auto clock = clock_from_environment();
    const auto setup =
      tools::load_setup(options, tools::ConfigRequired::database_only, config::RunDiscovery::no);
    const auto now = clock->now();
    const output::Style style(tools::use_color(options));

    auto store = tools::open_database(setup, store::OpenMode::existing);
    if (!store) {
      const std::string why =
        fmt::format("no data yet: database {} does not exist (has hb-pulse run?)", setup.database);
      if (!target.empty()) {
        throw DataError(fmt::format("unknown target \"{}\": {}", target, why));
      }
      if (options.json) {
        status::StatusReport empty;
        empty.now = now;
        empty.database = setup.database;
        empty.pulse.reason = why;
        std::cout << output::status_to_json(empty).dump(2) << '\n';
      } else if (!options.quiet) {
        std::cout << "pulse: unknown  " << why << '\n';
      }
      return static_cast<int>(ExitCode::unknown);
    }

    // Record what silence has changed for agents and jobs (SPEC §2: every tool run does). The
    // view below derives the same states, so a read-only database only loses the events.
    try {
      for (const auto& write : agents::refresh_all(*store, now)) {
        for (const auto& e : write.events) {
          util::log_info(output::event_line(e));
        }
      }
    } catch (const Error& e) {
      util::log_debug(fmt::format("agent states not recorded: {}", e.what()));
    }
    if (!target.empty()) {
      const auto detail = status::collect_target(*store, target, now);
      if (!options.quiet) {
        if (options.json) {
          std::cout << output::target_to_json(detail).dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                    << '\n';
        } else {
          output::print_target(detail, std::cout, style);
        }
      }
      return static_cast<int>(detail.exit_code);
    }

    const auto report = status::collect(*store, now, setup.database);
    if (report.pulse.state == pulse::PulseState::warning
        || report.pulse.state == pulse::PulseState::error) {
      util::log_warning(fmt::format("system pulse is {}: {}", to_string(report.pulse.state),
                                    report.pulse.reason));
    }
    if (!options.quiet) {
      if (options.json) {
        std::cout << output::status_to_json(report).dump(
                       2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
      } else {
        output::print_status(report, std::cout, style);
      }
    }
    return static_cast<int>(report.exit_code);
  });
}
