// SPDX-License-Identifier: MIT
#include "common/cli.hpp"

#include "store/location.hpp"

#include "output/events.hpp"
#include "output/json_text.hpp"
#include "output/nagios_output.hpp"
#include "output/style.hpp"
#include "pulse/pulse.hpp"
#include "pulse/runner.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <sys/ioctl.h>
#include <unistd.h>

namespace hb::tools {
namespace {

std::atomic<int> g_stop_signal{0};
std::atomic<std::uint64_t> g_relay{0};

void on_stop_signal(int signal)
{
  if (g_stop_signal.load() != 0) {
    // Second signal: the operator means it.
    _exit(util::exit_code_for_signal(signal));
  }
  g_stop_signal.store(signal);
}

void relay_signal(int signal)
{
  g_relay.fetch_or(std::uint64_t{1} << signal);
}

bool kill_switch_engaged()
{
  const char* value = std::getenv("HEARTBEAT_ENABLED");
  if (value == nullptr) {
    return false;
  }
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "false" || v == "0" || v == "no" || v == "off";
}

util::LogFormat log_format_of(const std::string& name)
{
  if (name == "json") {
    return util::LogFormat::json;
  }
  if (name == "text") {
    return util::LogFormat::text;
  }
  return util::detect_log_format();
}

// Returns the --log-format value on the command line, or "auto". CLI11 keeps what it read of an
// option even when parsing then fails on another argument, so a usage error can still be logged
// in the format asked for.
std::string requested_log_format(const CLI::App& app)
{
  const CLI::Option* option = app.get_option_no_throw("--log-format");
  if (option == nullptr || option->results().empty()) {
    return "auto";
  }
  return option->results().back();
}

// Whether `flag` is among the arguments before any "--". Read from argv rather than from the
// parse, so that a usage error anywhere on the line is still reported the plugin's way.
bool flag_given(int argc, char** argv, std::string_view flag)
{
  if (flag.empty()) {
    return false;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--") {
      break;
    }
    if (arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag
                        && arg[flag.size()] == '=')) {
      return true;
    }
  }
  return false;
}

// In plugin mode: the UNKNOWN line on stdout, and exit 3.
int plugin_unknown(const std::string& message)
{
  std::cout << output::nagios_unknown(message) << std::flush;
  return static_cast<int>(ExitCode::unknown);
}

} // namespace

namespace {

// What every tool's --help ends with (and so its man page, made from it by help2man: each
// "Heading:" a section).
constexpr const char* k_common_footer = R"(
Environment:
  HB_CONFIG          the config file, when --config is not given
  HB_DB              the database (a SQLite file or postgresql://...), when --db is not given
  HB_NOW             run as if it were that instant (RFC 3339: tests, replaying an incident)
  HEARTBEAT_ENABLED  false, 0, no or off: every heartbeat tool does nothing and exits 0
  NO_COLOR           no colours, whatever --color auto would choose
  PGPASSFILE, PGPASSWORD
                     the PostgreSQL password, read by libpq (never give it in the location)
  JOURNAL_STREAM     set by systemd: log lines then carry journald's priorities

Files:
  /etc/heartbeat/heartbeat.json
                     the config, when neither --config, HB_CONFIG nor ./heartbeat.json is
  /var/lib/heartbeat/heartbeat.db
                     the database of the packaged config, and root's default
  ~/.local/state/heartbeat/heartbeat.db
                     another user's default database (under $XDG_STATE_HOME when set)

See also:
  hb-pulse(1), hb-beat(1), hb-status(1), hb-recover(1), hb-notify(1), hb-diagnose(1),
  hb-migrate(1); the guides in /usr/share/doc/heartbeat/ (configuration.md, operations.md).)";

} // namespace

void add_common_options(CLI::App& app, CommonOptions& options, HasJson has_json)
{
  app.footer(k_common_footer);
  app.set_version_flag("--version", std::string(app.get_name()) + " " + HB_VERSION);
  app.add_option("-c,--config", options.config,
                 "Config file (default: $HB_CONFIG, ./heartbeat.json, /etc/heartbeat/heartbeat.json)");
  app.add_option("--db", options.db,
                 "Database: a SQLite file, or postgresql://user@host/db (default: $HB_DB, the "
                 "config's \"database\", then a per-user path)");
  if (has_json == HasJson::yes) {
    app.add_flag("--json", options.json, "Print the result as JSON");
  }
  app.add_option("--color", options.color, "Colour output: auto, always or never (auto honours NO_COLOR)")
    ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_flag("-q,--quiet", options.quiet, "Print nothing on stdout and only errors on stderr");
  app.add_flag("-v,--verbose", options.verbose,
               "Say more: a summary on stdout and progress on stderr (-vv: debug details)");
  app.add_option("--log-format", options.log_format,
                 "Log format on stderr: auto, text or json (auto: json under Cloud Run/Kubernetes)")
    ->check(CLI::IsMember({"auto", "text", "json"}));
}

int run_tool(CLI::App& app, int argc, char** argv, const CommonOptions& options,
             const std::function<int()>& body, const std::function<int()>& when_disabled,
             std::string_view plugin_flag)
{
  const std::string tool = app.get_name();
  const bool plugin = flag_given(argc, argv, plugin_flag);
  util::configure_logging(tool, util::detect_log_format(), util::LogLevel::notice);
  output::set_unicode(output::locale_is_utf8());
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    util::configure_logging(tool, log_format_of(requested_log_format(app)),
                            util::LogLevel::notice);
    const std::string message = fmt::format("{} (run {} --help for usage)", e.what(), tool);
    util::log_error(message);
    if (plugin) {
      return plugin_unknown("usage: " + message);
    }
    return static_cast<int>(ExitCode::usage);
  }

  util::LogLevel level = util::LogLevel::notice;
  if (options.quiet) {
    level = util::LogLevel::error;
  } else if (options.verbose >= 2) {
    level = util::LogLevel::debug;
  } else if (options.verbose == 1) {
    level = util::LogLevel::info;
  }
  util::configure_logging(tool, log_format_of(options.log_format), level);

  const bool disabled = kill_switch_engaged();
  if (disabled && !when_disabled) {
    util::log_notice("HEARTBEAT_ENABLED is false: heartbeat is switched off, doing nothing");
    // OK would vouch for a fleet nobody watches.
    return plugin ? plugin_unknown("heartbeat is switched off (HEARTBEAT_ENABLED is false)") : 0;
  }
  int code = 0;
  try {
    code = disabled ? when_disabled() : body();
  } catch (const Error& e) {
    util::log_error(e.what());
    code = plugin ? plugin_unknown(e.what()) : static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    const std::string message = fmt::format("internal error: {}", e.what());
    util::log_error(message);
    code = plugin ? plugin_unknown(message) : static_cast<int>(ExitCode::software);
  }
  if (pulse::threads_were_abandoned()) {
    // A check that ignored its timeout still runs on a detached thread: leave without running
    // static destructors under it.
    std::cout.flush();
    std::fflush(nullptr);
    _exit(code);
  }
  return code;
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::size_t terminal_width()
{
  if (!stdout_is_terminal()) {
    return 0;
  }
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    const long n = std::strtol(columns, nullptr, 10);
    if (n > 0 && n < 10'000) {
      return static_cast<std::size_t>(n);
    }
  }
  return 80;
}
bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool use_color(const CommonOptions& options)
{
  if (options.color == "always") {
    return true;
  }
  if (options.color == "never") {
    return false;
  }
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') {
    return false;
  }
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") {
    return false;
  }
  return stdout_is_terminal();
}

Setup load_setup(const CommonOptions& options, ConfigRequired required,
                 config::RunDiscovery discovery)
{
  Setup setup;
  std::string configured_database;
  const auto path = config::locate(options.config);
  if (path) {
    setup.config_file = path->string();
  }
  if (path && required == ConfigRequired::database_only) {
    configured_database = config::read_database_setting(*path);
  } else if (path && required == ConfigRequired::if_valid) {
    config::LoadOptions load_options;
    load_options.discovery = discovery;
    try {
      setup.config = config::load(*path, load_options);
      configured_database = setup.config->database;
    } catch (const Error& e) {
      // Discovery failing (75) or the config invalid (78): kept, with the database found as
      // well as the file allows.
      setup.config_error = e.what();
      try {
        configured_database = config::read_database_setting(*path);
      } catch (const ConfigError&) {
        // Not even JSON: the database comes from --db, HB_DB or the default.
      }
    }
  } else if (path) {
    config::LoadOptions load_options;
    load_options.discovery = discovery;
    setup.config = config::load(*path, load_options);
    configured_database = setup.config->database;
    util::log_info(fmt::format("config {}: {}", path->string(),
                               util::plural(static_cast<long long>(setup.config->targets.size()), "target")));
  } else if (required == ConfigRequired::yes) {
    throw ConfigError("no config file found: pass --config FILE, set HB_CONFIG, or create "
                      "./heartbeat.json (see docs/quickstart.md)");
  }

  if (!options.db.empty()) {
    setup.database = options.db;
  } else if (const char* env = std::getenv("HB_DB"); env != nullptr && *env != '\0') {
    setup.database = env;
  } else if (!configured_database.empty()) {
    setup.database = configured_database;
  } else {
    setup.database = store::default_database_path();
  }
  setup.database_shown = store::display_location(setup.database);
  util::log_info(fmt::format("database {}", setup.database_shown));
  return setup;
}

std::unique_ptr<store::Store> open_database(const Setup& setup, store::OpenMode mode)
{
  return store::open_store(setup.database, mode);
}

const std::atomic<int>& install_stop_handlers()
{
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return g_stop_signal;
}

std::atomic<std::uint64_t>& install_relay_handlers()
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
  return g_relay;
}

SplitArgs split_at_double_dash(int argc, char** argv)
{
  SplitArgs out;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--") == 0) {
      out.has_command = true;
      for (int j = i + 1; j < argc; ++j) {
        out.command.emplace_back(argv[j]);
      }
      break;
    }
    out.own.push_back(argv[i]);
  }
  return out;
}

void print_json(const nlohmann::json& value)
{
  std::cout << output::escape_hidden_controls(
                   value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace))
            << '\n';
}

void log_events(const std::vector<Event>& events)
{
  for (const auto& e : events) {
    util::log_info(output::event_line(e));
  }
}

void warn_if_pulse_stale(const pulse::SystemPulse& pulse)
{
  if (pulse.state == pulse::PulseState::warning || pulse.state == pulse::PulseState::error) {
    util::log_warning(fmt::format("system pulse is {}: {}", to_string(pulse.state), pulse.reason));
  }
}

void warn_if_pulse_stale(store::Store& store, TimePoint now)
{
  try {
    warn_if_pulse_stale(pulse::system_pulse(store, now));
  } catch (const std::exception& e) {
    // The warning is a courtesy: a busy or broken database must not fail the tool's own work.
    util::log_debug(fmt::format("system pulse not checked: {}", e.what()));
  }
}

agents::Recorder beat_recorder(const CommonOptions& options, const util::Clock& clock)
{
  agents::Recorder recorder;
  recorder.open_store = [&options, &clock] {
    const auto setup = load_setup(options, ConfigRequired::database_only, config::RunDiscovery::no);
    auto store = open_database(setup, store::OpenMode::read_write);
    warn_if_pulse_stale(*store, clock.now());
    return store;
  };
  recorder.sync_target = [&options](store::Store& store, const std::string& target_id,
                                    TimePoint now) {
    if (!config::locate(options.config)) {
      return false;
    }
    const auto setup = load_setup(options, ConfigRequired::yes, config::RunDiscovery::yes);
    if (setup.config->find_target(target_id) == nullptr) {
      return false;
    }
    util::log_info(fmt::format("target \"{}\" is new in the config: syncing it", target_id));
    pulse::sync_config(*setup.config, store, now);
    return true;
  };
  return recorder;
}

} // namespace hb::tools
