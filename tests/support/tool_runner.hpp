// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hb::test {

// A fresh temporary folder per test. Removed afterwards, unless the test failed (or
// HB_KEEP_TEST_DIRS is set): then it is kept and its path printed, to look at what was left.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }
  // Writes `content` to `name` inside the folder and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

private:
  std::filesystem::path m_path;
};

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a built tool (bin/<tool>) with `args`, extra environment `env`, and a 60 s timeout. What
// hb-pulse, hb-beat, hb-notify, hb-recover and hb-migrate print with --json is validated against
// their schema in docs/schema/ (a mismatch fails the test).
// HB_CONFIG, HB_DB, HB_NOW and HEARTBEAT_ENABLED from the test's own environment are not passed
// on unless given in `env`.
ToolResult run_tool(const std::string& tool, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {});

// The same for any command (argv[0] a path), e.g. a tool under script(1).
ToolResult run_command(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env = {});

// Path of a built tool.
std::string tool_path(const std::string& tool);

// Returns true when the Nagios plugin `name` is installed.
bool has_plugin(const std::string& name);

// Text of a file.
std::string read_file(const std::filesystem::path& path);

} // namespace hb::test
