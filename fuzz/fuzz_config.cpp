// SPDX-License-Identifier: MIT
// Fuzzes the config loader, hb::config::load_from_string, with discovery off so that no input
// ever runs a program. hb::ConfigError is the expected way to refuse a config; any other
// exception escaping the loader is a finding, and so aborts.
//
// The loader reads files named by the config: includes (relative to the current directory for
// config text) and {"file": ...} secrets (relative to the current directory). Each run therefore
// happens inside a private scratch directory holding a few fixture files to include, and inputs
// that name a path which could leave it (absolute, "..", hidden or escaped components) are
// skipped, so that a fuzzer never reads /dev/zero or blocks on a FIFO somewhere.
#include "config/config.hpp"
#include "core/errors.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path g_scratch;
fs::path g_home;
std::vector<std::string> g_argv_storage;
std::vector<char*> g_argv;

// Files an input may include or read as a secret: valid, broken, cyclic, nested and misplaced.
void write_fixtures(const fs::path& dir)
{
  const auto write = [&](const fs::path& name, std::string_view content) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name, std::ios::binary) << content;
  };
  write("inc.json", R"({"check_sets": {"inc-web": [{"type": "http", "url": "http://${id}.test/"}]},
  "targets": [{"id": "inc-a", "use": "inc-web"}]})");
  write("conf.d/10-tcp.json", R"({"targets": [{"id": "conf-tcp", "checks": [
  {"type": "tcp", "host": "127.0.0.1", "port": 9}]}]})");
  write("conf.d/20-nested.json", R"({"include": ["../inc.json", "sched/*.json"]})");
  write("conf.d/sched/s.json", R"({"schedules": [{"name": "nightly", "cron": "0 3 * * *",
  "command": ["/bin/true"], "target": "conf-tcp"}]})");
  write("cycle.json", R"({"include": "cycle.json"})");
  write("bad.json", R"({"targets": [)");
  write("empty.json", "");
  write("array.json", "[]");
  write("main-only.json", R"({"database": "x.db"})");
  write("secret.txt", "s3cret\n");
}

// Returns true when `path`, relative to the scratch directory, stays inside it: not absolute,
// no component starting with '.' (so no "..", and no glob like ".*" that matches it), no
// backslash (an escaped '.' in a glob).
bool stays_inside(const std::string& path)
{
  if (path.empty() || path.front() == '/' || path.front() == '.' ||
      path.find("/.") != std::string::npos || path.find('\\') != std::string::npos) {
    return false;
  }
  return true;
}

// Returns false when `root` holds a {"file": path} secret that could read outside the scratch
// directory. Any string may be read through ConfigNode::as_string(), so the whole tree is
// walked, without recursion: inputs nest thousands of levels deep.
bool secrets_stay_inside(const nlohmann::json& root)
{
  std::vector<const nlohmann::json*> pending{&root};
  while (!pending.empty()) {
    const nlohmann::json& value = *pending.back();
    pending.pop_back();
    if (value.is_object() && value.size() == 1) {
      const auto file = value.find("file");
      if (file != value.end() && file->is_string() && !stays_inside(file->get<std::string>())) {
        return false;
      }
    }
    if (value.is_structured()) {
      for (const auto& child : value) {
        pending.push_back(&child);
      }
    }
  }
  return true;
}

// Returns false for an input whose includes or secrets could read outside the scratch directory.
// Text that is not JSON is fine: the loader refuses it before reading anything.
bool is_harmless(const std::string& text)
{
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false,
                                          /*ignore_comments=*/true);
  if (json.is_discarded()) {
    return true;
  }
  if (json.is_object()) {
    if (const auto include = json.find("include"); include != json.end()) {
      if (include->is_string() && !stays_inside(include->get<std::string>())) {
        return false;
      }
      if (include->is_array()) {
        for (const auto& pattern : *include) {
          if (pattern.is_string() && !stays_inside(pattern.get<std::string>())) {
            return false;
          }
        }
      }
    }
  }
  return secrets_stay_inside(json);
}

[[noreturn]] void fail(const std::string& what)
{
  std::fprintf(stderr, "fuzz_config: %s\n", what.c_str());
  std::abort();
}

// What a loaded config promises beyond "no exception": values read back, limits kept.
void check_config(const hb::config::Config& config)
{
  const auto check_hours = [](const std::optional<hb::config::ActiveHours>& hours) {
    if (!hours) {
      return;
    }
    const auto again = hb::config::ActiveHours::parse(hours->text());
    if (!again || again->start_minute != hours->start_minute ||
        again->end_minute != hours->end_minute) {
      fail("active hours \"" + hours->text() + "\" do not read back");
    }
  };
  check_hours(config.defaults.active_hours);
  for (const auto& target : config.targets) {
    if (!hb::config::is_valid_target_id(target.id)) {
      fail("loaded a target with invalid id \"" + target.id + "\"");
    }
    if (config.find_target(target.id) == nullptr) {
      fail("find_target does not find \"" + target.id + "\"");
    }
    if (!hb::config::is_valid_timezone(target.timezone)) {
      fail("target \"" + target.id + "\" has invalid timezone \"" + target.timezone + "\"");
    }
    if (target.interval <= hb::Duration(0) || target.stale_after <= hb::Duration(0)) {
      fail("target \"" + target.id + "\" has a duration that is not positive");
    }
    check_hours(target.active_hours);
    for (const auto& check : target.checks) {
      if (check.probe == nullptr) {
        fail("check \"" + check.name + "\" of \"" + target.id + "\" has no probe");
      }
      (void)check.probe->describe();
    }
  }
  for (const auto& schedule : config.schedules) {
    if (schedule.cron == nullptr || schedule.command.empty()) {
      fail("schedule \"" + schedule.name + "\" has no cron expression or no command");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv)
{
  g_home = fs::current_path();
  const char* tmp = std::getenv("TMPDIR");
  std::string scratch = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                        "/hb-fuzz-config.XXXXXX";
  if (::mkdtemp(scratch.data()) == nullptr) {
    std::perror("fuzz_config: mkdtemp");
    std::exit(1);
  }
  g_scratch = scratch;
  write_fixtures(g_scratch);
  // The variables examples/*.json and the seed corpus refer to, so that those configs load
  // fully instead of stopping at the first placeholder.
  for (const char* name : {"HB_FUZZ_TOKEN", "API_TOKEN", "ACME_API_TOKEN", "GLOBEX_API_TOKEN",
                           "STATUS_PASSWORD", "CAMPAIGN_TOKEN"}) {
    ::setenv(name, "s3cret", 1);
  }
  ::setenv("HB_DEMO_DIR", "demo", 1);
  ::setenv("HB_DEMO_PORT", "8080", 1);
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(g_scratch, ignored);
  });

  // A crash is written while the run is inside the scratch directory: unless told otherwise,
  // libFuzzer's files go where the fuzzer was started, as they would for any other target.
  bool has_prefix = false;
  for (int i = 1; i < *argc; ++i) {
    const std::string_view arg = (*argv)[i];
    has_prefix = has_prefix || arg.rfind("-artifact_prefix=", 0) == 0 ||
                 arg.rfind("-exact_artifact_path=", 0) == 0;
  }
  if (!has_prefix) {
    g_argv_storage.push_back("-artifact_prefix=" + (g_home / "").string());
    g_argv.assign(*argv, *argv + *argc);
    g_argv.push_back(g_argv_storage.back().data());
    g_argv.push_back(nullptr);
    *argc += 1;
    *argv = g_argv.data();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!is_harmless(text)) {
    return -1;  // keeps the input out of the corpus
  }
  if (::chdir(g_scratch.c_str()) != 0) {
    fail("cannot enter the scratch directory " + g_scratch.string());
  }
  hb::config::LoadOptions options;
  options.discovery = hb::config::RunDiscovery::no;
  try {
    check_config(hb::config::load_from_string(text, "heartbeat.json", options));
  } catch (const hb::ConfigError&) {
    // the expected refusal
  } catch (const std::exception& e) {
    fail(std::string("unexpected ") + typeid(e).name() + " escaped the loader: " + e.what());
  } catch (...) {
    fail("an exception that is not a std::exception escaped the loader");
  }
  if (::chdir(g_home.c_str()) != 0) {
    fail("cannot go back to " + g_home.string());
  }
  return 0;
}
