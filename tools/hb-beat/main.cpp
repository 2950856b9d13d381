// SPDX-License-Identifier: MIT
// hb-beat: records a push beat from an agent, or wraps a job and records its run.
#include "common/cli.hpp"

#include "agents/beats.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "output/events.hpp"
#include "pulse/pulse.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"
#include "util/http.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <set>
#include <string_view>

#include <unistd.h>

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

Exit codes: 0 recorded; 64 usage; 65 unknown target or one that takes no beats; 74 database
error; 75 database busy, try again; 78 configuration error; the job's own code in wrapper form.)";

constexpr std::size_t k_max_metrics = 32;
constexpr std::size_t k_output_cap = 64 * 1024;
constexpr std::size_t k_tail_lines = 20;
constexpr std::size_t k_tail_bytes = 4096;
constexpr hb::Duration k_kill_grace{10'000};
constexpr int k_exit_timed_out = 124;  // as timeout(1)
constexpr int k_exit_cannot_execute = 126;
constexpr int k_exit_not_found = 127;

std::atomic<std::uint64_t> g_relay{0};

void relay_signal(int signal)
{
  g_relay.fetch_or(std::uint64_t{1} << signal);
}

// Signals hb-beat passes on to the job instead of dying of them. Signals we were started with
// ignored (nohup) stay ignored.
void install_relay_handlers()
{
  struct sigaction action {};
  action.sa_handler = relay_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    struct sigaction old {};
    if (sigaction(signal, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) {
      continue;
    }
    sigaction(signal, &action, nullptr);
  }
}

struct Options {
  std::string target;
  std::string status = "healthy";
  std::string message;
  std::vector<std::string> metrics;
  std::string timeout;
  bool create = false;
  std::vector<std::string> command;  // after "--"
};

hb::agents::BeatInput beat_input(const Options& options)
{
  hb::agents::BeatInput beat;
  beat.status = hb::parse_beat_status(options.status).value_or(hb::BeatStatus::healthy);
  beat.message = hb::agents::cap_message(options.message);
  if (options.metrics.size() > k_max_metrics) {
    throw hb::UsageError(fmt::format("--metric: at most {} metrics per beat, got {}",
                                     k_max_metrics, options.metrics.size()));
  }
  std::set<std::string> names;
  for (const auto& text : options.metrics) {
    std::string error;
    auto metric = hb::agents::parse_metric_arg(text, error);
    if (!metric) {
      throw hb::UsageError("--metric: " + error);
    }
    if (!names.insert(metric->name).second) {
      throw hb::UsageError(fmt::format("--metric: \"{}\" is given twice", metric->name));
    }
    beat.metrics.push_back(std::move(*metric));
  }
  return beat;
}

// Runs `record`; when the target is unknown and a config exists, syncs the config into the
// database (a target added since the last hb-pulse) and tries once more.
template <typename Fn>
auto with_config_fallback(const hb::tools::CommonOptions& common, hb::store::Store& store,
                          const std::string& target, hb::TimePoint now, Fn&& record)
  -> decltype(record())
{
  try {
    return record();
  } catch (const hb::agents::NotSynced&) {
    if (!hb::config::locate(common.config)) {
      throw;
    }
    const auto setup = hb::tools::load_setup(common, hb::tools::ConfigRequired::yes,
                                             hb::config::RunDiscovery::yes);
    if (setup.config->find_target(target) == nullptr) {
      throw;
    }
    hb::util::log_info(fmt::format("target \"{}\" is new in the config: syncing it", target));
    hb::pulse::sync_config(*setup.config, store, now);
    return record();
  }
}

int plain_beat(const Options& options, const hb::tools::CommonOptions& common)
{
  using namespace hb;
  const auto beat = beat_input(options);
  auto clock = clock_from_environment();
  const auto setup =
    tools::load_setup(common, tools::ConfigRequired::database_only, config::RunDiscovery::no);
  auto store = tools::open_database(setup, store::OpenMode::read_write);
  const auto now = clock->now();
  const auto write = with_config_fallback(common, *store, options.target, now, [&] {
    return agents::record_beat(*store, options.target, beat,
                               options.create ? agents::Create::yes : agents::Create::no, now);
  });
  for (const auto& e : write.events) {
    util::log_info(output::event_line(e));
  }
  if (common.quiet) {
    return 0;
  }
  if (common.json) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : write.events) {
      events.push_back(output::event_to_json(e));
    }
    nlohmann::json out{{"target", options.target},
                       {"at", util::format_rfc3339(now)},
                       {"status", to_string(beat.status)},
                       {"state", to_string(write.state.state)},
                       {"beats", write.state.beats},
                       {"events", std::move(events)}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else if (common.verbose > 0) {
    std::cout << fmt::format("{}: {} beat recorded; state {}\n", options.target,
                             to_string(beat.status), to_string(write.state.state));
  }
  return 0;
}

int exit_code_of(const hb::util::ProcessResult& result)
{
  using End = hb::util::ProcessResult::End;
  switch (result.end) {
  case End::exited:
    return result.exit_code;
  case End::signaled:
    return 128 + result.term_signal;
  case End::timed_out:
    return k_exit_timed_out;
  case End::cancelled:
    return 128 + SIGTERM;
  case End::spawn_failed:
    // As a shell does: 127 when there is no such program, 126 when it cannot be executed.
    return result.spawn_errno == ENOENT ? k_exit_not_found : k_exit_cannot_execute;
  }
  return k_exit_cannot_execute;
}

hb::agents::RunEnd run_end(const hb::util::ProcessResult& result)
{
  using End = hb::util::ProcessResult::End;
  hb::agents::RunEnd end;
  end.output_tail = hb::util::tail_lines(result.output, k_tail_lines, k_tail_bytes);
  switch (result.end) {
  case End::exited:
    end.exit_code = result.exit_code;
    end.status = result.exit_code == 0 ? hb::JobRunStatus::succeeded : hb::JobRunStatus::failed;
    if (result.exit_code != 0) {
      end.message = fmt::format("exit code {}", result.exit_code);
    }
    break;
  case End::timed_out:
    end.status = hb::JobRunStatus::timed_out;
    end.exit_code = k_exit_timed_out;
    end.message = result.error;
    break;
  default:
    end.status = hb::JobRunStatus::failed;
    end.exit_code = exit_code_of(result);
    end.message = result.error;
    break;
  }
  std::string last_line = hb::util::tail_lines(end.output_tail, 1, 200);
  while (!last_line.empty() && (last_line.back() == '\n' || last_line.back() == '\r')) {
    last_line.pop_back();
  }
  if (end.status != hb::JobRunStatus::succeeded && !last_line.empty()) {
    end.message += ": " + hb::agents::cap_message(last_line, 200);
  }
  return end;
}

// True for an option name that announces a secret: --password, --api-token, -p...
bool secret_option(std::string_view name)
{
  std::string lower;
  for (char c : name) {
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  for (std::string_view word : {"pass", "secret", "token", "key", "auth", "credential", "cookie"}) {
    if (lower.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The command line as stored and shown, with what looks like a secret hidden: values of
// options named like --password/--token (as "--password=x" or "--password x"), credentials
// in URLs. Secrets never reach the database (SPEC §7).
std::string command_line(const std::vector<std::string>& argv)
{
  std::string out;
  bool hide_next = false;
  for (const auto& original : argv) {
    std::string arg = original;
    if (hide_next) {
      arg = "***";
      hide_next = false;
    } else if (arg.size() > 1 && arg[0] == '-') {
      const auto eq = arg.find('=');
      const std::string_view name = std::string_view(arg).substr(0, eq);
      if (secret_option(name)) {
        if (eq == std::string::npos) {
          hide_next = true;
        } else {
          arg = arg.substr(0, eq + 1) + "***";
        }
      }
    } else if (arg.find("://") != std::string::npos) {
      arg = hb::util::redact_url(arg);
    }
    if (!out.empty()) {
      out += ' ';
    }
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
  }
  return hb::agents::cap_message(out, 1024);
}

hb::util::ProcessResult run_job(const Options& options, hb::Duration timeout)
{
  install_relay_handlers();  // again, for the switched-off path; harmless when already done
  hb::util::ProcessSpec spec;
  spec.argv = options.command;
  spec.timeout = timeout;
  spec.output_cap = k_output_cap;
  spec.keep = hb::util::ProcessSpec::Keep::tail;
  spec.kill_grace = k_kill_grace;
  spec.tee = true;
  // The job runs in its own process group (so a timeout kills all of it); reading a terminal
  // from there would stop it (SIGTTIN), so it gets the terminal's input only under cron-like
  // callers, where stdin is not a terminal.
  spec.inherit_stdin = ::isatty(STDIN_FILENO) == 0;
  spec.relay_signals = &g_relay;
  return hb::util::run_process(spec);
}

// --timeout, or 0 for none. Throws hb::UsageError when malformed.
hb::Duration job_timeout(const Options& options)
{
  if (options.timeout.empty()) {
    return hb::Duration(0);
  }
  auto parsed = hb::util::parse_duration(options.timeout);
  if (!parsed || *parsed <= hb::Duration(0)) {
    throw hb::UsageError(fmt::format("--timeout: expected a duration like \"2h\", got \"{}\"",
                                     options.timeout));
  }
  return *parsed;
}

int wrap_job(const Options& options, const hb::tools::CommonOptions& common)
{
  using namespace hb;
  if (common.json) {
    throw UsageError("--json cannot be used with a command: the job's own output goes to stdout");
  }
  const Duration timeout = job_timeout(options);

  // From here on a signal is for the job: none may kill us between recording its start and
  // recording its end.
  install_relay_handlers();
  // Recording must never stand between cron and the job: any failure to record is reported on
  // stderr and the job runs all the same.
  auto clock = clock_from_environment();
  std::unique_ptr<store::Store> store;
  std::optional<JobRun> run;
  try {
    const auto setup =
      tools::load_setup(common, tools::ConfigRequired::database_only, config::RunDiscovery::no);
    store = tools::open_database(setup, store::OpenMode::read_write);
    const auto now = clock->now();
    auto write = with_config_fallback(common, *store, options.target, now, [&] {
      return agents::start_run(*store, options.target, command_line(options.command),
                               options.create ? agents::Create::yes : agents::Create::no, now);
    });
    run = write.run;
  } catch (const std::exception& e) {
    util::log_error(fmt::format("{}; running the job anyway, unrecorded", e.what()));
  }

  const util::ProcessResult result = run_job(options, timeout);
  const int code = exit_code_of(result);
  if (result.end == util::ProcessResult::End::spawn_failed) {
    util::log_error(result.error);
  } else if (result.end == util::ProcessResult::End::timed_out) {
    util::log_error(fmt::format("job {}: {}", options.target, result.error));
  }
  if (run && store) {
    try {
      const auto write = agents::finish_run(*store, *run, run_end(result), clock->now());
      for (const auto& e : write.events) {
        util::log_info(output::event_line(e));
      }
    } catch (const std::exception& e) {
      util::log_error(fmt::format("could not record the end of job \"{}\": {}", options.target,
                                  e.what()));
    }
  }
  return code;
}

// Splits argv at the first "--": hb-beat's own arguments before it, the job's after it. Sets
// `has_command` when there is a "--".
std::vector<char*> split_command(int argc, char** argv, std::vector<std::string>& command,
                                 bool& has_command)
{
  std::vector<char*> own;
  has_command = false;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--") == 0) {
      has_command = true;
      for (int j = i + 1; j < argc; ++j) {
        command.emplace_back(argv[j]);
      }
      break;
    }
    own.push_back(argv[i]);
  }
  return own;
}

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

  bool has_command = false;
  std::vector<char*> own = split_command(argc, argv, options.command, has_command);
  auto body = [&]() -> int {
    if (!config::is_valid_target_id(options.target)) {
      throw UsageError(fmt::format("invalid target id \"{}\" (lowercase letters, digits, '_', "
                                   "'.' or '-', at most 100 characters)",
                                   agents::cap_message(options.target, 120)));
    }
    if (has_command && options.command.empty()) {
      throw UsageError("no command after \"--\"");
    }
    if (has_command) {
      if (app.count("--status") + app.count("--message") + app.count("--metric") > 0) {
        throw UsageError("--status, --message and --metric are for plain beats; a wrapped job "
                         "reports its exit code");
      }
      return wrap_job(options, common);
    }
    if (!options.timeout.empty()) {
      throw UsageError("--timeout is for wrapped jobs: hb-beat TARGET --timeout D -- COMMAND");
    }
    return plain_beat(options, common);
  };
  // Switched off, hb-beat records nothing, but a wrapped job still runs.
  auto when_disabled = [&]() -> int {
    if (options.command.empty()) {
      util::log_notice("HEARTBEAT_ENABLED is false: heartbeat is switched off, doing nothing");
      return 0;
    }
    return exit_code_of(run_job(options, job_timeout(options)));
  };
  return tools::run_tool(app, static_cast<int>(own.size()), own.data(), common, body,
                         when_disabled);
}
