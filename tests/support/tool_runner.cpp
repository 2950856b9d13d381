// SPDX-License-Identifier: MIT
#include "support/tool_runner.hpp"

#include "support/json_schema.hpp"
#include "util/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace hb::test {

TempDir::TempDir()
{
  std::string pattern = (std::filesystem::temp_directory_path() / "hb-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_path = pattern;
}

TempDir::~TempDir()
{
  bool failed = std::uncaught_exceptions() > 0;
  try {
    failed = failed || !Catch::getResultCapture().lastAssertionPassed();
  } catch (...) {
  }
  if (failed || std::getenv("HB_KEEP_TEST_DIRS") != nullptr) {
    std::cerr << "test data left in " << m_path << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const
{
  const auto path = m_path / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return path;
}

std::string tool_path(const std::string& tool) { return std::string(HB_BIN_DIR) + "/" + tool; }

namespace {

// What hb-pulse, hb-beat, hb-notify, hb-recover and hb-migrate print with --json must match
// docs/schema/<tool>.schema.json, whatever the test is about: a field a printer gains without
// its schema fails the suite. (hb-status and hb-diagnose have several documents each and their
// own checks: e2e_helpers.hpp, test_diagnose.cpp.) Only the tool's own options count: a --json
// after "--" belongs to a wrapped command.
void check_json_schema(const std::string& tool, const std::vector<std::string>& args,
                       const ToolResult& result)
{
  static const std::vector<std::string> k_tools{"hb-pulse", "hb-beat", "hb-notify", "hb-recover",
                                                "hb-migrate"};
  if (std::find(k_tools.begin(), k_tools.end(), tool) == k_tools.end() || result.out.empty()) {
    return;
  }
  const auto end = std::find(args.begin(), args.end(), "--");
  if (std::find(args.begin(), end, "--json") == end) {
    return;
  }
  const std::string schema = schema_file(tool + ".schema.json");
  const std::string errors = schema_errors(schema, result.out);
  if (!errors.empty()) {
    FAIL_CHECK(tool << " --json printed JSON that does not match " << schema << ":\n"
                    << errors << "\nthe output:\n" << result.out.substr(0, 16384));
  }
}

} // namespace

ToolResult run_tool(const std::string& tool, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env)
{
  std::vector<std::string> argv{tool_path(tool)};
  argv.insert(argv.end(), args.begin(), args.end());
  ToolResult result = run_command(argv, env);
  check_json_schema(tool, args, result);
  return result;
}

ToolResult run_command(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env)
{
  util::ProcessSpec spec;
  spec.argv = argv;
  // Neutralise the caller's heartbeat environment; an empty value means "unset" to the tools.
  spec.env = {{"HB_CONFIG", ""}, {"HB_DB", ""}, {"HB_NOW", ""}, {"HEARTBEAT_ENABLED", ""},
              {"NO_COLOR", "1"}};
  for (const auto& [k, v] : env) {
    spec.env[k] = v;
  }
  spec.timeout = std::chrono::seconds(60);
  spec.output_cap = 16 * 1024 * 1024;
  spec.stderr_mode = util::ProcessSpec::Stderr::separate;
  const auto r = util::run_process(spec);
  ToolResult out;
  out.out = r.output;
  out.err = r.error_output;
  if (r.end == util::ProcessResult::End::exited) {
    out.exit_code = r.exit_code;
  } else if (r.end == util::ProcessResult::End::signaled) {
    out.exit_code = 128 + r.term_signal;
  } else {
    out.exit_code = -1;
    out.err += "\n[test runner: " + r.error + "]";
  }
  return out;
}

bool has_plugin(const std::string& name)
{
  return ::access((std::string(HB_PLUGIN_DIR) + "/" + name).c_str(), X_OK) == 0;
}

std::string read_file(const std::filesystem::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace hb::test
