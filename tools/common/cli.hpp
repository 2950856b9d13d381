// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"
#include "core/errors.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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
int run_tool(CLI::App& app, int argc, char** argv, const CommonOptions& options,
             const std::function<int()>& body,
             const std::function<int()>& when_disabled = nullptr);

// Whether stdout gets colour: --color always/never, else a terminal without NO_COLOR.
bool use_color(const CommonOptions& options);

// Whether stdout (or stderr) is a terminal.
bool stdout_is_terminal();
bool stderr_is_terminal();

// yes: the whole config must exist and be valid; database_only: if a config exists only its
// `database` setting is read (read-only tools).
enum class ConfigRequired { yes, database_only };

struct Setup {
  std::optional<config::Config> config;  // loaded only with ConfigRequired::yes
  std::string database;                  // resolved path (SPEC §3 order)
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
// signal ends the process at once with 128+signal.
const std::atomic<int>& install_stop_handlers();

// 130 for SIGINT, 143 for SIGTERM, 128+n otherwise.
int exit_code_for_signal(int signal);

} // namespace hb::tools
