// SPDX-License-Identifier: MIT
// hb-pulse: runs the health checks that are due, once, and records what it found.
#include "common/cli.hpp"

#include "core/clock.hpp"
#include "output/pulse_output.hpp"
#include "pulse/pulse.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Run the health checks and scheduled tasks that are due, record the results, and exit.

Run it from cron, a systemd timer or a Kubernetes CronJob every few minutes. It exits 0 whenever
the pulse ran, whatever it found: target failures are data, not a reason for the scheduler to
retry. Use --fail-on to make it a CI smoke check instead. At its end it writes reminders for
targets still failing and delivers the notifications that are due (as hb-notify does), and pings
pulse.ping_url when one is configured.

Examples:
  hb-pulse                              run what is due (quiet under cron)
  hb-pulse -v                           ... and print a summary
  hb-pulse --dry-run                    list what is due, run nothing
  hb-pulse --no-tasks                   run the due checks but not the scheduled tasks
  hb-pulse --force --target api         run one target now, ignoring interval and active hours
  hb-pulse --force --fail-on alert      CI smoke check: exit 2 when any target alerts
  HB_NOW=2026-02-18T14:05:00Z hb-pulse  run as if it were that instant (testing, replays)

Exit status:
  0         the pulse ran, whatever it found
  1, 2      with --fail-on: a target ran at warning (1), or at alert or error (2)
  64        usage error
  74        database error
  75        temporary failure: try again
  78        configuration error
  130, 143  interrupted by SIGINT, SIGTERM)";

struct PulseCliOptions {
  hb::tools::CommonOptions common;
  bool force = false;
  bool dry_run = false;
  bool no_tasks = false;
  std::vector<std::string> targets;
  std::vector<std::string> tags;
  std::string fail_on;
};

int fail_on_exit_code(const hb::pulse::PulseReport& report, const std::string& fail_on)
{
  if (fail_on.empty()) {
    return 0;
  }
  const auto worst = report.worst_status();
  const auto threshold = hb::parse_exec_status(fail_on);
  if (!worst || !threshold || hb::rank(*worst) < hb::rank(*threshold)) {
    return 0;
  }
  return *worst == hb::ExecStatus::warning ? 1 : 2;
}

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-pulse");
  PulseCliOptions options;
  tools::add_common_options(app, options.common, tools::HasJson::yes);
  app.add_flag("--force", options.force, "Ignore intervals and active hours (not paused targets)");
  app.add_flag("--dry-run", options.dry_run, "List what is due (targets and tasks) and run nothing");
  app.add_flag("--no-tasks", options.no_tasks, "Run checks only, not the scheduled tasks");
  app.add_option("--target", options.targets,
                 "Only this target (repeatable; scheduled tasks then wait for a full pulse)");
  app.add_option("--tag", options.tags,
                 "Only targets with this tag (repeatable; scheduled tasks then wait)");
  app.add_option("--fail-on", options.fail_on,
                 "Exit 1 (warning) or 2 (alert, error) when a target ran at or above this level")
    ->check(CLI::IsMember({"warning", "alert", "error"}));

  return tools::run_tool(app, argc, argv, options.common, [&]() -> int {
    const auto& stop = tools::install_stop_handlers();
    auto clock = clock_from_environment();
    const auto setup =
      tools::load_setup(options.common, tools::ConfigRequired::yes, config::RunDiscovery::keep_going);
    auto store = tools::open_database(setup, store::OpenMode::read_write);

    tools::warn_if_pulse_stale(*store, clock->now());

    pulse::PulseOptions pulse_options;
    pulse_options.force = options.force ? pulse::Force::yes : pulse::Force::no;
    pulse_options.dry_run = options.dry_run ? pulse::DryRun::yes : pulse::DryRun::no;
    pulse_options.tasks = options.no_tasks ? pulse::RunTasks::no : pulse::RunTasks::yes;
    pulse_options.only_targets = options.targets;
    pulse_options.tags = options.tags;
    pulse_options.stop_signal = &stop;
    const bool progress = tools::stderr_is_terminal() && !options.common.quiet;
    if (progress) {
      pulse_options.progress = [shown = -1](int done, int total) mutable {
        if (total >= 20 && done != shown) {
          shown = done;
          util::log_progress(fmt::format("{}/{} checks done", done, total));
        }
      };
    }

    const auto report = pulse::run_pulse(*setup.config, *store, *clock, pulse_options);
    if (progress) {
      util::end_progress();
    }

    const int fail_code = fail_on_exit_code(report, options.fail_on);
    if (!options.common.quiet) {
      if (options.common.json) {
        tools::print_json(output::pulse_to_json(report));
      } else if (tools::stdout_is_terminal() || options.common.verbose > 0 || fail_code != 0
                 || options.dry_run) {
        output::print_pulse(report, std::cout, output::Style(tools::use_color(options.common)),
                            options.common.verbose > 0 || options.dry_run
                              ? output::Detail::verbose
                              : output::Detail::normal);
      }
    }
    if (!report.pulse.message.empty() && report.signal == 0) {
      util::log_warning(report.pulse.message);
    }
    int code = fail_code;
    if (report.signal != 0) {
      util::log_notice(fmt::format("interrupted; {} recorded", util::plural(report.pulse.targets_run, "target")));
      code = util::exit_code_for_signal(report.signal);
    }
    return code;
  });
}
