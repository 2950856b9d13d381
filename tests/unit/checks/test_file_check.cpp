// SPDX-License-Identifier: MIT
#include "checks/file_check.hpp"

#include "support/test_helpers.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using hb::CheckStatus;
using hb::Duration;
using hb::checks::CheckContext;
using hb::checks::CheckDef;
using hb::checks::CheckResult;
using hb::Metric;
using hb::test::find_metric;
using hb::test::ScopedEnv;
using nlohmann::json;
using namespace std::chrono_literals;

class FileScratch {
public:
  FileScratch()
  {
    std::string pattern = (fs::temp_directory_path() / "hb-file-check-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
  }
  FileScratch(const FileScratch&) = delete;
  FileScratch& operator=(const FileScratch&) = delete;
  ~FileScratch()
  {
    std::error_code ec;
    fs::permissions(m_path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

  // Writes `size` bytes to `name`, last modified `age` ago.
  std::string write(const std::string& name, std::size_t size, fs::file_time_type::duration age)
  {
    const fs::path file = m_path / name;
    std::ofstream(file, std::ios::binary) << std::string(size, 'z');
    fs::last_write_time(file, fs::file_time_type::clock::now() - age);
    return file.string();
  }

private:
  fs::path m_path;
};

json file_spec(const std::string& path, json extra = json::object())
{
  json spec{{"name", "backup"}, {"type", "file"}, {"path", path}};
  for (const auto& [key, value] : extra.items()) {
    spec[key] = value;
  }
  return spec;
}

// The messages below quote a top-level check in heartbeat.json; every run gets 10 s.
const hb::test::CheckPlace k_place{"heartbeat.json", "checks[0]"};

CheckDef parse_check(const json& spec)
{
  return hb::test::parse_check(spec, k_place);
}

CheckResult run_check(const json& spec)
{
  return hb::test::run_check(spec, Duration(10'000), k_place);
}

std::string config_error(const json& spec)
{
  return hb::test::config_error(spec, k_place);
}

} // namespace

TEST_CASE("file check")
{
  FileScratch scratch;

  SECTION("a fresh, large enough file is ok, with size and age metrics")
  {
    const std::string path = scratch.write("db.gz", 2048, 2h);
    const CheckResult result = run_check(file_spec(path, {{"max_age", "3h"}, {"min_size", 1000}}));
    CHECK(result.status == CheckStatus::ok);
    CHECK(result.message == path + ": 2.0 KB, 2h old");
    CHECK(result.phase.empty());
    const Metric* size = find_metric(result, "size");
    REQUIRE(size != nullptr);
    CHECK(size->value == 2048);
    CHECK(size->unit == "B");
    const Metric* age = find_metric(result, "age");
    REQUIRE(age != nullptr);
    CHECK(age->unit == "s");
    CHECK(age->value == Approx(7200).margin(60));
  }

  SECTION("sizes are shown in binary units")
  {
    CHECK(run_check(file_spec(scratch.write("small", 10, 3min))).message ==
          (scratch.path() / "small").string() + ": 10 B, 3m old");
    CHECK(run_check(file_spec(scratch.write("big", 1258291, 0s))).message.find(": 1.2 MB, ") !=
          std::string::npos);
  }

  SECTION("a file older than max_age fails in phase age")
  {
    const std::string path = scratch.write("db.gz", 10, 26h);
    const CheckResult result = run_check(file_spec(path, {{"max_age", "24h"}}));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.phase == "age");
    CHECK(result.message == path + " is 1d 2h old (max_age 1d)");
    REQUIRE(find_metric(result, "age") != nullptr);
  }

  SECTION("failures take the check's severity")
  {
    const std::string path = scratch.write("db.gz", 10, 2h);
    const CheckResult result =
        run_check(file_spec(path, {{"max_age", "1h"}, {"severity", "warning"}}));
    CHECK(result.status == CheckStatus::warning);
    CHECK(result.message == path + " is 2h old (max_age 1h)");
  }

  SECTION("a missing file fails in phase missing")
  {
    const std::string path = (scratch.path() / "nothing-here").string();
    const CheckResult result = run_check(file_spec(path));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.phase == "missing");
    CHECK(result.message == path + " does not exist");
    CHECK(result.metrics.empty());
  }

  SECTION("a path through a regular file counts as missing")
  {
    const std::string file = scratch.write("plain", 1, 0s);
    const CheckResult result = run_check(file_spec(file + "/below"));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.phase == "missing");
  }

  SECTION("a file smaller than min_size fails in phase size")
  {
    const std::string path = scratch.write("db.gz", 2048, 1min);
    const CheckResult result = run_check(file_spec(path, {{"min_size", 4096}}));
    CHECK(result.status == CheckStatus::alert);
    CHECK(result.phase == "size");
    CHECK(result.message == path + " is only 2048 bytes (min_size 4096 bytes)");
    CHECK(run_check(file_spec(path, {{"min_size", 2048}})).status == CheckStatus::ok);
  }

  SECTION("an empty file fails min_size 1")
  {
    const std::string path = scratch.write("empty", 0, 1min);
    CHECK(run_check(file_spec(path, {{"min_size", 1}})).phase == "size");
    CHECK(run_check(file_spec(path)).status == CheckStatus::ok);
  }

  SECTION("exists: false wants the file absent")
  {
    const std::string absent = (scratch.path() / "maintenance.flag").string();
    const CheckResult ok = run_check(file_spec(absent, {{"exists", false}}));
    CHECK(ok.status == CheckStatus::ok);
    CHECK(ok.message == absent + " does not exist, as required");

    const std::string present = scratch.write("maintenance.flag", 1, 0s);
    const CheckResult failing = run_check(file_spec(present, {{"exists", false}}));
    CHECK(failing.status == CheckStatus::alert);
    CHECK(failing.phase == "exists");
    CHECK(failing.message == present + " exists but must not");
  }

  SECTION("a directory is checked for age but has no size")
  {
    const fs::path dir = scratch.path() / "spool";
    fs::create_directory(dir);
    fs::last_write_time(dir, fs::file_time_type::clock::now() - 5min);
    const CheckResult result = run_check(file_spec(dir.string(), {{"max_age", "1h"}}));
    CHECK(result.status == CheckStatus::ok);
    CHECK(result.message == dir.string() + ": directory, 5m old");
    CHECK(find_metric(result, "size") == nullptr);
    CHECK(run_check(file_spec(dir.string(), {{"min_size", 1}})).phase == "size");
  }

  SECTION("ages are measured against the context's clock, never HB_NOW")
  {
    const std::string path = scratch.write("db.gz", 10, 0s);
    const hb::TimePoint written = hb::util::parse_rfc3339("2026-02-08T13:05:00Z").value();
    fs::last_write_time(path, std::chrono::file_clock::from_sys(written));
    const CheckDef def = parse_check(file_spec(path, {{"max_age", "7d"}}));
    std::atomic<bool> cancel{false};
    hb::util::ManualClock clock(written + std::chrono::hours(24 * 10 + 1));
    const CheckResult late = def.probe->run(CheckContext{cancel, Duration(10'000), clock});
    CHECK(late.status == CheckStatus::alert);
    CHECK(late.message == path + " is 10d 1h old (max_age 7d)");
    clock.set(written + std::chrono::hours(24));
    const CheckResult fresh = def.probe->run(CheckContext{cancel, Duration(10'000), clock});
    CHECK(fresh.status == CheckStatus::ok);
    CHECK(fresh.message == path + ": 10 B, 1d old");
    // The tool turns HB_NOW into its clock; the check itself does not look.
    ScopedEnv now("HB_NOW", "2026-02-18T14:05:00Z");
    CHECK(def.probe->run(CheckContext{cancel, Duration(10'000), clock}).status == CheckStatus::ok);
  }

  SECTION("a file written in the future counts as new")
  {
    const std::string path = scratch.write("future", 10, -2h);
    const CheckResult result = run_check(file_spec(path, {{"max_age", "1h"}}));
    CHECK(result.status == CheckStatus::ok);
    CHECK(find_metric(result, "age")->value == 0);
  }

  SECTION("a permission error is an error, not a failure")
  {
    if (::geteuid() == 0) {
      WARN("skipped: root is not stopped by permissions");
    } else {
      const fs::path locked = scratch.path() / "locked";
      fs::create_directory(locked);
      const std::string inside = (locked / "file").string();
      std::ofstream(inside) << "x";
      fs::permissions(locked, fs::perms::none);
      const CheckResult result = run_check(file_spec(inside));
      fs::permissions(locked, fs::perms::owner_all);
      CHECK(result.status == CheckStatus::error);
      CHECK(result.phase == "stat");
      CHECK(result.message == "cannot stat " + inside + ": Permission denied");
    }
  }

  SECTION("describe names the path")
  {
    CHECK(parse_check(file_spec("/var/backups/db.gz")).probe->describe() ==
          "file /var/backups/db.gz");
  }

  SECTION("a cancelled pulse gets an error")
  {
    const CheckDef def = parse_check(file_spec(scratch.write("x", 1, 0s)));
    std::atomic<bool> cancel{true};
    const CheckResult result =
        def.probe->run(CheckContext{cancel, Duration(1000), hb::test::system_clock()});
    CHECK(result.status == CheckStatus::error);
    CHECK(result.phase == "cancelled");
  }
}

TEST_CASE("file check: config errors")
{
  SECTION("a missing path")
  {
    CHECK(
        config_error(json{{"name", "backup"}, {"type", "file"}}) ==
        R"(heartbeat.json: checks[0]: missing "path" (the file to check, like "/var/backups/db.gz"))");
  }

  SECTION("a path of the wrong type or empty")
  {
    CHECK(config_error(file_spec("")) == R"(heartbeat.json: checks[0].path: expected a file path )"
                                         R"(like "/var/backups/db.gz", got "")");
    json spec = file_spec("x");
    spec["path"] = 3;
    CHECK(config_error(spec) == R"(heartbeat.json: checks[0].path: expected a file path like )"
                                R"("/var/backups/db.gz", got 3)");
  }

  SECTION("min_size must be a number of bytes")
  {
    CHECK(
        config_error(file_spec("/x", {{"min_size", "1KB"}})) ==
        R"(heartbeat.json: checks[0].min_size: expected a size in bytes like 1048576, got "1KB")");
    CHECK(config_error(file_spec("/x", {{"min_size", -1}})) ==
          "heartbeat.json: checks[0].min_size: expected an integer >= 0, got -1");
  }

  SECTION("max_age must be a positive duration")
  {
    CHECK(config_error(file_spec("/x", {{"max_age", "a day"}})) ==
          R"(heartbeat.json: checks[0].max_age: expected a duration like "30s", got "a day")");
    CHECK(
        config_error(file_spec("/x", {{"max_age", "0s"}})) ==
        R"(heartbeat.json: checks[0].max_age: expected a positive duration like "24h", got "0s")");
  }

  SECTION("exists: false excludes the other conditions")
  {
    CHECK(config_error(file_spec("/x", {{"exists", false}, {"max_age", "1h"}})) ==
          R"(heartbeat.json: checks[0].exists: "exists": false cannot be combined with )"
          R"("max_age" or "min_size")");
    CHECK(config_error(file_spec("/x", {{"exists", "no"}})) ==
          R"(heartbeat.json: checks[0].exists: expected true or false, got "no")");
  }

  SECTION("an unknown key")
  {
    CHECK(
        config_error(file_spec("/x", {{"max_size", 5}})) ==
        R"(heartbeat.json: checks[0].max_size: unknown key "max_size" (did you mean "min_size"?))");
  }
}
