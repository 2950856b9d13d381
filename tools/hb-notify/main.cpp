// SPDX-License-Identifier: MIT
// hb-notify: delivers the notifications that are due from the outbox, once, and exits.
#include "common/cli.hpp"

#include "core/clock.hpp"
#include "delivery/deliver.hpp"
#include "output/delivery_output.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <atomic>
#include <iostream>
#include <thread>

namespace {

constexpr const char* k_description = R"(Deliver the notifications that are due, and exit.

hb-pulse already delivers at the end of every pulse. Run hb-notify from cron or a timer every
minute when alerts should not wait for the next pulse, or to retry a channel that was down
without running any check. Two deliverers at once never send one notification twice: rows are
claimed with a lease. A notification is sent at least once: one cut off mid-send is sent again
by the next run (webhooks carry an Idempotency-Key so receivers can drop the duplicate).

Examples:
  hb-notify                     deliver what is due (quiet under cron)
  hb-notify -v                  ... and print a line per channel
  hb-notify --json              the outcome as JSON
  hb-notify --budget 30s        start no new send after 30 seconds

Exit status:
  0         the delivery ran (failed notifications are recorded: see hb-status)
  64        usage error
  74        database error
  75        temporary failure: try again
  78        configuration error
  130, 143  interrupted by SIGINT, SIGTERM)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-notify");
  tools::CommonOptions common;
  std::string budget = "2m";
  tools::add_common_options(app, common, tools::HasJson::yes);
  app.add_option("--budget", budget, "Start no new send after this long (default 2m)");

  return tools::run_tool(app, argc, argv, common, [&]() -> int {
    const auto& stop = tools::install_stop_handlers();
    auto clock = clock_from_environment();
    const auto parsed_budget = util::parse_duration(budget);
    if (!parsed_budget || *parsed_budget <= Duration(0)) {
      throw UsageError(fmt::format("--budget: expected a positive duration like \"30s\", got \"{}\"",
                                   budget));
    }
    const auto setup =
        tools::load_setup(common, tools::ConfigRequired::yes, config::RunDiscovery::no);
    auto store = tools::open_database(setup, store::OpenMode::read_write);

    // The stop flag is an int (the signal); the senders watch a bool.
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      while (!done.load()) {
        if (stop.load() != 0) {
          cancel = true;
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    delivery::DeliverOptions options;
    options.owner = util::run_owner();
    options.budget = *parsed_budget;
    options.cancel = &cancel;
    delivery::DeliveryReport report;
    try {
      report = delivery::deliver(*setup.config, *store, *clock, options);
    } catch (...) {
      done = true;
      watcher.join();
      throw;
    }
    done = true;
    watcher.join();

    if (!common.quiet) {
      if (common.json) {
        tools::print_json(output::notify_to_json(report));
      } else if (common.verbose > 0 || tools::stdout_is_terminal()) {
        output::print_delivery(report, std::cout, output::Style(tools::use_color(common)));
      }
    }
    if (stop.load() != 0) {
      return util::exit_code_for_signal(stop.load());
    }
    return 0;
  });
}
