// SPDX-License-Identifier: MIT
#pragma once

#include "agents/wrap.hpp"
#include "config/config.hpp"
#include "core/errors.hpp"
#include "core/model/event.hpp"
#include "pulse/system_state.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::tools {

// Flags every tool shares (SPEC §4).
struct CommonOptions {
  std::string config;
  std::string db;
  bool json = false;
  std::string color = "auto";
  bool quiet = false;
  int verbose = 0;
  std::string log_format = "auto";
};

enum class HasJson { no, yes };

// Adds --config, --db, --color, -q/--quiet, -v/--verbose, --log-format, --version (and --json
// when the tool has JSON output) to `app`.
void add_common_options(CLI::App& app, CommonOptions& options, HasJson has_json);

// Parses argv and runs `body` inside the one top-level catch every tool shares: hb errors print
// "<tool>: error: <message>" and return their exit code; CLI11 parse errors return 64 (--help
// and --version return 0); anything else is an internal error (70). HEARTBEAT_ENABLED=false
// makes the tool say so and return 0 before `body` runs (so no database is created), or run
// `when_disabled` instead when one is given (hb-beat still runs the job it wraps).
//
// `plugin_flag` (hb-status: "--nagios") names a flag that makes the tool a monitoring plugin:
// when it is on the command line, every failure above — a usage error, HEARTBEAT_ENABLED=false,
// a missing config, an unreadable database, an internal error — also prints
// "HEARTBEAT UNKNOWN - <message>" on stdout (the only stream Nagios reads) and returns 3, the
// one code of the plugin API for "could not tell"; --help and --version still return 0.
int run_tool(CLI::App& app, int argc, char** argv, const CommonOptions& options,
             const std::function<int()>& body,
             const std::function<int()>& when_disabled = nullptr,
             std::string_view plugin_flag = {});

// Whether stdout gets colour: --color always/never, else a terminal without NO_COLOR.
bool use_color(const CommonOptions& options);

// Whether stdout (or stderr) is a terminal.
bool stdout_is_terminal();
// The terminal's width in columns when stdout is one (TIOCGWINSZ, else $COLUMNS, else 80);
// 0 when stdout is not a terminal: piped output is never cut.
std::size_t terminal_width();
bool stderr_is_terminal();

// yes: the whole config must exist and be valid; database_only: if a config exists only its
// `database` setting is read (read-only tools); if_valid: a config that exists is loaded, and
// when it is invalid why is kept in Setup::config_error instead of thrown (hb-diagnose, which
// explains it).
enum class ConfigRequired { yes, database_only, if_valid };

struct Setup {
  std::optional<config::Config> config;  // loaded with ConfigRequired::yes or if_valid
  std::string database;                  // resolved location (SPEC §3 order)
  std::string database_shown;            // the same as it may be printed (no password)
  std::string config_file;               // the config found, "" for none
  std::string config_error;              // if_valid: why it did not load, "" when it did
};

// Finds and loads the config (SPEC §3 order) and resolves the database path: --db, $HB_DB, the
// config's `database`, the per-user default. Throws hb::ConfigError when a required config is
// missing or invalid.
Setup load_setup(const CommonOptions& options, ConfigRequired required,
                 config::RunDiscovery discovery);

// Opens the database `setup` resolved, through store::open_store (the backend follows the
// location's scheme). Returns nullptr with OpenMode::existing when there is no database yet.
// Throws hb::UsageError (64) for a location no backend serves, hb::StoreError (74) when the
// database cannot be opened.
std::unique_ptr<store::Store> open_database(const Setup& setup, store::OpenMode mode);

// Installs SIGTERM/SIGINT handlers that store the signal number in the returned flag; a second
// signal ends the process at once with util::exit_code_for_signal (128+signal).
const std::atomic<int>& install_stop_handlers();

// Installs handlers for SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 that set bit n of
// the returned mask for signal n, so a job wrapper passes them on (ProcessSpec::relay_signals)
// instead of dying of them. Signals ignored when the process started (nohup) stay ignored.
std::atomic<std::uint64_t>& install_relay_handlers();

// Splits argv at its first "--": `own` is argv before it (argv[0] included), `command` what
// follows; `has_command` says whether there was a "--" at all.
struct SplitArgs {
  std::vector<char*> own;
  std::vector<std::string> command;
  bool has_command = false;
};
SplitArgs split_at_double_dash(int argc, char** argv);

// Prints `value` on stdout as every tool's --json does: indented by 2, invalid UTF-8 replaced,
// bidi formatting and C1 control characters escaped (\u202e) like JSON escapes ESC.
void print_json(const nlohmann::json& value);

// Logs one info line per event ("worker: online -> degraded ..."): shown with -v.
void log_events(const std::vector<Event>& events);

// Logs a warning on stderr when the system pulse at `now` is stale or failed: every tool run
// reports a stale pulse loudly (SPEC §2: the scheduler stopped running hb-pulse). One read of the
// last pulse. Never throws and never changes the tool's exit code: when the pulse cannot be
// read, it says so at debug level only.
void warn_if_pulse_stale(store::Store& store, TimePoint now);

// The same warning for a system pulse already derived (hb-status has it in its report).
void warn_if_pulse_stale(const pulse::SystemPulse& pulse);

// Where hb-beat records: opens the database found as load_setup does (read-write, created if
// missing) and warns about a stale pulse there; syncs the config into it when the config
// declares a target the database does not know yet.
agents::Recorder beat_recorder(const CommonOptions& options, const util::Clock& clock);

} // namespace hb::tools
