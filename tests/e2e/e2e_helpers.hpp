// SPDX-License-Identifier: MIT
#pragma once

#include "support/test_server.hpp"
#include "support/tool_runner.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace hb::test {

// A temp dir with a config file and a database path, and shortcuts to run the tools on them.
struct Workspace {
  TempDir dir;
  std::string config = (dir / "heartbeat.json").string();
  std::string db = (dir / "heartbeat.db").string();

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

  ToolResult status(std::vector<std::string> args = {}, const std::string& now = "",
                    std::map<std::string, std::string> env = {}) const
  {
    args.insert(args.begin(), {"--config", config, "--db", db});
    if (!now.empty()) {
      env["HB_NOW"] = now;
    }
    return run_tool("hb-status", args, env);
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

  // Runs hb-status --json and returns the parsed output with the exit code in "exitCode".
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

  // Runs one query returning a single integer.
  long long scalar(const std::string& sql) const
  {
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getInt64();
  }
  std::string text(const std::string& sql) const
  {
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

} // namespace hb::test
