// SPDX-License-Identifier: MIT
#pragma once

#include "support/json_schema.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"
#include "support/tool_runner.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <csignal>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hb::test {

// Returns true when hb-status ARGS shows one target in depth (hb-status TARGET): when an
// argument is neither an option nor an option's value.
inline bool names_target(const std::vector<std::string>& args)
{
  static const std::vector<std::string> with_value{"-c", "--config", "--db", "--color",
                                                   "--log-format", "--window", "--prometheus"};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      return i + 1 < args.size();
    }
    if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      ++i;
    } else if (a.empty() || a[0] != '-') {
      return true;
    }
  }
  return false;
}

// The schema of what hb-status ARGS --json prints: docs/schema/hb-status-target.schema.json for
// hb-status TARGET, else docs/schema/hb-status.schema.json (the overview, also without a
// database).
inline std::string status_schema(const std::vector<std::string>& args)
{
  if (std::find(args.begin(), args.end(), "--report") != args.end()) {
    return schema_file("hb-status-report.schema.json");
  }
  return schema_file(names_target(args) ? "hb-status-target.schema.json" : "hb-status.schema.json");
}

// With --json among ARGS (and no --nagios, which turns every failure into its own line), fails
// the test unless what hb-status printed matches its schema, with the validator's message. An
// exit code of 0-3 is a report, which must have been printed unless -q kept it back; an error
// exit (64, 65, 74, ...) prints none, and then there is nothing to check.
inline void check_status_schema(const std::vector<std::string>& args, const ToolResult& r)
{
  const auto given = [&](const char* flag) {
    return std::find(args.begin(), args.end(), flag) != args.end();
  };
  if (!given("--json") || given("--nagios")) {
    return;
  }
  if (r.out.empty()) {
    if (r.exit_code >= 0 && r.exit_code <= 3 && !given("-q") && !given("--quiet")) {
      FAIL_CHECK("hb-status " << nlohmann::json(args).dump() << " exited " << r.exit_code
                              << " and printed no JSON; stderr: " << r.err);
    }
    return;
  }
  const std::string schema = status_schema(args);
  const std::string errors = schema_errors(schema, r.out);
  if (!errors.empty()) {
    FAIL_CHECK("hb-status " << nlohmann::json(args).dump() << " printed JSON that does not match "
                            << schema << ":\n" << errors << "\nthe output:\n" << r.out.substr(0, 16384));
  }
}

// What hb-status --json wrote to `files` (tools run in the background, each exited 0-3) must
// match the overview's schema; validated by one run of the validator.
inline void check_status_schema_files(const std::vector<std::filesystem::path>& files)
{
  std::vector<std::string> paths;
  for (const auto& file : files) {
    if (read_file(file).empty()) {
      FAIL_CHECK("hb-status --json exited 0-3 and printed no JSON into " << file);
    } else {
      paths.push_back(file.string());
    }
  }
  const std::string schema = schema_file("hb-status.schema.json");
  const std::string errors = schema_errors_in_files(schema, paths);
  if (!errors.empty()) {
    FAIL_CHECK("hb-status --json printed JSON that does not match " << schema << ":\n" << errors);
  }
}

// A temp dir with a config file and a database, and shortcuts to run the tools on them. The
// database is a SQLite file in the folder, or with HB_TEST_DB=postgres a fresh schema on the
// suite's PostgreSQL server (tests that are about SQLite's file are tagged [sqlite] and left out
// of that run).
struct Workspace {
  TempDir dir;
  std::string config = (dir / "heartbeat.json").string();
  std::unique_ptr<PgSchema> pg = testing_postgres() ? std::make_unique<PgSchema>() : nullptr;
  std::string db = pg ? pg->url() : (dir / "heartbeat.db").string();

  bool on_postgres() const { return pg != nullptr; }

  void write_config(const std::string& text) const { dir.write("heartbeat.json", text); }

  ToolResult pulse(std::vector<std::string> args = {}, const std::string& now = "",
                   std::map<std::string, std::string> env = {}) const
  {
    args.insert(args.begin(), {"--config", config, "--db", db});
    if (!now.empty()) {
      env["HB_NOW"] = now;
    }
    return run_tool("hb-pulse", args, env);
  }

  // Runs hb-status; with --json, what it printed must match its schema (check_status_schema).
  ToolResult status(std::vector<std::string> args = {}, const std::string& now = "",
                    std::map<std::string, std::string> env = {}) const
  {
    args.insert(args.begin(), {"--config", config, "--db", db});
    if (!now.empty()) {
      env["HB_NOW"] = now;
    }
    auto r = run_tool("hb-status", args, env);
    check_status_schema(args, r);
    return r;
  }

  ToolResult beat(std::vector<std::string> args, const std::string& now = "",
                  std::map<std::string, std::string> env = {}) const
  {
    args.insert(args.begin(), {"--config", config, "--db", db});
    if (!now.empty()) {
      env["HB_NOW"] = now;
    }
    return run_tool("hb-beat", args, env);
  }

  ToolResult recover(std::vector<std::string> args = {}, const std::string& now = "",
                     std::map<std::string, std::string> env = {}) const
  {
    args.insert(args.begin(), {"--config", config, "--db", db});
    if (!now.empty()) {
      env["HB_NOW"] = now;
    }
    return run_tool("hb-recover", args, env);
  }

  // Runs hb-recover --json (exit 0 required) and returns the parsed output.
  nlohmann::json recover_json(std::vector<std::string> args = {}, const std::string& now = "") const
  {
    args.push_back("--json");
    const auto r = recover(args, now);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }

  // Runs hb-status --json and returns the parsed output with the exit code in "exitCode"; the
  // output matches its schema (docs/schema/), or the test fails.
  nlohmann::json status_json(std::vector<std::string> args = {}, const std::string& now = "") const
  {
    args.push_back("--json");
    const auto r = status(args, now);
    INFO("stderr: " << r.err);
    auto out = nlohmann::json::parse(r.out);
    CHECK(out.at("exitCode") == r.exit_code);
    return out;
  }

  // Runs hb-pulse --json and returns the parsed output, failing the test on a bad exit.
  nlohmann::json pulse_json(std::vector<std::string> args = {}, const std::string& now = "") const
  {
    args.push_back("--json");
    const auto r = pulse(args, now);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }

  // Runs one query returning a single integer, on either backend (plain SQL both take; a
  // boolean column, PostgreSQL's t or f, reads as 1 or 0 as in SQLite).
  long long scalar(const std::string& sql) const
  {
    if (pg) {
      const std::string value = pg_query(db, sql);
      if (value == "t" || value == "f") {
        return value == "t" ? 1 : 0;
      }
      return value.empty() ? 0 : std::stoll(value);
    }
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getInt64();
  }
  // Every row of `sql`, each column as text ("" for NULL), on either backend.
  std::vector<std::vector<std::string>> rows(const std::string& sql) const
  {
    if (pg) {
      return pg_rows(db, sql);
    }
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(database, sql);
    std::vector<std::vector<std::string>> out;
    while (q.executeStep()) {
      auto& row = out.emplace_back();
      for (int c = 0; c < q.getColumnCount(); ++c) {
        row.push_back(q.getColumn(c).getString());
      }
    }
    return out;
  }
  std::string text(const std::string& sql) const
  {
    if (pg) {
      return pg_query(db, sql);
    }
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getString();
  }
};

// The entry of `details` for target `id`.
inline nlohmann::json detail(const nlohmann::json& pulse, const std::string& id)
{
  for (const auto& d : pulse.at("details")) {
    if (d.at("id") == id) {
      return d;
    }
  }
  FAIL("no detail for target " << id);
  return {};
}

inline std::string plugin(const std::string& name)
{
  return std::string(HB_PLUGIN_DIR) + "/" + name;
}

// Starts a tool in the background with stdout/stderr going to files in `dir`.
inline pid_t spawn_tool(const std::string& tool, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::filesystem::path& out,
                 const std::filesystem::path& err)
{
  const std::string bin = tool_path(tool);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Catch's handlers must not run here: a signal sent to the child before execv would print
    // a "fatal error" report as if the test itself had been killed.
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGILL, SIGFPE}) {
      ::signal(signal, SIG_DFL);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env) {
      ::setenv(k.c_str(), v.c_str(), 1);
    }
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

inline int wait_exit(pid_t pid)
{
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits until `path` is non-empty (true) or child `pid` has exited (false, and reaped into
// `exit_code`), whichever comes first; no fixed window to guess on a slow machine.
inline bool wait_for_file_or_exit(const std::filesystem::path& path, pid_t pid, int& exit_code)
{
  while (true) {
    if (std::filesystem::exists(path) && std::filesystem::file_size(path) > 0) {
      return true;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline bool wait_for_file(const std::filesystem::path& path, std::chrono::milliseconds limit)
{
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (std::filesystem::exists(path) && std::filesystem::file_size(path) > 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

} // namespace hb::test
