// SPDX-License-Identifier: MIT
// hb-status: shows where everything stands; also a Nagios-style plugin through its exit code.
#include "common/cli.hpp"

#include "core/clock.hpp"
#include "output/html_output.hpp"
#include "output/nagios_output.hpp"
#include "output/prometheus_output.hpp"
#include "output/report_output.hpp"
#include "output/status_output.hpp"
#include "status/dashboard.hpp"
#include "status/report.hpp"
#include "status/status.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Show the system pulse, every target's state, or one target in depth.

Examples:
  hb-status                 the pulse, counts, the fleet's health and one row per target with
                            its score, uptime over 24h and 30d (docs/health.md)
  hb-status api             one target: each check's last result, recent runs, events,
                            incidents of the last 7 days
  hb-status --all           also the retired targets (removed from the config)
  hb-status --json          the same as JSON (schema: docs/schema/hb-status.schema.json;
                            hb-status TARGET --json: docs/schema/hb-status-target.schema.json)
  hb-status --prometheus /var/lib/prometheus/node-exporter/heartbeat.prom
                            metrics for node_exporter's textfile collector, replaced atomically
                            (mode 0644); without FILE on stdout
  hb-status --html /var/www/html/heartbeat.html
                            a self-contained status page: the pulse, counts, every target with
                            its score, uptime, 24-hour strip and latency trend, incidents,
                            escalations, notifications; replaced atomically (mode 0644)
  hb-status --nagios        a Nagios/Icinga plugin: "HEARTBEAT OK - ... | perfdata", problems below
  hb-status --report --window 30d > report.md
                            a Markdown report: uptime, incidents, MTTD, MTTR, recovery success,
                            false positives, notifications sent and failed; with --json as JSON
  HB_NOW=2026-02-18T14:05:00Z hb-status   as seen at that instant

Exit status:
  0         all healthy (the Nagios convention, on the worst state shown)
  1         a warning
  2         failing, or the pulse is stale or failed
  3         no data yet
  64        usage error
  65        an unknown target
  74        database error
  78        configuration error
  --nagios  exits only 0-3: every error is 3, with "HEARTBEAT UNKNOWN - <reason>" on stdout
  --prometheus, --html
            0 once written (the state is in hb_status_exit_code), 74 when FILE cannot be
  --report  0 once printed)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-status");
  tools::CommonOptions options;
  std::string target;
  bool all = false;
  tools::add_common_options(app, options, tools::HasJson::yes);
  app.add_flag("--all", all,
               "Also list retired targets (removed from the config; never counted or alerted on)");
  app.add_option("target", target, "Show this target in depth");
  std::string metrics_file;
  CLI::Option* prometheus =
    app.add_option("--prometheus", metrics_file,
                   "Print the overview as Prometheus metrics, or write them to FILE atomically "
                   "(node_exporter textfile format)")
      ->type_name("[FILE]")
      ->expected(0, 1);
  std::string page_file;
  CLI::Option* html =
    app.add_option("--html", page_file,
                   "Write a self-contained HTML status page to FILE atomically (no network fetch: "
                   "inline CSS and SVG)")
      ->type_name("FILE");
  bool nagios = false;
  CLI::Option* nagios_flag =
    app.add_flag("--nagios", nagios,
                 "Print the overview as a Nagios plugin does: one status line with performance "
                 "data, exit 0-3");
  bool want_report = false;
  CLI::Option* report_flag =
    app.add_flag("--report", want_report,
                 "Print a Markdown (with --json: JSON) report of the window: uptime, incidents, MTTD, MTTR, recovery "
                 "success, false positives, notifications (docs/health.md)");
  std::string window_text = "7d";
  CLI::Option* window_option =
    app.add_option("--window", window_text, "The report's window, ending now (default 7d)")
      ->type_name("DURATION");
  window_option->needs(report_flag);
  report_flag->excludes(nagios_flag)->excludes(prometheus);
  prometheus->excludes(nagios_flag)->excludes("--json");
  html->excludes(prometheus)->excludes(nagios_flag)->excludes(report_flag)->excludes("--json");
  nagios_flag->excludes("--json")->excludes("--quiet");

  return tools::run_tool(app, argc, argv, options, [&]() -> int {
    const bool want_prometheus = prometheus->count() > 0;
    const bool want_html = html->count() > 0;
    if ((want_prometheus || nagios || want_html) && !target.empty()) {
      throw UsageError(fmt::format("{} shows the overview and takes no target (got \"{}\")",
                                   nagios ? "--nagios" : want_html ? "--html" : "--prometheus",
                                   target));
    }

    if (want_report && !target.empty()) {
      throw UsageError(fmt::format("--report covers every target and takes none (got \"{}\")",
                                   target));
    }
    const auto window = util::parse_duration(window_text);
    if (!window || *window <= Duration(0)) {
      throw UsageError(fmt::format("--window: expected a positive duration like \"7d\", got \"{}\"",
                                   window_text));
    }
    auto clock = clock_from_environment();
    const auto setup =
      tools::load_setup(options, tools::ConfigRequired::database_only, config::RunDiscovery::no);
    const auto now = clock->now();
    const output::Style style(tools::use_color(options), tools::terminal_width());
    // Every printer of the one report; --prometheus exits 0 once written, its state inside.
    auto print_report = [&](const status::StatusReport& report) -> int {
      if (nagios) {
        std::cout << output::status_to_nagios(report);
        return static_cast<int>(report.exit_code);
      }
      if (want_prometheus) {
        const std::string text = output::status_to_prometheus(report);
        if (!metrics_file.empty()) {
          output::write_metrics_file(metrics_file, text);
        } else if (!options.quiet) {
          std::cout << text;
        }
        return 0;
      }
      if (!options.quiet) {
        if (options.json) {
          tools::print_json(output::status_to_json(report));
        } else {
          output::print_status(report, std::cout, style);
        }
      }
      return static_cast<int>(report.exit_code);
    };

    auto store = tools::open_database(setup, store::OpenMode::existing);
    if (want_html) {
      status::Dashboard dashboard;
      if (store) {
        dashboard = status::collect_dashboard(*store, now, setup.database_shown);
        tools::warn_if_pulse_stale(dashboard.report.pulse);
      } else {
        dashboard.report.now = now;
        dashboard.report.database = setup.database_shown;
        dashboard.report.pulse.reason = fmt::format(
          "no data yet: database {} does not exist (has hb-pulse run?)", setup.database_shown);
      }
      output::write_page_file(page_file, output::status_to_html(dashboard));
      return 0;
    }
    if (want_report) {
      // Without a database nothing happened in the window: an empty report, not an error.
      status::Report report;
      if (store) {
        report = status::collect_report(*store, now, *window);
      } else {
        report.now = now;
        report.window = *window;
        report.since = now - *window;
      }
      if (options.json) {
        tools::print_json(output::report_to_json(report));
      } else {
        output::print_report_markdown(report, std::cout);
      }
      return 0;
    }
    if (!store) {
      const std::string why =
        fmt::format("no data yet: database {} does not exist (has hb-pulse run?)", setup.database_shown);
      if (!target.empty()) {
        throw DataError(fmt::format("unknown target \"{}\": {}", target, why));
      }
      if (nagios) {
        std::cout << output::nagios_unknown(why);
        return static_cast<int>(ExitCode::unknown);
      }
      if (options.json || want_prometheus) {
        status::StatusReport empty;
        empty.now = now;
        empty.database = setup.database_shown;
        empty.pulse.reason = why;
        return print_report(empty);
      }
      if (!options.quiet) {
        std::cout << "pulse: unknown  " << why << '\n';
      }
      return static_cast<int>(ExitCode::unknown);
    }

    // Read-only (SPEC §4.4): agent and job states that silence has changed are derived in memory
    // for display; hb-pulse and hb-beat record the transitions.
    if (!target.empty()) {
      const auto detail = status::collect_target(*store, target, now);
      tools::warn_if_pulse_stale(*store, now);
      if (!options.quiet) {
        if (options.json) {
          tools::print_json(output::target_to_json(detail));
        } else {
          output::print_target(detail, std::cout, style);
        }
      }
      return static_cast<int>(detail.exit_code);
    }

    const auto report = status::collect(*store, now, setup.database_shown,
                                        all ? store::IncludeRetired::yes : store::IncludeRetired::no);
    tools::warn_if_pulse_stale(report.pulse);
    return print_report(report);
  }, nullptr, "--nagios");
}
