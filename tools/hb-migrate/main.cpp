// SPDX-License-Identifier: MIT
// hb-migrate: copies a SQLite database into PostgreSQL, history and states, and exits.
#include "common/cli.hpp"

#include "output/migrate_output.hpp"
#include "store/copy.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* k_description = R"(Copy a heartbeat SQLite database into PostgreSQL, and exit.

Everything is copied: targets and their states, every execution, beat, job run and event, the
roll-ups behind uptime and health scores, the outbox, recovery attempts, escalations and
schedules; so a fleet that outgrows one host moves without losing its history. The source is
only read (after being brought to this version's schema); the target gets heartbeat's schema and
must hold no heartbeat data yet. The copy is one transaction: it lands whole or not at all.
Stop the scheduler's tools while it runs, then point them at the new database (--db, HB_DB or
the config's "database").

The PostgreSQL password comes from libpq's usual places (~/.pgpass, PGPASSFILE, PGPASSWORD),
never from the command line; it is never printed.

Examples:
  hb-migrate --to postgresql://heartbeat@db.internal:5432/heartbeat
      copy the database the other tools use (--db, HB_DB, the config, or the default)
  hb-migrate --from /var/lib/heartbeat/heartbeat.db --to postgresql://hb@db/heartbeat --json

Exit status:
  0         copied
  64        usage error
  65        no source database, or the target already holds data
  74        database error
  75        temporary failure (the server is unreachable): nothing was copied)";

} // namespace

int main(int argc, char** argv)
{
  using namespace hb;
  CLI::App app(k_description, "hb-migrate");
  tools::CommonOptions options;
  tools::add_common_options(app, options, tools::HasJson::yes);
  std::string from;
  std::string to;
  app.add_option("--from", from,
                 "The SQLite database to copy (default: the one the other tools use)")
    ->type_name("LOCATION");
  app.add_option("--to", to, "The PostgreSQL database to copy into (postgresql://...)")
    ->type_name("LOCATION")
    ->required();

  return tools::run_tool(app, argc, argv, options, [&]() -> int {
    if (from.empty()) {
      from = tools::load_setup(options, tools::ConfigRequired::database_only,
                               config::RunDiscovery::no)
               .database;
    }
    const store::CopyReport report = store::copy_database(from, to, [&](const auto& table) {
      util::log_debug(fmt::format("{}: {} rows", table.name, table.rows));
    });
    if (options.quiet) {
      return 0;
    }
    if (options.json) {
      tools::print_json(output::copy_to_json(report));
    } else {
      output::print_copy(report, std::cout, options.verbose > 0);
    }
    return 0;
  });
}
