// SPDX-License-Identifier: MIT
#include "support/json_schema.hpp"

#include "util/process.hpp"

#include <fmt/format.h>

namespace hb::test {
namespace {

// Debian's interpreter, where python3-jsonschema is installed (a python3 earlier in PATH, such as
// a pyenv shim, may not have it, or have another version).
constexpr const char* k_python = "/usr/bin/python3";

} // namespace

std::string schema_file(const std::string& file) { return std::string(HB_SCHEMA_DIR) + "/" + file; }

int run_validator(const std::vector<std::string>& args, const std::string& document,
                  std::string& message, const std::map<std::string, std::string>& env)
{
  util::ProcessSpec spec;
  spec.argv = {k_python, HB_VALIDATE_JSON};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.stdin_data = document;
  spec.timeout = std::chrono::seconds(60);
  spec.stderr_mode = util::ProcessSpec::Stderr::separate;
  spec.output_cap = 1024 * 1024;
  const auto r = util::run_process(spec);
  message = r.error_output + r.output;
  if (r.end != util::ProcessResult::End::exited) {
    message += fmt::format("{}[{} {} did not exit: {}]", message.empty() ? "" : "\n", k_python,
                           HB_VALIDATE_JSON, r.error.empty() ? "killed or timed out" : r.error);
    return -1;
  }
  return r.exit_code;
}

std::string schema_errors(const std::string& schema, const std::string& document)
{
  // An empty document goes in as /dev/null, which the validator calls "not JSON".
  std::string message;
  const int code = run_validator({schema, "-"}, document, message);
  if (code == 0) {
    return "";
  }
  return message.empty() ? fmt::format("validate_json.py exited {} and said nothing", code)
                         : message;
}

std::string schema_errors_in_files(const std::string& schema, const std::vector<std::string>& files)
{
  if (files.empty()) {
    return "";
  }
  std::vector<std::string> args{schema};
  args.insert(args.end(), files.begin(), files.end());
  std::string message;
  const int code = run_validator(args, "", message);
  if (code == 0) {
    return "";
  }
  return message.empty() ? fmt::format("validate_json.py exited {} and said nothing", code)
                         : message;
}

} // namespace hb::test
