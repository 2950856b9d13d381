// SPDX-License-Identifier: MIT
// hb-beat: records a push beat from an agent, or wraps a job and records its run.
#include "common/cli.hpp"

#include "agents/wrap.hpp"
#include "core/clock.hpp"
#include "output/beat_output.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Record a beat from an agent, or run a job and record how it went.

  hb-beat TARGET [--status healthy|degraded|failing] [--message TEXT] [--metric NAME=VALUE]...
  hb-beat TARGET [--timeout DURATION] -- COMMAND [ARGS...]

Examples:
  hb-beat worker-3                                   a healthy beat (run it every 30 s)
  hb-beat worker-3 --status degraded --message "queue backing up" --metric queue=1200
  hb-beat worker-3 --metric cpu=45% --metric mem=61%
  hb-beat nightly-backup -- /usr/local/bin/backup --full
  hb-beat nightly-backup --timeout 2h -- pg_dump -f /backup/db.sql app

The wrapper runs COMMAND directly (no shell), passes its output through, records its start, then
its exit code, duration and last lines of output, and exits with COMMAND's own exit code (124 when
--timeout killed it, 126/127 when it could not be started). Signals sent to hb-beat are passed on
to the job. If the database cannot be written the job still runs; the problem goes to stderr.

Targets are read from the database, where hb-pulse syncs them from the config; a target not yet
there is looked up in the config. --create records beats for a target no config declares.

Exit status:
  0         recorded
  64        usage error
  65        an unknown target, or one that takes no beats
  74        database error
  75        the database is busy: try again
  78        configuration error
  other     in wrapper form, the job's own exit status)";

struct Options {
  std::string target;
  std::string status = "healthy";
  std::string message;
  std::vector<std::string> metrics;
  std::string timeout;
  bool create = false;
};

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-beat");
  tools::CommonOptions common;
  Options options;
  tools::add_common_options(app, common, tools::HasJson::yes);
  app.add_option("target", options.target, "The agent or job this beat is for")->required();
  app.add_option("-s,--status", options.status, "What the agent reports: healthy (default), degraded or failing")
    ->check(CLI::IsMember({"healthy", "degraded", "failing"}));
  app.add_option("-m,--message", options.message, "A one-line message with the beat");
  app.add_option("--metric", options.metrics,
                 "A number with the beat, NAME=VALUE with an optional unit (cpu=45%); repeatable");
  app.add_option("--timeout", options.timeout,
                 "Wrapper: kill the job (its whole process group) after this long, exit 124");
  app.add_flag("--create", options.create,
               "Create the target (kind agent, or job with a command) if it is unknown");

  // Everything after "--" is the job's: CLI11 never sees it.
  tools::SplitArgs args = tools::split_at_double_dash(argc, argv);
  const auto create = [&] { return options.create ? agents::Create::yes : agents::Create::no; };
  const auto job = [&] {
    agents::JobRequest request;
    request.target = options.target;
    request.command = args.command;
    request.timeout = agents::parse_job_timeout(options.timeout);
    request.create = create();
    // From here on a signal is for the job: none may kill us between recording its start and
    // recording its end.
    request.relay_signals = &tools::install_relay_handlers();
    return request;
  };
  auto body = [&]() -> int {
    const auto clock = clock_from_environment();
    const auto recorder = tools::beat_recorder(common, *clock);
    if (!args.has_command) {
      if (!options.timeout.empty()) {
        throw UsageError("--timeout is for wrapped jobs: hb-beat TARGET --timeout D -- COMMAND");
      }
      const auto beat = agents::record_plain_beat(
        {options.target, parse_beat_status(options.status).value_or(BeatStatus::healthy),
         options.message, options.metrics, create()},
        recorder, *clock);
      tools::log_events(beat.write.events);
      if (common.json && !common.quiet) {
        tools::print_json(output::beat_to_json(beat));
      } else if (common.verbose > 0 && !common.quiet) {
        std::cout << output::beat_line(beat) << '\n';
      }
      return 0;
    }
    if (app.count("--status") + app.count("--message") + app.count("--metric") > 0) {
      throw UsageError("--status, --message and --metric are for plain beats; a wrapped job "
                       "reports its exit code");
    }
    if (common.json) {
      throw UsageError("--json cannot be used with a command: the job's own output goes to stdout");
    }
    const auto run = agents::run_wrapped(job(), recorder, *clock);
    tools::log_events(run.events);
    return run.exit_code;
  };
  // Switched off, hb-beat records nothing, but a wrapped job still runs.
  auto when_disabled = [&]() -> int {
    if (args.command.empty()) {
      util::log_notice("HEARTBEAT_ENABLED is false: heartbeat is switched off, doing nothing");
      return 0;
    }
    return agents::run_unrecorded(job()).exit_code;
  };
  return tools::run_tool(app, static_cast<int>(args.own.size()), args.own.data(), common, body,
                         when_disabled);
}
