// SPDX-License-Identifier: MIT
// hb-recover: repairs unhealthy targets (forced re-check, then the configured action, verified),
// backs off, escalates what it cannot repair, and exits.
#include "common/cli.hpp"

#include "core/clock.hpp"
#include "output/recover_output.hpp"
#include "recovery/recover.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Repair the targets that are unhealthy, escalate what cannot be repaired, and exit.

Run it from cron or a systemd timer every 5 minutes beside hb-pulse. For each target that is
stale, failing, over its failure rate, or whose agent is offline (paused, in grace, in
maintenance or behind a failing dependency are left alone), it climbs a ladder: (a) run its
checks now; (b) if still failing, run the recovery action configured for the failure (by check,
by failure phase, or by issue type), wait verify_after and check again. Every step is recorded.
A failed attempt backs off exponentially with jitter; after escalate_after failed attempts one
escalation is delivered at critical priority to recovery.escalation.channels (and
escalation.command runs with it as JSON on stdin); after max_attempts within attempts_window
automatic recovery is suspended until the target recovers or --reset. Counters reset only when a
check run passes. Several targets failing alike (shared_cause_min) are escalated once, not
restarted one by one.

Examples:
  hb-recover                      assess and repair (quiet under cron)
  hb-recover -v                   ... and print what it did
  hb-recover --dry-run            the plan, with reasons, and do nothing
  hb-recover --target api         only this target
  hb-recover --force --target api ignore the backoff (not the restart budget)
  hb-recover --reset api          clear api's counters: resume automatic recovery

Exit status:
  0         the run completed, whatever it found
  64        usage error
  74        database error
  75        temporary failure: try again
  78        configuration error
  130, 143  interrupted by SIGINT, SIGTERM)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-recover");
  tools::CommonOptions common;
  bool dry_run = false;
  bool force = false;
  std::vector<std::string> targets;
  std::string reset;
  tools::add_common_options(app, common, tools::HasJson::yes);
  app.add_flag("--dry-run", dry_run, "Print the plan, with reasons, and do nothing");
  app.add_option("--target", targets, "Only this target (repeatable)");
  app.add_flag("--force", force, "Ignore the backoff (never the restart budget)");
  app.add_option("--reset", reset,
                 "Clear this target's attempt counters, backoff and suspension, and exit");

  return tools::run_tool(app, argc, argv, common, [&]() -> int {
    const auto& stop = tools::install_stop_handlers();
    auto clock = clock_from_environment();
    const auto setup =
        tools::load_setup(common, tools::ConfigRequired::yes, config::RunDiscovery::keep_going);
    auto store = tools::open_database(setup, store::OpenMode::read_write);
    tools::warn_if_pulse_stale(*store, clock->now());

    if (!reset.empty()) {
      const bool had = recovery::reset_target(*setup.config, *store, reset, clock->now());
      if (!common.quiet) {
        if (common.json) {
          tools::print_json(output::reset_to_json(reset, had));
        } else {
          std::cout << (had ? fmt::format("{}: counters reset; automatic recovery resumes\n", reset)
                            : fmt::format("{}: nothing to reset\n", reset));
        }
      }
      return 0;
    }

    recovery::RecoverOptions options;
    options.dry_run = dry_run;
    options.only_targets = targets;
    options.force = force ? recovery::Force::yes : recovery::Force::no;
    options.stop_signal = &stop;
    const auto report = recovery::run_recover(*setup.config, *store, *clock, options);
    tools::log_events(report.events);

    if (!common.quiet) {
      if (common.json) {
        tools::print_json(output::recover_to_json(report));
      } else if (tools::stdout_is_terminal() || common.verbose > 0 || dry_run) {
        output::print_recover(report, std::cout, output::Style(tools::use_color(common)),
                              common.verbose > 0 || dry_run);
      }
    }
    if (report.signal != 0) {
      util::log_notice(fmt::format("interrupted; {} recorded",
                                   util::plural(report.run.attempted, "attempt")));
      return util::exit_code_for_signal(report.signal);
    }
    return 0;
  });
}
