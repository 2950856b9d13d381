// SPDX-License-Identifier: MIT
// Shared by the reliability and hostile-input suites: starting tools in the background (to kill
// them, or to start a hundred at once), and the database invariants that must hold after any of
// that.
#pragma once

#include "store/sqlite/sqlite_store.hpp"
#include "support/tool_runner.hpp"

#include "support/postgres.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace hb::test {

// Sanitizer builds run the tools several times slower: suites with many trials scale down.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool k_sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool k_sanitized = true;
#else
inline constexpr bool k_sanitized = false;
#endif
#else
inline constexpr bool k_sanitized = false;
#endif

// The seed of a randomised suite: HB_TEST_SEED when set (to replay a failure), else `fallback`.
inline std::uint32_t test_seed(std::uint32_t fallback)
{
  const char* text = std::getenv("HB_TEST_SEED");
  return text != nullptr && *text != '\0' ? static_cast<std::uint32_t>(std::stoul(text)) : fallback;
}

// Starts bin/<tool> with `args` in a process group of its own (so that the group can be killed
// without touching the test), stdin from /dev/null and stdout/stderr to the files `out` and
// `err`. The environment is the test's own without HB_CONFIG, HB_DB, HB_NOW and
// HEARTBEAT_ENABLED, plus NO_COLOR=1 and `env`. Returns the pid; throws std::runtime_error when
// the tool cannot be started.
inline pid_t spawn_in_group(const std::string& tool, const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env,
                            const std::filesystem::path& out, const std::filesystem::path& err)
{
  const std::string path = tool_path(tool);
  std::vector<std::string> argv_text{path};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) {
      environment[std::string(text.substr(0, eq))] = std::string(text.substr(eq + 1));
    }
  }
  for (const char* name : {"HB_CONFIG", "HB_DB", "HB_NOW", "HEARTBEAT_ENABLED"}) {
    environment.erase(name);
  }
  environment["NO_COLOR"] = "1";
  for (const auto& [name, value] : env) {
    environment[name] = value;
  }
  std::vector<std::string> env_text;
  for (const auto& [name, value] : environment) {
    env_text.push_back(name + "=" + value);
  }
  std::vector<char*> argv;
  for (auto& a : argv_text) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_text) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  sigset_t all_signals;
  sigset_t no_signals;
  ::sigfillset(&all_signals);
  ::sigemptyset(&no_signals);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETSIGMASK);
  ::posix_spawnattr_setpgroup(&attributes, 0);
  ::posix_spawnattr_setsigdefault(&attributes, &all_signals);
  ::posix_spawnattr_setsigmask(&attributes, &no_signals);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attributes, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    throw std::runtime_error(fmt::format("cannot start {}: {}", path, std::strerror(rc)));
  }
  return pid;
}

// Waits for `pid`; returns its exit code, or 128 + the signal that killed it.
inline int reap(pid_t pid)
{
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The rows of a query whose every row is one text column, joined with "; ".
inline std::string query_text(SQLite::Database& db, const std::string& sql)
{
  SQLite::Statement q(db, sql);
  std::string out;
  while (q.executeStep()) {
    out += (out.empty() ? "" : "; ") + q.getColumn(0).getString();
  }
  return out;
}

// One invariant: a query counting the rows that break it (0 when it holds) and what it means.
struct Invariant {
  std::string what;
  std::string sql;
};

// SQL for the rank of the check or execution status in `column`, the worst highest.
inline std::string status_rank(const std::string& column)
{
  return "CASE " + column +
         " WHEN 'ok' THEN 0 WHEN 'all_clear' THEN 0 WHEN 'warning' THEN 1 "
         "WHEN 'alert' THEN 2 WHEN 'error' THEN 3 ELSE 99 END";
}

// What a pulse writes (SPEC §5: each execution whole or absent). Hold after any number of pulses
// killed at any instant, as long as the config (the checks of each target) did not change and
// no check was cut off by a deadline or a signal.
inline const std::vector<Invariant>& pulse_invariants()
{
  static const std::vector<Invariant> k_invariants{
      {"an execution without a result for each check of its target",
       "SELECT count(*) FROM executions e WHERE (SELECT count(*) FROM check_results r WHERE "
       "r.execution_id = e.id) != (SELECT count(*) FROM checks c WHERE c.target_id = e.target_id)"},
      {"a check result for a check its target does not have",
       "SELECT count(*) FROM check_results r JOIN executions e ON e.id = r.execution_id WHERE NOT "
       "EXISTS (SELECT 1 FROM checks c WHERE c.target_id = e.target_id AND c.name = r.check_name)"},
      {"a check result without its execution",
       "SELECT count(*) FROM check_results WHERE execution_id NOT IN (SELECT id FROM executions)"},
      {"an execution whose status is not the worst of its results",
       "SELECT count(*) FROM executions e WHERE " + status_rank("e.status") + " != (SELECT max(" +
           status_rank("r.status") + ") FROM check_results r WHERE r.execution_id = e.id)"},
      {"an execution of a pulse that was never recorded",
       "SELECT count(*) FROM executions WHERE pulse_id IS NOT NULL AND pulse_id NOT IN (SELECT id "
       "FROM pulses)"},
      {"a pulse in an impossible state",
       "SELECT count(*) FROM pulses WHERE NOT ((completed_at IS NULL AND status = 'running') OR "
       "(completed_at IS NOT NULL AND status IN ('ok', 'error', 'interrupted') AND completed_at >= "
       "started_at))"},
      {"a finished pulse whose targets_run differs from its executions",
       "SELECT count(*) FROM pulses p WHERE p.completed_at IS NOT NULL AND p.targets_run != "
       "(SELECT "
       "count(*) FROM executions e WHERE e.pulse_id = p.id)"},
      {"a pulse finished ok whose checks_run differs from its check results",
       "SELECT count(*) FROM pulses p WHERE p.status = 'ok' AND p.checks_run != (SELECT count(*) "
       "FROM check_results r JOIN executions e ON e.id = r.execution_id WHERE e.pulse_id = p.id)"},
      {"a finished pulse that still holds claims",
       "SELECT count(*) FROM leases l JOIN pulses p ON p.owner = l.owner WHERE p.completed_at IS "
       "NOT NULL"},
      {"a target with executions but no state", "SELECT count(*) FROM (SELECT DISTINCT target_id "
                                                "FROM executions) t WHERE t.target_id NOT IN "
                                                "(SELECT target_id FROM target_states)"},
      {"a target state out of step with the target's latest execution",
       "SELECT count(*) FROM target_states s WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE "
       "e.id = (SELECT max(id) FROM executions x WHERE x.target_id = s.target_id) AND e.started_at "
       "= s.last_execution_at AND e.status = s.last_status)"},
      {"a target's success or failure streak that does not match its executions",
       "SELECT count(*) FROM target_states s WHERE s.consecutive_successes != (SELECT count(*) "
       "FROM "
       "executions e WHERE e.target_id = s.target_id AND e.status = 'all_clear' AND e.id > "
       "coalesce((SELECT max(id) FROM executions x WHERE x.target_id = s.target_id AND x.status != "
       "'all_clear'), 0)) OR s.consecutive_failures != (SELECT count(*) FROM executions e WHERE "
       "e.target_id = s.target_id AND e.status != 'all_clear' AND e.id > coalesce((SELECT max(id) "
       "FROM executions x WHERE x.target_id = s.target_id AND x.status = 'all_clear'), 0))"},
      {"a check state out of step with the check's latest result",
       "SELECT count(*) FROM check_states cs WHERE cs.last_status != (SELECT r.status FROM "
       "check_results r WHERE r.execution_id = (SELECT max(id) FROM executions x WHERE x.target_id "
       "= cs.target_id) AND r.check_name = cs.check_name)"},
      {"a target that always had the same result but whose health events do not show exactly one "
       "change (none when all clear)",
       "SELECT count(*) FROM (SELECT target_id, min(status) AS status, count(DISTINCT status) AS n "
       "FROM executions GROUP BY target_id) t WHERE t.n = 1 AND (SELECT count(*) FROM events ev "
       "WHERE ev.target_id = t.target_id AND ev.type IN ('failing', 'warning', 'recovered')) != "
       "CASE WHEN t.status = 'all_clear' THEN 0 ELSE 1 END"},
  };
  return k_invariants;
}

// What hb-beat writes: each beat or run together with the counters and pointers of its target.
inline const std::vector<Invariant>& beat_invariants()
{
  static const std::vector<Invariant> k_invariants{
      {"an agent whose beat counter differs from its recorded beats",
       "SELECT count(*) FROM beat_states s JOIN targets t ON t.id = s.target_id WHERE t.kind != "
       "'job' AND s.beats != (SELECT count(*) FROM beats b WHERE b.target_id = s.target_id)"},
      {"beats of a target without a beat state",
       "SELECT count(*) FROM (SELECT DISTINCT target_id FROM beats) b WHERE b.target_id NOT IN "
       "(SELECT target_id FROM beat_states)"},
      {"a job whose run counter differs from its recorded runs",
       "SELECT count(*) FROM beat_states s JOIN targets t ON t.id = s.target_id WHERE t.kind = "
       "'job' AND s.beats != (SELECT count(*) FROM job_runs r WHERE r.target_id = s.target_id)"},
      {"a job whose last run is not its newest run",
       "SELECT count(*) FROM beat_states s JOIN targets t ON t.id = s.target_id WHERE t.kind = "
       "'job' AND coalesce(s.last_run_id, -1) != coalesce((SELECT max(id) FROM job_runs r WHERE "
       "r.target_id = s.target_id), -1)"},
      {"runs of a job without a beat state",
       "SELECT count(*) FROM (SELECT DISTINCT target_id FROM job_runs) r WHERE r.target_id NOT IN "
       "(SELECT target_id FROM beat_states)"},
      {"a job run in an impossible state",
       "SELECT count(*) FROM job_runs WHERE NOT ((completed_at IS NULL AND status = 'running' AND "
       "exit_code IS NULL) OR (completed_at IS NOT NULL AND status IN ('succeeded', 'failed', "
       "'timed_out') AND (command = '' OR exit_code IS NOT NULL) AND completed_at >= started_at))"},
  };
  return k_invariants;
}

// Ages every claim in the database at `path` past its expiry, as the database's clock passing
// the claims' time-to-live would. Claims are judged by the database's wall clock, which HB_NOW
// does not move, so a test that replays later instants with HB_NOW ages them with this.
inline void expire_claims(const std::string& path)
{
  if (path.rfind("postgres", 0) == 0) {
    pg_query(path, "DO $$ BEGIN IF to_regclass('leases') IS NOT NULL THEN "
                   "UPDATE leases SET expires_at = acquired_at; END IF; END $$");
    return;
  }
  if (!std::filesystem::exists(path)) {
    return;
  }
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  sqlite3_db_config(db.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  db.setBusyTimeout(30'000);
  if (db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'leases'").getInt() == 1) {
    db.exec("UPDATE leases SET expires_at = acquired_at");
  }
}

// Everything wrong with the database at `path`: integrity_check and foreign_key_check, then each
// invariant of `invariants` that does not hold. Empty when all is well (or when there is no
// database yet). On PostgreSQL (whose server keeps its own pages and foreign keys whole) only the
// invariants are checked.
inline std::vector<std::string> database_problems(const std::string& path,
                                                  const std::vector<Invariant>& invariants)
{
  std::vector<std::string> problems;
  if (path.rfind("postgres", 0) == 0) {
    try {
      if (pg_query(path, "SELECT to_regclass('meta') IS NOT NULL") != "t") {
        return problems;  // killed before the schema was created: nothing to look at
      }
      std::vector<std::string> queries;
      for (const auto& invariant : invariants) {
        queries.push_back(invariant.sql);
      }
      const auto counts = pg_query_each(path, queries);
      for (std::size_t i = 0; i < invariants.size(); ++i) {
        if (const long long broken = std::stoll(counts[i]); broken != 0) {
          problems.push_back(fmt::format("{} ({} rows)", invariants[i].what, broken));
        }
      }
    } catch (const std::exception& e) {
      problems.push_back(std::string("cannot read the database: ") + e.what());
    }
    return problems;
  }
  if (!std::filesystem::exists(path)) {
    return problems;
  }
  try {
    // Read-write, as the next tool would open it: a read-only connection cannot roll back the
    // journal of a process killed while it created the database. No checkpoint when it closes,
    // so that the next tool still finds the WAL the killed one left.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    sqlite3_db_config(db.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    db.setBusyTimeout(30'000);
    const std::string integrity = query_text(db, "PRAGMA integrity_check");
    if (integrity != "ok") {
      problems.push_back("integrity_check: " + integrity);
    }
    if (db.execAndGet("PRAGMA user_version").getInt() < store::sqlite::sqlite_schema_version()) {
      return problems; // killed before the schema was complete: nothing else to look at
    }
    SQLite::Statement fk(db, "PRAGMA foreign_key_check");
    if (fk.executeStep()) {
      problems.push_back("foreign_key_check: a row of " + fk.getColumn(0).getString() +
                         " points at nothing");
    }
    for (const auto& invariant : invariants) {
      const long long broken = db.execAndGet(invariant.sql).getInt64();
      if (broken != 0) {
        problems.push_back(fmt::format("{} ({} rows)", invariant.what, broken));
      }
    }
  } catch (const std::exception& e) {
    problems.push_back(std::string("cannot read the database: ") + e.what());
  }
  return problems;
}

} // namespace hb::test
