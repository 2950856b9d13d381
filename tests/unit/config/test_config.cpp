// SPDX-License-Identifier: MIT
#include "config/config.hpp"

#include "core/errors.hpp"
#include "support/fifo.hpp"
#include "support/test_helpers.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using hb::ConfigError;
using hb::Duration;
using hb::TemporaryError;
using hb::config::Config;
using hb::config::LoadOptions;
using hb::config::RunDiscovery;
using hb::test::ScopedEnv;
using Catch::Matchers::Message;
using Catch::Matchers::StartsWith;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
public:
  TempDir()
  {
    static std::atomic<int> counter{0};
    m_path = fs::temp_directory_path()
             / fmt::format("hb-config-test-{}-{}", ::getpid(), counter.fetch_add(1));
    fs::remove_all(m_path);
    fs::create_directories(m_path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir()
  {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }

  const fs::path& path() const { return m_path; }

  // Writes `text` to `relative` (creating directories) and returns the absolute path.
  fs::path write(const std::string& relative, const std::string& text,
                 fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) const
  {
    const fs::path file = m_path / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    fs::permissions(file, perms);
    return file;
  }

  // Writes an executable /bin/sh script.
  fs::path script(const std::string& relative, const std::string& body) const
  {
    return write(relative, "#!/bin/sh\n" + body,
                 fs::perms::owner_read | fs::perms::owner_write | fs::perms::owner_exec);
  }

private:
  fs::path m_path;
};

// Runs the rest of a test in `dir`, then returns to the previous working directory.
class ScopedCwd {
public:
  explicit ScopedCwd(const fs::path& dir) : m_old(fs::current_path()) { fs::current_path(dir); }
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;
  ~ScopedCwd() { fs::current_path(m_old); }

private:
  fs::path m_old;
};

// A check type whose describe() is its resolved "text", so tests can see exactly what
// placeholders and secrets resolved to without depending on a built-in type's wording.
class EchoCheck final : public hb::checks::Check {
public:
  explicit EchoCheck(std::string text) : m_text(std::move(text)) {}
  hb::checks::CheckResult run(const hb::checks::CheckContext&) const override
  {
    return {hb::CheckStatus::ok, m_text, Duration(0), {}, ""};
  }
  std::string describe() const override { return m_text; }

private:
  std::string m_text;
};

std::unique_ptr<hb::checks::Check> create_echo(const hb::ConfigNode& spec,
                                               const hb::checks::CommonSettings&)
{
  return std::make_unique<EchoCheck>(spec.get_string("text", ""));
}

const hb::checks::Registry& test_registry()
{
  static const hb::checks::Registry k_registry = [] {
    hb::checks::Registry registry = hb::checks::Registry::builtin();
    registry.add({"echo", {"text"}, &create_echo});
    return registry;
  }();
  return k_registry;
}

LoadOptions options(RunDiscovery discovery = RunDiscovery::no)
{
  LoadOptions result;
  result.discovery = discovery;
  result.registry = &test_registry();
  return result;
}

Config load_text(const std::string& text)
{
  return hb::config::load_from_string(text, "heartbeat.json", options());
}

Config load_file(const fs::path& path, RunDiscovery discovery = RunDiscovery::no)
{
  return hb::config::load(path, options(discovery));
}

// The message load_text() throws, or "" when it does not throw.
std::string error_of(const std::string& text)
{
  try {
    load_text(text);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A config with one target whose body is `target_json` (without braces).
std::string one_target(const std::string& target_json)
{
  return "{\"targets\": [{" + target_json + "}]}";
}

constexpr Duration minutes(int n)
{
  return Duration(n * 60'000);
}

} // namespace

TEST_CASE("load_from_string")
{
  SECTION("a full config: defaults are inherited and overrides win")
  {
    const Config config = load_text(R"({
      "$schema": "https://example.com/heartbeat.schema.json",
      "database": "/var/lib/heartbeat/heartbeat.db",
      "pulse": {"interval": "10m", "deadline": "90s", "concurrency": 8},
      "defaults": {
        "interval": "15m",
        "active_hours": {"start": "09:00", "end": "21:00"},
        "timezone": "America/New_York",
        "stale_after": "12h",
        "new_target_grace": "7d"
      },
      "targets": [
        {
          "id": "api",
          "checks": [
            {"name": "health", "type": "http", "url": "https://api.example.com/health"},
            {"name": "db", "type": "tcp", "host": "db.internal", "port": 5432},
            {"name": "backup", "type": "file", "path": "/var/backups/db.gz", "max_age": "26h",
             "timeout": "5s", "severity": "warning", "confirm": 3, "recover_after": 2},
            {"name": "disk", "type": "command",
             "command": ["/usr/lib/nagios/plugins/check_dummy", "0", "fine"]}
          ]
        },
        {
          "id": "acme",
          "name": "Acme Corp",
          "kind": "tenant",
          "tags": ["prod", "eu", "prod"],
          "paused": true,
          "interval": "1h",
          "active_hours": "always",
          "timezone": "Europe/Berlin",
          "stale_after": "2d",
          "new_target_grace": "0s"
        }
      ]
    })");

    CHECK(config.database == "/var/lib/heartbeat/heartbeat.db");
    CHECK(config.file == "heartbeat.json");
    CHECK(config.pulse.interval == minutes(10));
    CHECK(config.pulse.deadline == Duration(90'000));
    CHECK(config.pulse.concurrency == 8);
    CHECK(config.defaults.interval == minutes(15));
    REQUIRE(config.defaults.active_hours);
    CHECK(config.defaults.active_hours->text() == "09:00-21:00");
    CHECK(config.defaults.timezone == "America/New_York");
    REQUIRE(config.targets.size() == 2);

    const auto& api = config.targets[0];
    CHECK(api.id == "api");
    CHECK(api.name == "api");
    CHECK(api.kind == hb::TargetKind::service);
    CHECK(api.tags.empty());
    CHECK_FALSE(api.paused);
    CHECK(api.interval == minutes(15));
    REQUIRE(api.active_hours);
    CHECK(api.active_hours->start_minute == 9 * 60);
    CHECK(api.active_hours->end_minute == 21 * 60);
    CHECK(api.timezone == "America/New_York");
    CHECK(api.stale_after == minutes(12 * 60));
    CHECK(api.new_target_grace == minutes(7 * 24 * 60));
    CHECK(api.source == "heartbeat.json: targets[0]");
    REQUIRE(api.checks.size() == 4);
    CHECK(api.checks[0].name == "health");
    CHECK(api.checks[0].type == "http");
    CHECK(api.checks[0].timeout == Duration(10'000));
    CHECK(api.checks[0].severity == hb::Severity::alert);
    CHECK(api.checks[0].confirm == 1);
    CHECK(api.checks[0].recover_after == 1);
    CHECK(api.checks[0].probe != nullptr);
    CHECK(api.checks[1].type == "tcp");
    CHECK(api.checks[2].type == "file");
    CHECK(api.checks[2].timeout == Duration(5'000));
    CHECK(api.checks[2].severity == hb::Severity::warning);
    CHECK(api.checks[2].confirm == 3);
    CHECK(api.checks[2].recover_after == 2);
    CHECK(api.checks[3].type == "command");

    const auto& acme = config.targets[1];
    CHECK(acme.name == "Acme Corp");
    CHECK(acme.kind == hb::TargetKind::tenant);
    CHECK(acme.tags == std::vector<std::string>{"prod", "eu"});
    CHECK(acme.paused);
    CHECK(acme.interval == minutes(60));
    CHECK_FALSE(acme.active_hours);
    CHECK(acme.timezone == "Europe/Berlin");
    CHECK(acme.stale_after == minutes(2 * 24 * 60));
    CHECK(acme.new_target_grace == Duration(0));
    CHECK(acme.checks.empty());

    CHECK(config.find_target("acme") == &config.targets[1]);
    CHECK(config.find_target("nope") == nullptr);
  }

  SECTION("built-in defaults when nothing is configured")
  {
    const Config config = load_text(R"({"targets": [{"id": "a"}]})");
    CHECK(config.database.empty());
    CHECK(config.pulse.interval == minutes(5));
    CHECK(config.pulse.deadline == Duration(120'000));
    CHECK(config.pulse.concurrency == 32);
    const auto& target = config.targets.at(0);
    CHECK(target.interval == minutes(30));
    CHECK_FALSE(target.active_hours);
    CHECK(target.timezone == "UTC");
    CHECK(target.stale_after == minutes(24 * 60));
    CHECK(target.new_target_grace == Duration(0));
  }

  SECTION("an empty object is a valid config")
  {
    CHECK(load_text("{}").targets.empty());
  }

  SECTION("comments are accepted")
  {
    const Config config = load_text(R"({
      // line comment
      "targets": [ /* block comment */ {"id": "a"} ]
    })");
    CHECK(config.targets.size() == 1);
  }

  SECTION("a relative database path resolves against the current directory")
  {
    TempDir dir;
    ScopedCwd cwd(dir.path());
    const Config config = load_text(R"({"database": "state/hb.db"})");
    CHECK(config.database == (fs::current_path() / "state/hb.db").string());
  }

  SECTION("the database path may come from the environment")
  {
    ScopedEnv env("HB_TEST_DB_PATH", "/srv/hb.db");
    CHECK(load_text(R"({"database": "${HB_TEST_DB_PATH}"})").database == "/srv/hb.db");
  }

  SECTION("invalid JSON reports line and column")
  {
    CHECK(error_of("{\n  \"targets\": [\n    {\"id\": \"a\",}\n  ]\n}")
          == "heartbeat.json:3:16: invalid JSON: unexpected '}'; expected string literal");
    CHECK(error_of("{\n  \"pulse\": tru\n}") == "heartbeat.json:2:15: invalid JSON: invalid literal");
    CHECK(error_of("{\"targets\": [") == "heartbeat.json:1:14: invalid JSON: unexpected end of "
                                         "input; expected '[', '{', or a literal");
  }

  SECTION("an empty text")
  {
    CHECK(error_of("") == "heartbeat.json: the file is empty (expected a JSON object)");
    CHECK(error_of(" \n\t\n") == "heartbeat.json: the file is empty (expected a JSON object)");
  }

  SECTION("a top level that is not an object")
  {
    CHECK(error_of(R"([{"id": "a"}])")
          == R"(heartbeat.json: expected a JSON object at the top level, got [{"id":"a"}])");
  }

  SECTION("unknown top-level keys, with a suggestion for typos")
  {
    CHECK(error_of(R"({"recover": {}})")
          == R"(heartbeat.json: recover: unknown key "recover" (did you mean "recovery"?))");
    CHECK(error_of(R"({"retension": {}})")
          == R"(heartbeat.json: retension: unknown key "retension" (did you mean "retention"?))");
    CHECK(error_of(R"({"targest": []})")
          == R"(heartbeat.json: targest: unknown key "targest" (did you mean "targets"?))");
  }

  SECTION("$schema must be a string")
  {
    CHECK(error_of(R"({"$schema": 1})") == "heartbeat.json: $schema: expected a string, got 1");
  }

  SECTION("a bad duration names file, path, expectation and value (the SPEC example)")
  {
    CHECK_THROWS_MATCHES(load_text(R"({"targets": [
        {"id": "a"}, {"id": "b"}, {"id": "c"},
        {"id": "d", "checks": [{"name": "x", "type": "file", "path": "/x", "timeout": "abc"}]}
      ]})"),
                         ConfigError,
                         Message(R"(heartbeat.json: targets[3].checks[0].timeout: expected a )"
                                 R"(duration like "30s", got "abc")"));
  }

  SECTION("intervals and deadlines must be positive")
  {
    CHECK(error_of(R"({"defaults": {"interval": "0s"}})")
          == R"(heartbeat.json: defaults.interval: expected a positive duration like "30m", got "0s")");
    CHECK(error_of(one_target(R"("id": "a", "interval": "0m")"))
          == R"(heartbeat.json: targets[0].interval: expected a positive duration like "30m", got "0m")");
    CHECK(error_of(R"({"pulse": {"deadline": "0s"}})")
          == R"(heartbeat.json: pulse.deadline: expected a positive duration like "120s", got "0s")");
    CHECK(error_of(R"({"pulse": {"interval": "5 minutes"}})")
          == R"(heartbeat.json: pulse.interval: expected a duration like "30s", got "5 minutes")");
  }

  SECTION("pulse.concurrency is 1 to 1024")
  {
    CHECK(load_text(R"({"pulse": {"concurrency": 1024}})").pulse.concurrency == 1024);
    CHECK(error_of(R"({"pulse": {"concurrency": 0}})")
          == "heartbeat.json: pulse.concurrency: expected an integer from 1 to 1024, got 0");
    CHECK(error_of(R"({"pulse": {"concurrency": 2000}})")
          == "heartbeat.json: pulse.concurrency: expected an integer from 1 to 1024, got 2000");
  }

  SECTION("unknown keys in pulse, defaults and targets")
  {
    CHECK(error_of(R"({"pulse": {"intervall": "5m"}})")
          == R"(heartbeat.json: pulse.intervall: unknown key "intervall" (did you mean "interval"?))");
    CHECK(error_of(R"({"defaults": {"timzone": "UTC"}})")
          == R"(heartbeat.json: defaults.timzone: unknown key "timzone" (did you mean "timezone"?))");
    CHECK(error_of(one_target(R"("id": "a", "notify": [])"))
          == R"(heartbeat.json: targets[0].notify: unknown key "notify")");
  }

  SECTION("target ids")
  {
    CHECK(error_of(R"({"targets": [{"name": "A"}]})") == R"(heartbeat.json: targets[0]: missing "id")");
    CHECK(error_of(one_target(R"("id": "Acme Corp")"))
          == "heartbeat.json: targets[0].id: expected a target id of lowercase letters, digits, "
             "'_', '.' or '-' (at most 100 characters), got \"Acme Corp\"");
    CHECK(error_of(R"({"targets": [{"id": "a"}, {"id": "b"}, {"id": "a"}]})")
          == R"(heartbeat.json: targets[2].id: duplicate target id "a" (first defined at heartbeat.json: targets[0]))");
    CHECK(error_of(R"({"targets": [7]})")
          == "heartbeat.json: targets[0]: expected a target object, got 7");
    CHECK(error_of(R"({"targets": {"id": "a"}})")
          == R"(heartbeat.json: targets: expected an array of targets, got {"id":"a"})");
  }

  SECTION("kind, tags, paused, name")
  {
    CHECK(error_of(one_target(R"("id": "a", "kind": "tennant")"))
          == R"(heartbeat.json: targets[0].kind: expected "tenant", "service", "agent" or "job", got "tennant")");
    CHECK(error_of(one_target(R"("id": "a", "tags": ["Prod"])"))
          == "heartbeat.json: targets[0].tags[0]: expected a tag of lowercase letters, digits, "
             "'_', '.' or '-' (at most 100 characters), got \"Prod\"");
    CHECK(error_of(one_target(R"("id": "a", "tags": "prod")"))
          == R"(heartbeat.json: targets[0].tags: expected an array of tags like ["prod", "eu"], got "prod")");
    CHECK(error_of(one_target(R"("id": "a", "paused": "yes")"))
          == R"(heartbeat.json: targets[0].paused: expected true or false, got "yes")");
    CHECK(error_of(one_target(R"("id": "a", "name": "")"))
          == R"(heartbeat.json: targets[0].name: expected a non-empty name, got "")");
    for (const char* kind : {"tenant", "service", "agent", "job"}) {
      CHECK(hb::to_string(load_text(one_target(fmt::format(R"("id": "a", "kind": "{}")", kind)))
                            .targets.at(0)
                            .kind)
            == kind);
    }
  }

  SECTION("check errors come from the registry with their location")
  {
    CHECK(error_of(one_target(R"("id": "a", "checks": [{"name": "x", "type": "htp"}])"))
          == R"(heartbeat.json: targets[0].checks[0].type: unknown check type "htp" (did you mean "http"?) (known types: http, tcp, command, file, echo))");
    CHECK(error_of(one_target(R"("id": "a", "checks": {"name": "x"})"))
          == R"(heartbeat.json: targets[0].checks: expected an array of checks, got {"name":"x"})");
  }

  SECTION("duplicate check names within a target")
  {
    CHECK(error_of(one_target(R"("id": "a", "checks": [
            {"name": "x", "type": "echo"}, {"name": "x", "type": "echo"}])"))
          == R"(heartbeat.json: targets[0].checks[1].name: duplicate check name "x" (first defined at heartbeat.json: targets[0].checks[0]))");
  }

  SECTION("the same check name in two targets is fine")
  {
    const Config config = load_text(R"({"targets": [
      {"id": "a", "checks": [{"name": "x", "type": "echo"}]},
      {"id": "b", "checks": [{"name": "x", "type": "echo"}]}]})");
    CHECK(config.targets.size() == 2);
  }

  SECTION("timezones are checked against tzdata")
  {
    CHECK(load_text(one_target(R"("id": "a", "timezone": "Asia/Tokyo")")).targets.at(0).timezone
          == "Asia/Tokyo");
    CHECK(error_of(one_target(R"("id": "a", "timezone": "Mars/Base")"))
          == R"(heartbeat.json: targets[0].timezone: expected an IANA timezone like "America/New_York", got "Mars/Base")");
    CHECK(error_of(R"({"defaults": {"timezone": "EST5EDTX"}})")
          == R"(heartbeat.json: defaults.timezone: expected an IANA timezone like "America/New_York", got "EST5EDTX")");
    CHECK(error_of(R"({"defaults": {"timezone": 5}})")
          == R"(heartbeat.json: defaults.timezone: expected an IANA timezone like "America/New_York", got 5)");
  }

  SECTION("active hours")
  {
    const Config config = load_text(R"({
      "defaults": {"active_hours": {"start": "22:00", "end": "06:00"}},
      "targets": [
        {"id": "night"},
        {"id": "always", "active_hours": "always"},
        {"id": "all-day", "active_hours": {"start": "00:00", "end": "00:00"}},
        {"id": "evening", "active_hours": {"start": "18:30", "end": "24:00"}}
      ]})");
    const auto& night = config.targets.at(0).active_hours;
    REQUIRE(night);
    CHECK(night->start_minute == 22 * 60);
    CHECK(night->end_minute == 6 * 60);
    CHECK(night->text() == "22:00-06:00");
    CHECK_FALSE(config.targets.at(1).active_hours);
    REQUIRE(config.targets.at(2).active_hours);
    CHECK(config.targets.at(2).active_hours->text() == "00:00-00:00");
    REQUIRE(config.targets.at(3).active_hours);
    CHECK(config.targets.at(3).active_hours->end_minute == 24 * 60);
    CHECK(config.targets.at(3).active_hours->text() == "18:30-24:00");
  }

  SECTION("bad active hours")
  {
    CHECK(error_of(one_target(R"("id": "a", "active_hours": {"start": "9am", "end": "17:00"})"))
          == R"(heartbeat.json: targets[0].active_hours.start: expected a time like "09:00", got "9am")");
    CHECK(error_of(one_target(R"("id": "a", "active_hours": {"start": "09:00", "end": "25:00"})"))
          == R"(heartbeat.json: targets[0].active_hours.end: expected a time like "21:00", got "25:00")");
    CHECK(error_of(one_target(R"("id": "a", "active_hours": {"start": "24:00", "end": "06:00"})"))
          == R"(heartbeat.json: targets[0].active_hours.start: expected a start time from "00:00" to "23:59", got "24:00")");
    CHECK(error_of(one_target(R"("id": "a", "active_hours": {"start": "09:00"})"))
          == R"(heartbeat.json: targets[0].active_hours: missing "end")");
    CHECK(error_of(one_target(R"("id": "a", "active_hours": {"start": "09:00", "stop": "10:00"})"))
          == R"(heartbeat.json: targets[0].active_hours.stop: unknown key "stop")");
    CHECK(error_of(one_target(R"("id": "a", "active_hours": "never")"))
          == R"(heartbeat.json: targets[0].active_hours: expected {"start": "09:00", "end": "21:00"} or "always", got "never")");
  }

  SECTION("check sets with vars and the built-in ${id} and ${name}")
  {
    const Config config = load_text(R"({
      "check_sets": {
        "web": [
          {"name": "home", "type": "echo", "text": "https://${host}/?tenant=${id}"},
          {"name": "title", "type": "echo", "text": "${name} at $${literal}"}
        ],
        "db": [{"name": "db", "type": "echo", "text": "${id}-db"}]
      },
      "targets": [
        {"id": "acme", "name": "Acme", "use": ["web", "db"], "vars": {"host": "acme.example.com"},
         "checks": [{"name": "extra", "type": "echo", "text": "inline"}]},
        {"id": "globex", "use": "web", "vars": {"host": "globex.example.com", "unused": "x"}}
      ]})");
    REQUIRE(config.targets.size() == 2);
    const auto& acme = config.targets[0].checks;
    REQUIRE(acme.size() == 4);
    CHECK(acme[0].name == "home");
    CHECK(acme[0].probe->describe() == "https://acme.example.com/?tenant=acme");
    CHECK(acme[1].probe->describe() == "Acme at ${literal}");
    CHECK(acme[2].probe->describe() == "acme-db");
    CHECK(acme[3].name == "extra");
    const auto& globex = config.targets[1].checks;
    REQUIRE(globex.size() == 2);
    CHECK(globex[0].probe->describe() == "https://globex.example.com/?tenant=globex");
    CHECK(globex[1].probe->describe() == "globex at ${literal}");
  }

  SECTION("a placeholder that is neither a var nor set in the environment")
  {
    ScopedEnv unset("HOST_FOR_TEST", nullptr);
    CHECK(error_of(R"({
      "check_sets": {"web": [{"name": "home", "type": "echo", "text": "https://${HOST_FOR_TEST}/"}]},
      "targets": [{"id": "ok", "use": "web", "vars": {"HOST_FOR_TEST": "x"}},
                  {"id": "acme", "use": "web"}]})")
          == R"(heartbeat.json: check_sets.web[0].text (used by target "acme"): "${HOST_FOR_TEST}" is neither a variable given in "vars" nor a set environment variable)");
  }

  SECTION("an unknown check set, with a suggestion")
  {
    CHECK(error_of(R"({"check_sets": {"web": [], "database": []},
                       "targets": [{"id": "a", "use": ["web", "databse"]}]})")
          == R"(heartbeat.json: targets[0].use[1]: unknown check set "databse" (did you mean "database"?))");
    CHECK(error_of(R"({"check_sets": {"web": []}, "targets": [{"id": "a", "use": "xyz"}]})")
          == R"(heartbeat.json: targets[0].use: unknown check set "xyz" (defined: web))");
    CHECK(error_of(one_target(R"("id": "a", "use": "web")"))
          == R"(heartbeat.json: targets[0].use: unknown check set "web" (no check sets are defined))");
    CHECK(error_of(R"({"check_sets": {"web": []}, "targets": [{"id": "a", "use": ["web", "web"]}]})")
          == R"(heartbeat.json: targets[0].use[1]: check set "web" is already used)");
  }

  SECTION("a check from a set and an inline check with the same name")
  {
    CHECK(error_of(R"({"check_sets": {"web": [{"name": "home", "type": "echo"}]},
                       "targets": [{"id": "a", "use": "web",
                                    "checks": [{"name": "home", "type": "echo"}]}]})")
          == R"(heartbeat.json: targets[0].checks[0].name: duplicate check name "home" (first defined at heartbeat.json: check_sets.web[0]))");
  }

  SECTION("two sets with the same check name")
  {
    CHECK(error_of(R"({"check_sets": {"a": [{"name": "x", "type": "echo"}],
                                      "b": [{"name": "x", "type": "echo"}]},
                       "targets": [{"id": "t", "use": ["a", "b"]}]})")
          == R"(heartbeat.json: check_sets.b[0].name (used by target "t"): duplicate check name "x" (first defined at heartbeat.json: check_sets.a[0]))");
  }

  SECTION("an error in a used set names the set and the target")
  {
    CHECK(error_of(R"({"check_sets": {"web": [{"name": "x", "type": "echo", "timeout": "soon"}]},
                       "targets": [{"id": "acme", "use": "web"}]})")
          == R"(heartbeat.json: check_sets.web[0].timeout (used by target "acme"): expected a duration like "30s", got "soon")");
  }

  SECTION("unused sets are validated for shape but their placeholders are not resolved")
  {
    ScopedEnv unset("HB_TEST_NOT_SET", nullptr);
    CHECK(load_text(R"({"check_sets": {"web": [{"name": "x", "type": "echo",
                                                 "text": "${HB_TEST_NOT_SET}"}]}})")
            .targets.empty());
    CHECK(error_of(R"({"check_sets": {"web": {"name": "x"}}})")
          == R"(heartbeat.json: check_sets.web: expected an array of checks, got {"name":"x"})");
    CHECK(error_of(R"({"check_sets": {"web": ["x"]}})")
          == R"(heartbeat.json: check_sets.web[0]: expected a check object, got "x")");
    CHECK(error_of(R"({"check_sets": {"web": [{"name": "x"}]}})")
          == R"(heartbeat.json: check_sets.web[0]: missing "type")");
    CHECK(error_of(R"({"check_sets": {"web": [{"name": "x", "type": "echo", "txt": "a"}]}})")
          == R"(heartbeat.json: check_sets.web[0].txt: unknown key "txt" (did you mean "text"?))");
    CHECK(error_of(R"({"check_sets": {"web": [{"name": "x", "type": "ftp"}]}})")
          == R"(heartbeat.json: check_sets.web[0].type: unknown check type "ftp" (known types: http, tcp, command, file, echo))");
    CHECK(error_of(R"({"check_sets": []})")
          == R"(heartbeat.json: check_sets: expected an object of named check lists like {"web": [...]}, got [])");
  }

  SECTION("vars")
  {
    CHECK(error_of(one_target(R"("id": "a", "vars": {"id": "b"})"))
          == R"(heartbeat.json: targets[0].vars.id: "id" is a built-in variable (the target's id); choose another name)");
    CHECK(error_of(one_target(R"("id": "a", "vars": {"port": 80})"))
          == R"(heartbeat.json: targets[0].vars.port: expected a string, got 80)");
    CHECK(error_of(one_target(R"("id": "a", "vars": ["x"])"))
          == R"(heartbeat.json: targets[0].vars: expected an object of strings like {"host": "acme.example.com"}, got ["x"])");
  }

  SECTION("secrets from the environment")
  {
    ScopedEnv token("HB_TEST_TOKEN", "s3cr3t-t0ken");
    const Config config = load_text(R"({
      "check_sets": {"api": [{"name": "auth", "type": "echo", "text": "Bearer ${token}"}]},
      "targets": [{"id": "a", "use": "api", "vars": {"token": "${HB_TEST_TOKEN}"},
                   "checks": [{"name": "direct", "type": "echo", "text": "${HB_TEST_TOKEN}"},
                              {"name": "object", "type": "echo", "text": {"env": "HB_TEST_TOKEN"}}]}]})");
    const auto& checks = config.targets.at(0).checks;
    REQUIRE(checks.size() == 3);
    CHECK(checks[0].probe->describe() == "Bearer s3cr3t-t0ken");
    CHECK(checks[1].probe->describe() == "s3cr3t-t0ken");
    CHECK(checks[2].probe->describe() == "s3cr3t-t0ken");
  }

  SECTION("a missing environment secret")
  {
    ScopedEnv unset("HB_TEST_MISSING", nullptr);
    CHECK(error_of(one_target(R"("id": "a", "checks": [{"name": "x", "type": "echo", "text": "${HB_TEST_MISSING}"}])"))
          == R"(heartbeat.json: targets[0].checks[0].text: environment variable "HB_TEST_MISSING" is not set)");
    CHECK(error_of(one_target(R"("id": "a", "checks": [{"name": "x", "type": "echo", "text": {"env": "HB_TEST_MISSING"}}])"))
          == R"(heartbeat.json: targets[0].checks[0].text.env: environment variable "HB_TEST_MISSING" is not set)");
  }

  SECTION("a resolved secret never appears in an error")
  {
    ScopedEnv token("HB_TEST_TOKEN", "s3cr3t-t0ken");
    const std::string messages[] = {
      error_of(R"({"check_sets": {"api": [{"name": "x", "type": "echo", "text": "${token}", "confirm": 0}]},
                   "targets": [{"id": "a", "use": "api", "vars": {"token": "${HB_TEST_TOKEN}"}}]})"),
      error_of(one_target(R"("id": "a", "checks": [{"name": "x", "type": "file", "path": "${HB_TEST_TOKEN}", "max_age": "old"}])")),
      error_of(one_target(R"("id": "a", "vars": {"token": {"env": "HB_TEST_TOKEN"}}, "timezone": "${HB_TEST_TOKEN}")")),
      error_of(one_target(R"("id": "a", "name": {"env": "HB_TEST_TOKEN"}, "kind": "x")")),
    };
    for (const auto& message : messages) {
      CHECK_FALSE(message.empty());
      CHECK(message.find("s3cr3t") == std::string::npos);
    }
    CHECK(messages[2]
          == R"(heartbeat.json: targets[0].timezone: expected an IANA timezone like "America/New_York", got "${HB_TEST_TOKEN}")");
  }

  SECTION("a secret read from a file loses one trailing newline")
  {
    TempDir dir;
    const fs::path secret = dir.write("token", "file-s3cret\n");
    const Config config = load_text(one_target(fmt::format(
      R"("id": "a", "checks": [{{"name": "x", "type": "echo", "text": {{"file": "{}"}}}}])",
      secret.string())));
    CHECK(config.targets.at(0).checks.at(0).probe->describe() == "file-s3cret");
    CHECK(error_of(one_target(R"("id": "a", "checks": [{"name": "x", "type": "echo", "text": {"file": "/nonexistent/hb-secret"}}])"))
          == R"(heartbeat.json: targets[0].checks[0].text.file: cannot read secret file "/nonexistent/hb-secret": no such file or directory)");
  }

  SECTION("discovery entries are validated even when discovery is not run")
  {
    CHECK(error_of(R"({"discovery": [{"timeout": "5s"}]})")
          == R"(heartbeat.json: discovery[0]: missing "command")");
    CHECK(error_of(R"({"discovery": [{"command": "/bin/list-tenants --json"}]})")
          == R"(heartbeat.json: discovery[0].command: expected a non-empty array of strings like ["/usr/local/bin/list-tenants"], got "/bin/list-tenants --json")");
    CHECK(error_of(R"({"discovery": [{"command": ["/bin/x"], "timeout": "0s"}]})")
          == R"(heartbeat.json: discovery[0].timeout: expected a positive duration like "30s", got "0s")");
    CHECK(error_of(R"({"discovery": [{"command": ["/bin/x"], "defaults": {}}]})")
          == R"(heartbeat.json: discovery[0].defaults: unknown key "defaults")");
    CHECK(error_of(R"({"discovery": {"command": ["/bin/x"]}})")
          == R"(heartbeat.json: discovery: expected an array of discovery commands like [{"command": ["/usr/local/bin/list-tenants"]}], got {"command":["/bin/x"]})");
    CHECK(load_text(R"({"discovery": [{"command": ["/nonexistent/list-tenants"]}]})").targets.empty());
  }
}

TEST_CASE("load")
{
  TempDir dir;

  SECTION("a missing file")
  {
    const fs::path missing = dir.path() / "nope.json";
    CHECK_THROWS_MATCHES(load_file(missing), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": no such file or "
                                             "directory",
                                             missing.string())));
  }

  SECTION("a directory")
  {
    CHECK_THROWS_MATCHES(load_file(dir.path()), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": is a directory, "
                                             "not a regular file",
                                             dir.path().string())));
  }

  SECTION("a FIFO is refused, never waited on")
  {
    const hb::test::Fifo fifo(dir.path() / "heartbeat.json");
    CHECK_THROWS_MATCHES(load_file(fifo.path()), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": is a FIFO, not a "
                                             "regular file",
                                             fifo.path().string())));
    CHECK_THROWS_MATCHES(hb::config::read_database_setting(fifo.path()), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": is a FIFO, not a "
                                             "regular file",
                                             fifo.path().string())));
  }

  SECTION("a device is refused by its type")
  {
    fs::create_symlink("/dev/null", dir.path() / "heartbeat.json");
    CHECK_THROWS_MATCHES(load_file(dir.path() / "heartbeat.json"), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": is a character "
                                             "device, not a regular file",
                                             (dir.path() / "heartbeat.json").string())));
  }

  SECTION("a config file over 4 MiB is refused")
  {
    const fs::path file = dir.write("heartbeat.json", "{}");
    fs::resize_file(file, 5 * 1024 * 1024 + 200 * 1024);
    CHECK_THROWS_MATCHES(load_file(file), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": is 5.2 MiB, over "
                                             "the 4 MiB limit for config files",
                                             file.string())));
  }

  SECTION("a symlink loop says so")
  {
    fs::create_symlink("loop.json", dir.path() / "heartbeat.json");
    fs::create_symlink("heartbeat.json", dir.path() / "loop.json");
    const std::string path = (dir.path() / "heartbeat.json").string();
    CHECK(hb::config::locate(path) == fs::path(path));
    CHECK_THROWS_MATCHES(load_file(path), ConfigError,
                         Message(fmt::format("cannot read config file \"{}\": too many levels "
                                             "of symbolic links (a symlink loop?)",
                                             path)));
  }

  SECTION("an unreadable file")
  {
    if (::geteuid() == 0) {
      WARN("running as root: permissions are not enforced, skipping the unreadable-file case");
    } else {
      const fs::path file = dir.write("heartbeat.json", "{}", fs::perms::none);
      CHECK_THROWS_MATCHES(load_file(file), ConfigError,
                           Message(fmt::format("cannot read config file \"{}\": permission "
                                               "denied",
                                               file.string())));
    }
  }

  SECTION("an empty file and invalid JSON are named by file name")
  {
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", "")),
                      "heartbeat.json: the file is empty (expected a JSON object)");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", "{\n\n   x\n}")),
                      "heartbeat.json:3:4: invalid JSON: invalid literal; expected string literal");
  }

  SECTION("the database resolves against the config file's directory")
  {
    const fs::path file = dir.write("etc/heartbeat.json", R"({"database": "../state/hb.db"})");
    const Config config = load_file(file);
    CHECK(config.database == (dir.path() / "state/hb.db").string());
    CHECK(config.file == file);
    CHECK(load_file(dir.write("abs.json", R"({"database": "/srv/hb.db"})")).database
          == "/srv/hb.db");
  }

  SECTION("includes: globs, nesting, sorted results, check sets across files")
  {
    dir.write("conf.d/b-globex.json", R"({"targets": [{"id": "globex", "use": "web"}]})");
    dir.write("conf.d/a-acme.json", R"({
      // included files may carry comments too
      "targets": [{"id": "acme", "use": "web"}],
      "include": "more/*.json"
    })");
    dir.write("conf.d/more/initech.json", R"({"targets": [{"id": "initech", "use": "web"}]})");
    dir.write("conf.d/notes.txt", "not json");
    dir.write("conf.d/sub.json/ignored.json", "{}");  // a directory matched by the glob
    dir.write("sets/web.json",
              R"({"check_sets": {"web": [{"name": "home", "type": "echo", "text": "${id}"}]}})");
    const fs::path main = dir.write("heartbeat.json", R"({
      "targets": [{"id": "main"}],
      "include": ["conf.d/*.json", "sets/web.json", "nothing/*.json"]
    })");
    const Config config = load_file(main);
    std::vector<std::string> ids;
    for (const auto& target : config.targets) {
      ids.push_back(target.id);
    }
    CHECK(ids == std::vector<std::string>{"main", "acme", "initech", "globex"});
    CHECK(config.find_target("initech")->source == "conf.d/more/initech.json: targets[0]");
    CHECK(config.find_target("initech")->checks.at(0).probe->describe() == "initech");
  }

  SECTION("a file included twice is read once")
  {
    dir.write("conf.d/a.json", R"({"targets": [{"id": "a"}]})");
    const Config config =
      load_file(dir.write("heartbeat.json", R"({"include": ["conf.d/*.json", "conf.d/a.json"]})"));
    CHECK(config.targets.size() == 1);
  }

  SECTION("include cycles")
  {
    dir.write("a.json", R"({"include": "b.json"})");
    dir.write("b.json", R"({"include": ["heartbeat.json"]})");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": "a.json"})")),
                      "b.json: include[0]: include cycle: heartbeat.json -> a.json -> b.json -> "
                      "heartbeat.json");
    dir.write("self.json", R"({"include": "./self.json"})");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": "self.json"})")),
                      "self.json: include: include cycle: heartbeat.json -> self.json -> "
                      "self.json");
  }

  SECTION("a literal include that does not exist")
  {
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": ["conf.d/x.json"]})")), ConfigError,
      Message(R"(heartbeat.json: include[0]: no such file "conf.d/x.json")"));
  }

  SECTION("an include that is a FIFO, literal or matched by a glob, is refused")
  {
    fs::create_directories(dir.path() / "conf.d");
    dir.write("conf.d/a.json", R"({"targets": [{"id": "a"}]})");
    const hb::test::Fifo fifo(dir.path() / "conf.d" / "x.json");
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": "conf.d/*.json"})")), ConfigError,
      Message(R"(heartbeat.json: include: cannot read "conf.d/x.json": is a FIFO, not a regular file)"));
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": ["conf.d/x.json"]})")), ConfigError,
      Message(R"(heartbeat.json: include[0]: cannot read "conf.d/x.json": is a FIFO, not a regular file)"));
  }

  SECTION("a stray symlink to a device in conf.d is refused")
  {
    fs::create_directories(dir.path() / "conf.d");
    fs::create_symlink("/dev/null", dir.path() / "conf.d" / "null.json");
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": "conf.d/*.json"})")), ConfigError,
      Message(R"(heartbeat.json: include: cannot read "conf.d/null.json": is a character device, not a regular file)"));
  }

  SECTION("an include over 4 MiB is refused")
  {
    const fs::path big = dir.write("big.json", "{}");
    fs::resize_file(big, 4 * 1024 * 1024 + 1);
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": "big.json"})")), ConfigError,
      Message(R"(heartbeat.json: include: cannot read "big.json": is 4.1 MiB, over the 4 MiB limit for config files)"));
  }

  SECTION("an include that is a symlink loop says so, literal or matched by a glob")
  {
    fs::create_directories(dir.path() / "conf.d");
    fs::create_symlink("y.json", dir.path() / "conf.d" / "x.json");
    fs::create_symlink("x.json", dir.path() / "conf.d" / "y.json");
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": ["conf.d/x.json"]})")), ConfigError,
      Message(R"(heartbeat.json: include[0]: cannot read "conf.d/x.json": too many levels of symbolic links (a symlink loop?))"));
    CHECK_THROWS_MATCHES(
      load_file(dir.write("heartbeat.json", R"({"include": ["conf.d/*.json"]})")), ConfigError,
      Message(R"(heartbeat.json: include[0]: cannot read "conf.d/x.json": too many levels of symbolic links (a symlink loop?))"));
  }

  SECTION("an include outside the config directory is named by absolute path")
  {
    TempDir other;
    const fs::path outside = other.write("bad.json", R"({"targets": [{"id": "BAD"}]})");
    CHECK_THROWS_WITH(
      load_file(dir.write("heartbeat.json", fmt::format(R"({{"include": "{}"}})", outside.string()))),
      fmt::format("{}: targets[0].id: expected a target id of lowercase letters, digits, '_', "
                  "'.' or '-' (at most 100 characters), got \"BAD\"",
                  outside.string()));
  }

  SECTION("errors in included files name the file relative to the main config")
  {
    dir.write("conf.d/a.json", "{\"targets\": [\n  {\"id\": \"a\" \"name\": \"A\"}\n]}");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": "conf.d/*.json"})")),
                      "conf.d/a.json:2:19: invalid JSON: unexpected string literal; expected '}'");
    dir.write("conf.d/a.json", R"({"pulse": {"interval": "1m"}})");
    CHECK_THROWS_WITH(load_file(dir.path() / "heartbeat.json"),
                      R"(conf.d/a.json: pulse: only the main config file may set "pulse" (an included file may contain "targets", "check_sets", "schedules" and "include"))");
    dir.write("conf.d/a.json", R"({"targetz": []})");
    CHECK_THROWS_WITH(load_file(dir.path() / "heartbeat.json"),
                      R"(conf.d/a.json: targetz: unknown key "targetz" (did you mean "targets"?))");
    dir.write("conf.d/a.json", "");
    CHECK_THROWS_WITH(load_file(dir.path() / "heartbeat.json"),
                      "conf.d/a.json: the file is empty (expected a JSON object)");
  }

  SECTION("duplicate ids and check sets across files")
  {
    dir.write("conf.d/b.json", R"({"targets": [{"id": "acme"}]})");
    CHECK_THROWS_WITH(
      load_file(dir.write("heartbeat.json", R"({"targets": [{"id": "a"}, {"id": "b"}, {"id": "c"},
        {"id": "acme"}], "include": "conf.d/b.json"})")),
      R"(conf.d/b.json: targets[0].id: duplicate target id "acme" (first defined at heartbeat.json: targets[3]))");
    dir.write("conf.d/b.json", R"({"check_sets": {"web": []}})");
    CHECK_THROWS_WITH(
      load_file(dir.write("heartbeat.json", R"({"check_sets": {"web": []}, "include": "conf.d/b.json"})")),
      R"(conf.d/b.json: check_sets.web: duplicate check set "web" (first defined at heartbeat.json: check_sets.web))");
  }

  SECTION("a bad include value")
  {
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": 3})")),
                      R"(heartbeat.json: include: expected a glob pattern like "conf.d/*.json" or an array of them, got 3)");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": ["a.json", ""]})")),
                      R"(heartbeat.json: include[0]: no such file "a.json")");
    CHECK_THROWS_WITH(load_file(dir.write("heartbeat.json", R"({"include": [""]})")),
                      R"(heartbeat.json: include[0]: expected a glob pattern like "conf.d/*.json", got "")");
  }
}

TEST_CASE("load: discovery")
{
  TempDir dir;
  auto main_config = [&](const fs::path& script, const std::string& extra = "") {
    return dir.write("heartbeat.json", fmt::format(R"({{
      "defaults": {{"interval": "10m"}},
      "check_sets": {{"web": [{{"name": "home", "type": "echo", "text": "https://${{host}}/"}}]}},
      "targets": [{{"id": "static"}}],
      "discovery": [{{"command": ["{}", "--json"], "timeout": "{}"}}]
    }})",
                                                   script.string(), extra.empty() ? "5s" : extra));
  };

  SECTION("targets from an array, parsed like config targets")
  {
    const fs::path script = dir.script("list.sh", R"(
[ "$1" = "--json" ] || exit 9
cat <<'EOF'
[{"id": "acme", "use": "web", "vars": {"host": "acme.example.com"}},
 {"id": "globex", "kind": "tenant", "interval": "1h"}]
EOF
)");
    const Config config = load_file(main_config(script), RunDiscovery::yes);
    REQUIRE(config.targets.size() == 3);
    CHECK(config.targets[0].id == "static");
    const auto& acme = config.targets[1];
    CHECK(acme.id == "acme");
    CHECK(acme.interval == minutes(10));
    CHECK(acme.source == fmt::format("discovery[0] (\"{}\"): targets[0]", script.string()));
    CHECK(acme.checks.at(0).probe->describe() == "https://acme.example.com/");
    CHECK(config.targets[2].kind == hb::TargetKind::tenant);
    CHECK(config.targets[2].interval == minutes(60));
  }

  SECTION("targets from an object")
  {
    const fs::path script =
      dir.script("list.sh", R"(echo '{"targets": [{"id": "acme"}]}')" "\n");
    const Config config = load_file(main_config(script), RunDiscovery::yes);
    REQUIRE(config.targets.size() == 2);
    CHECK(config.targets[1].id == "acme");
  }

  SECTION("arguments may use secrets, resolved only when the command runs")
  {
    ScopedEnv unset("HB_TEST_DISCOVERY_ARG", nullptr);
    const fs::path script = dir.script("list.sh", "echo \"[{\\\"id\\\": \\\"$1\\\"}]\"\n");
    const fs::path file = dir.write(
      "heartbeat.json",
      fmt::format(R"({{"discovery": [{{"command": ["{}", "${{HB_TEST_DISCOVERY_ARG}}"]}}]}})",
                  script.string()));
    CHECK(load_file(file, RunDiscovery::no).targets.empty());
    CHECK_THROWS_MATCHES(load_file(file, RunDiscovery::yes), ConfigError,
                         Message("heartbeat.json: discovery[0].command[1]: environment variable "
                                 "\"HB_TEST_DISCOVERY_ARG\" is not set"));
    ScopedEnv set("HB_TEST_DISCOVERY_ARG", "from-env");
    const Config config = load_file(file, RunDiscovery::yes);
    REQUIRE(config.targets.size() == 1);
    CHECK(config.targets[0].id == "from-env");
  }

  SECTION("not run when discovery is off")
  {
    const fs::path marker = dir.path() / "ran";
    const fs::path script = dir.script(
      "list.sh", fmt::format("touch '{}'\necho '[{{\"id\": \"acme\"}}]'\n", marker.string()));
    const Config config = load_file(main_config(script), RunDiscovery::no);
    CHECK(config.targets.size() == 1);
    CHECK_FALSE(fs::exists(marker));
  }

  SECTION("errors in discovered targets name the command")
  {
    const fs::path script =
      dir.script("list.sh", R"(echo '{"targets": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "Dee"}]}')" "\n");
    CHECK_THROWS_MATCHES(
      load_file(main_config(script), RunDiscovery::yes), ConfigError,
      Message(fmt::format("discovery[0] (\"{}\"): targets[3].id: expected a target id of "
                          "lowercase letters, digits, '_', '.' or '-' (at most 100 characters), "
                          "got \"Dee\"",
                          script.string())));
  }

  SECTION("a discovered id that is already configured")
  {
    const fs::path script = dir.script("list.sh", R"(echo '[{"id": "static"}]')" "\n");
    CHECK_THROWS_WITH(load_file(main_config(script), RunDiscovery::yes),
                      fmt::format("discovery[0] (\"{}\"): targets[0].id: duplicate target id "
                                  "\"static\" (first defined at heartbeat.json: targets[0])",
                                  script.string()));
  }

  SECTION("invalid JSON output is a config error")
  {
    const fs::path script = dir.script("list.sh", "echo '[{\"id\": acme}]'\n");
    CHECK_THROWS_MATCHES(
      load_file(main_config(script), RunDiscovery::yes), ConfigError,
      Message(fmt::format("discovery[0] (\"{}\"): printed invalid JSON at line 1, column 9: "
                          "invalid literal",
                          script.string())));
  }

  SECTION("empty output and the wrong shape")
  {
    const fs::path script = dir.script("list.sh", "true\n");
    CHECK_THROWS_MATCHES(
      load_file(main_config(script), RunDiscovery::yes), ConfigError,
      Message(fmt::format("discovery[0] (\"{}\"): printed nothing (expected a JSON array of "
                          "targets or {{\"targets\": [...]}})",
                          script.string())));
    dir.script("list.sh", "echo 42\n");
    CHECK_THROWS_WITH(load_file(dir.path() / "heartbeat.json", RunDiscovery::yes),
                      fmt::format("discovery[0] (\"{}\"): expected a JSON array of targets or "
                                  "{{\"targets\": [...]}}, got 42",
                                  script.string()));
    dir.script("list.sh", R"(echo '{"tenants": []}')" "\n");
    CHECK_THROWS_WITH(load_file(dir.path() / "heartbeat.json", RunDiscovery::yes),
                      fmt::format("discovery[0] (\"{}\"): tenants: unknown key \"tenants\"",
                                  script.string()));
  }

  SECTION("a non-zero exit is a temporary error with the first line of stderr")
  {
    const fs::path script =
      dir.script("list.sh", "echo '[]'\necho 'tenant api unavailable' >&2\necho more >&2\nexit 2\n");
    CHECK_THROWS_MATCHES(load_file(main_config(script), RunDiscovery::yes), TemporaryError,
                         Message(fmt::format("discovery[0] (\"{}\"): exited with code 2: tenant "
                                             "api unavailable",
                                             script.string())));
    dir.script("list.sh", "exit 3\n");
    CHECK_THROWS_MATCHES(load_file(dir.path() / "heartbeat.json", RunDiscovery::yes),
                         TemporaryError,
                         Message(fmt::format("discovery[0] (\"{}\"): exited with code 3",
                                             script.string())));
  }

  SECTION("stderr is free: a command that logs more than 16 MiB there still works")
  {
    const fs::path script = dir.script(
      "list.sh", "head -c 17000000 /dev/zero | tr '\\0' x >&2\necho '[{\"id\": \"acme\"}]'\n");
    const Config config = load_file(main_config(script), RunDiscovery::yes);
    REQUIRE(config.targets.size() == 2);
    CHECK(config.targets[1].id == "acme");
  }

  SECTION("a failure after much stderr is still named by its first line")
  {
    const fs::path script = dir.script(
      "list.sh", "echo 'tenant api unavailable' >&2\nhead -c 17000000 /dev/zero >&2\nexit 2\n");
    CHECK_THROWS_MATCHES(load_file(main_config(script), RunDiscovery::yes), TemporaryError,
                         Message(fmt::format("discovery[0] (\"{}\"): exited with code 2: tenant "
                                             "api unavailable",
                                             script.string())));
  }

  SECTION("failures never show a secret: not from stderr, not from a secret program path")
  {
    ScopedEnv token("HB_TEST_DISCOVERY_TOKEN", "t0ken-s3cret");
    const fs::path script = dir.script("list.sh", "echo \"bad token $1\" >&2\nexit 2\n");
    const fs::path file = dir.write(
      "heartbeat.json",
      fmt::format(R"({{"discovery": [{{"command": ["{}", "${{HB_TEST_DISCOVERY_TOKEN}}"]}}]}})",
                  script.string()));
    CHECK_THROWS_MATCHES(load_file(file, RunDiscovery::yes), TemporaryError,
                         Message(fmt::format("discovery[0] (\"{}\"): exited with code 2: bad "
                                             "token ***",
                                             script.string())));
    const Config config = load_file(file, RunDiscovery::keep_going);
    REQUIRE(config.discovery_failures.size() == 1);
    CHECK(config.discovery_failures[0]
          == fmt::format("discovery[0] (\"{}\"): exited with code 2: bad token ***",
                         script.string()));

    ScopedEnv program("HB_TEST_DISCOVERY_PROGRAM", (dir.path() / "s3cret-lister").string());
    const fs::path hidden = dir.write(
      "heartbeat.json", R"({"discovery": [{"command": [{"env": "HB_TEST_DISCOVERY_PROGRAM"}]}]})");
    try {
      load_file(hidden, RunDiscovery::yes);
      FAIL("no exception");
    } catch (const TemporaryError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("s3cret-lister") == std::string::npos);
      CHECK(std::string(e.what()).find("cannot run \"***\"") != std::string::npos);
    }
  }

  SECTION("a timeout is a temporary error")
  {
    const fs::path script = dir.script("list.sh", "exec sleep 10\n");
    CHECK_THROWS_MATCHES(load_file(main_config(script, "300ms"), RunDiscovery::yes),
                         TemporaryError,
                         Message(fmt::format("discovery[0] (\"{}\"): timed out after 300ms",
                                             script.string())));
  }

  SECTION("a command that cannot be started is a temporary error")
  {
    const fs::path missing = dir.path() / "missing.sh";
    const std::string prefix = fmt::format("discovery[0] (\"{}\"): ", missing.string());
    try {
      load_file(main_config(missing), RunDiscovery::yes);
      FAIL("no exception");
    } catch (const TemporaryError& e) {
      CHECK_THAT(e.what(), StartsWith(prefix));
      CHECK(std::string(e.what()).size() > prefix.size());
    }
  }
}

TEST_CASE("load: examples/heartbeat.example.json")
{
  // The documented example must stay loadable: it is what people copy.
  ScopedEnv api("API_TOKEN", "t1");
  ScopedEnv acme("ACME_API_TOKEN", "t2");
  ScopedEnv globex("GLOBEX_API_TOKEN", "t3");
  ScopedEnv password("STATUS_PASSWORD", "t4");
  ScopedEnv campaign("CAMPAIGN_TOKEN", "t5");
  const fs::path example = fs::path(HB_SOURCE_DIR) / "examples/heartbeat.example.json";
  LoadOptions builtin;
  builtin.discovery = RunDiscovery::no;
  const Config config = hb::config::load(example, builtin);

  SECTION("everything is read")
  {
    CHECK(config.database == (example.parent_path() / "state/heartbeat.db").lexically_normal());
    CHECK(config.defaults.timezone == "America/New_York");
    REQUIRE(config.targets.size() == 8);
    REQUIRE(config.find_target("acme") != nullptr);
    CHECK(config.find_target("acme")->checks.size() == 3);
    CHECK(config.find_target("acme")->active_hours->text() == "06:00-24:00");
    CHECK(config.find_target("globex")->checks.size() == 3);
    CHECK(config.find_target("globex")->new_target_grace == minutes(14 * 24 * 60));
    CHECK(config.find_target("batch-worker")->active_hours->text() == "22:00-06:00");
    CHECK(config.find_target("batch-worker")->heartbeat->offline_after == 5);
    CHECK(config.find_target("nightly-backup")->heartbeat->schedule->text() == "0 3 * * *");
    CHECK(config.find_target("nightly-backup")->heartbeat->max_runtime == minutes(180));
    CHECK(config.find_target("legacy-portal")->paused);
    CHECK_FALSE(config.find_target("api")->active_hours);
    REQUIRE(config.schedules.size() == 3);
    CHECK(config.schedules[0].timezone == "America/New_York");
    CHECK(config.schedules[1].timezone == "America/New_York");  // from defaults
    CHECK(config.schedules[1].env.at("API_TOKEN") == "t5");
    CHECK(config.schedules[1].description == "campaigns --birthdays");
    CHECK_FALSE(config.schedules[2].catch_up);
  }
}

TEST_CASE("load: schedules")
{
  auto load_text = [](const std::string& text) {
    LoadOptions options;
    options.discovery = RunDiscovery::no;
    return hb::config::load_from_string(text, "heartbeat.json", options);
  };
  auto error_of = [&](const std::string& schedule) {
    try {
      load_text(R"({"targets": [{"id": "api"}], "schedules": [)" + schedule + "]}");
    } catch (const hb::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };

  SECTION("defaults")
  {
    const auto config = load_text(R"({"defaults": {"timezone": "Europe/London"},
      "schedules": [{"name": "daily", "cron": "@daily", "command": ["/bin/true"]}]})");
    REQUIRE(config.schedules.size() == 1);
    const auto& s = config.schedules[0];
    CHECK(s.name == "daily");
    CHECK(s.cron->text() == "@daily");
    CHECK(s.timezone == "Europe/London");
    CHECK(s.command == std::vector<std::string>{"/bin/true"});
    CHECK(s.enabled);
    CHECK(s.timeout == minutes(10));
    CHECK(s.retries == 0);
    CHECK(s.retry_backoff == minutes(1));
    CHECK(s.retry_backoff_max == minutes(60));
    CHECK(s.catch_up);
    CHECK(s.target.empty());
    CHECK(s.source == "heartbeat.json: schedules[0]");
  }

  SECTION("errors name the schedule and the field")
  {
    CHECK(error_of(R"({"name": "a", "cron": "0 0 32 * *", "command": ["/bin/true"]})")
          == "heartbeat.json: schedules[0].cron: day-of-month 32 out of range 1-31");
    CHECK(error_of(R"({"name": "a", "cron": "0 9 * * *", "command": "backup.sh"})")
          == R"(heartbeat.json: schedules[0].command: command must be an argv array like ["/usr/local/bin/send-report", "--daily"]; heartbeat never runs a shell)");
    CHECK(error_of(R"({"name": "a", "command": ["/bin/true"]})")
          == R"(heartbeat.json: schedules[0]: missing "cron" (a cron expression like "0 9 * * 1"))");
    CHECK(error_of(R"({"name": "Bad Name", "cron": "@daily", "command": ["/bin/true"]})")
          == R"(heartbeat.json: schedules[0].name: expected a name of lowercase letters, digits, '_', '.' or '-' like "weekly-report", got "Bad Name")");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"], "timezone": "Mars/Base"})")
          == R"(heartbeat.json: schedules[0].timezone: expected an IANA timezone like "America/New_York", got "Mars/Base")");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"], "retries": -1})")
          == "heartbeat.json: schedules[0].retries: expected an integer from 0 to 100, got -1");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"], "retry_backoff": "5m", "retry_backoff_max": "1m"})")
          == R"(heartbeat.json: schedules[0].retry_backoff_max: retry_backoff_max must not be shorter than retry_backoff ("5m"))");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"], "target": "nope"})")
          == R"(heartbeat.json: schedules[0].target: unknown target "nope" (no target has this id))");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"], "retrys": 2})")
          == R"(heartbeat.json: schedules[0].retrys: unknown key "retrys" (did you mean "retries"?))");
    CHECK(error_of(R"({"name": "a", "cron": "@daily", "command": ["/bin/true"]}, {"name": "a", "cron": "@daily", "command": ["/bin/true"]})")
          == R"(heartbeat.json: schedules[1].name: duplicate schedule name "a" (first defined at heartbeat.json: schedules[0]))");
  }
}

TEST_CASE("load: Config::redactor")
{
  TempDir dir;
  ScopedEnv token("HB_TEST_REDACT_TOKEN", "env-t0ken");
  ScopedEnv host("HB_TEST_REDACT_HOST", "db.s3cret.internal");
  ScopedEnv short_value("HB_TEST_REDACT_SHORT", "abc");
  const fs::path secret = dir.write("secret", "file-t0ken\n");
  const Config config = load_file(dir.write("heartbeat.json", fmt::format(R"({{
    "check_sets": {{"db": [{{"name": "db", "type": "tcp", "host": "${{host}}", "port": 5432}}]}},
    "targets": [
      {{"id": "a", "use": "db", "vars": {{"host": {{"env": "HB_TEST_REDACT_HOST"}}}},
        "checks": [{{"name": "x", "type": "echo", "text": {{"file": "{}"}}}}]}},
      {{"id": "b", "checks": [{{"name": "login", "type": "command",
        "command": ["/bin/echo", "--password=hunter2", "${{HB_TEST_REDACT_SHORT}}"]}}]}}
    ],
    "schedules": [{{"name": "t", "cron": "0 * * * *", "command": ["/bin/true"],
                    "env": {{"T": "${{HB_TEST_REDACT_TOKEN}}"}}}}]
  }})",
                                                                          secret.string())));

  SECTION("knows every secret the config resolved, wherever it was used")
  {
    // vars read from the environment, {"file"}, a literal --password value, a task's env.
    CHECK(config.redactor.redact("db.s3cret.internal file-t0ken hunter2 env-t0ken plain")
          == "*** *** *** *** plain");
  }

  SECTION("values shorter than 4 characters are left alone")
  {
    CHECK(config.redactor.redact("abc abcd") == "abc abcd");
  }
}

TEST_CASE("locate")
{
  TempDir dir;
  ScopedEnv no_env("HB_CONFIG", nullptr);

  SECTION("an explicit path must exist")
  {
    const fs::path file = dir.write("mine.json", "{}");
    CHECK(hb::config::locate(file.string()) == file);
    const std::string missing = (dir.path() / "missing.json").string();
    CHECK_THROWS_MATCHES(hb::config::locate(missing), ConfigError,
                         Message(fmt::format("config file \"{}\" does not exist", missing)));
  }

  SECTION("$HB_CONFIG comes next and must exist")
  {
    const fs::path file = dir.write("env.json", "{}");
    ScopedEnv env("HB_CONFIG", file.c_str());
    CHECK(hb::config::locate("") == file);
    const fs::path explicit_file = dir.write("explicit.json", "{}");
    CHECK(hb::config::locate(explicit_file.string()) == explicit_file);
    ScopedEnv missing("HB_CONFIG", "/nonexistent/hb.json");
    CHECK_THROWS_WITH(hb::config::locate(""),
                      R"(config file "/nonexistent/hb.json" (from $HB_CONFIG) does not exist)");
  }

  SECTION("a symlink loop is found (and then reported by load), not \"does not exist\"")
  {
    fs::create_symlink("b.json", dir.path() / "a.json");
    fs::create_symlink("a.json", dir.path() / "b.json");
    const std::string loop = (dir.path() / "a.json").string();
    CHECK(hb::config::locate(loop) == fs::path(loop));
    ScopedCwd cwd(dir.path());
    fs::create_symlink("a.json", dir.path() / "heartbeat.json");
    CHECK(hb::config::locate("") == fs::path("heartbeat.json"));
  }

  SECTION("./heartbeat.json, then /etc/heartbeat/heartbeat.json")
  {
    ScopedCwd cwd(dir.path());
    const auto fallback = hb::config::locate("");
    if (fs::exists("/etc/heartbeat/heartbeat.json")) {
      CHECK(fallback == fs::path("/etc/heartbeat/heartbeat.json"));
    } else {
      CHECK_FALSE(fallback);
    }
    dir.write("heartbeat.json", "{}");
    CHECK(hb::config::locate("") == fs::path("heartbeat.json"));
  }
}

TEST_CASE("parse_clock_time")
{
  using hb::config::parse_clock_time;
  SECTION("valid times")
  {
    CHECK(parse_clock_time("00:00") == 0);
    CHECK(parse_clock_time("09:05") == 9 * 60 + 5);
    CHECK(parse_clock_time("23:59") == 23 * 60 + 59);
    CHECK(parse_clock_time("24:00") == 24 * 60);
  }
  SECTION("malformed times")
  {
    for (const char* text : {"", "9:00", "09:0", "0900", "24:01", "25:00", "12:60", "ab:cd",
                             "09:00 ", " 09:00", "-1:00", "9am"}) {
      INFO(text);
      CHECK_FALSE(parse_clock_time(text));
    }
  }
}

TEST_CASE("ActiveHours")
{
  using hb::config::ActiveHours;
  SECTION("a daytime window")
  {
    const ActiveHours hours{9 * 60, 21 * 60};
    CHECK(hours.text() == "09:00-21:00");
    CHECK_FALSE(hours.contains(9 * 60 - 1));
    CHECK(hours.contains(9 * 60));
    CHECK(hours.contains(21 * 60 - 1));
    CHECK_FALSE(hours.contains(21 * 60));
  }
  SECTION("a window that wraps past midnight")
  {
    const ActiveHours hours{22 * 60, 6 * 60};
    CHECK(hours.contains(23 * 60));
    CHECK(hours.contains(0));
    CHECK(hours.contains(6 * 60 - 1));
    CHECK_FALSE(hours.contains(6 * 60));
    CHECK_FALSE(hours.contains(12 * 60));
  }
  SECTION("start == end is the whole day; an end of 24:00 runs to midnight")
  {
    CHECK(ActiveHours{5 * 60, 5 * 60}.contains(0));
    CHECK(ActiveHours{5 * 60, 5 * 60}.contains(4 * 60));
    const ActiveHours evening{18 * 60, 24 * 60};
    CHECK(evening.contains(23 * 60 + 59));
    CHECK_FALSE(evening.contains(17 * 60));
    CHECK(evening.text() == "18:00-24:00");
  }
}

TEST_CASE("is_valid_target_id")
{
  using hb::config::is_valid_target_id;
  SECTION("valid ids")
  {
    CHECK(is_valid_target_id("acme"));
    CHECK(is_valid_target_id("tenant_42.eu-west"));
    CHECK(is_valid_target_id(std::string(100, 'a')));
  }
  SECTION("invalid ids")
  {
    CHECK_FALSE(is_valid_target_id(""));
    CHECK_FALSE(is_valid_target_id(std::string(101, 'a')));
    CHECK_FALSE(is_valid_target_id("Acme"));
    CHECK_FALSE(is_valid_target_id("acme corp"));
    CHECK_FALSE(is_valid_target_id("acme/eu"));
    CHECK_FALSE(is_valid_target_id("ünï"));
  }
}

TEST_CASE("is_valid_timezone")
{
  using hb::config::is_valid_timezone;
  SECTION("zones tzdata knows")
  {
    CHECK(is_valid_timezone("UTC"));
    CHECK(is_valid_timezone("America/New_York"));
    CHECK(is_valid_timezone("Europe/Berlin"));
    CHECK(is_valid_timezone("America/New_York"));  // cached
  }
  SECTION("names it does not")
  {
    CHECK_FALSE(is_valid_timezone(""));
    CHECK_FALSE(is_valid_timezone("Mars/Base"));
    CHECK_FALSE(is_valid_timezone("Mars/Base"));  // cached
    CHECK_FALSE(is_valid_timezone("america/new_york"));
  }
}

TEST_CASE("load: heartbeat")
{
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  auto load_text = [](const std::string& text) {
    LoadOptions options;
    options.discovery = RunDiscovery::no;
    return hb::config::load_from_string(text, "heartbeat.json", options);
  };
  auto target_of = [&](const std::string& target) {
    return load_text(R"({"targets": [)" + target + "]}").targets.at(0);
  };
  auto error_of = [&](const std::string& target) {
    try {
      load_text(R"({"targets": [)" + target + "]}");
    } catch (const hb::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };

  SECTION("agents get the seeds' defaults without a block")
  {
    const auto t = target_of(R"({"id": "w", "kind": "agent"})");
    REQUIRE(t.heartbeat);
    CHECK(t.heartbeat->every == seconds(30));
    CHECK(t.heartbeat->grace == seconds(3));
    CHECK(t.heartbeat->degraded_after == 1);
    CHECK(t.heartbeat->offline_after == 3);
    CHECK(t.heartbeat->recover_after == 2);
    CHECK(t.heartbeat->extended_offline_after == minutes(5));
    CHECK(t.heartbeat->flapping_transitions == 5);
    CHECK(t.heartbeat->flapping_window == hours(1));
  }

  SECTION("services take beats only with a block; every setting is read")
  {
    CHECK(!target_of(R"({"id": "s"})").heartbeat);
    const auto t = target_of(R"({"id": "s", "heartbeat": {"every": "1m", "grace": "10s",
      "degraded_after": 2, "offline_after": 4, "recover_after": 3,
      "extended_offline_after": "15m", "flapping_transitions": 8, "flapping_window": "2h"}})");
    REQUIRE(t.heartbeat);
    CHECK(t.heartbeat->every == minutes(1));
    CHECK(t.heartbeat->grace == seconds(10));
    CHECK(t.heartbeat->degraded_after == 2);
    CHECK(t.heartbeat->offline_after == 4);
    CHECK(t.heartbeat->recover_after == 3);
    CHECK(t.heartbeat->extended_offline_after == minutes(15));
    CHECK(t.heartbeat->flapping_transitions == 8);
    CHECK(t.heartbeat->flapping_window == hours(2));
    // The default grace follows `every`.
    CHECK(target_of(R"({"id": "s", "heartbeat": {"every": "5m"}})").heartbeat->grace == seconds(30));
  }

  SECTION("jobs: schedule or every, grace defaulting to the period up to 1h, max_runtime")
  {
    auto t = target_of(R"({"id": "b", "kind": "job"})");
    REQUIRE(t.heartbeat);
    CHECK(t.heartbeat->every == Duration(0));
    CHECK(!t.heartbeat->schedule);
    CHECK(t.heartbeat->grace == hours(1));
    t = target_of(R"({"id": "b", "kind": "job", "timezone": "Europe/Berlin",
      "heartbeat": {"schedule": "0 3 * * *", "max_runtime": "2h"}})");
    REQUIRE(t.heartbeat->schedule);
    CHECK(t.heartbeat->schedule->text() == "0 3 * * *");
    CHECK(t.heartbeat->grace == hours(1));
    CHECK(t.heartbeat->max_runtime == hours(2));
    CHECK(target_of(R"({"id": "b", "kind": "job", "heartbeat": {"schedule": "*/5 * * * *"}})")
            .heartbeat->grace == minutes(5));
    CHECK(target_of(R"({"id": "b", "kind": "job", "heartbeat": {"every": "10m"}})")
            .heartbeat->grace == minutes(10));
    CHECK(target_of(R"({"id": "b", "kind": "job", "heartbeat": {"every": "1d", "grace": "3h"}})")
            .heartbeat->grace == hours(3));
  }

  SECTION("errors name the target and the field")
  {
    CHECK(error_of(R"({"id": "w", "kind": "agent", "heartbeat": {"every": "soon"}})")
          == R"(heartbeat.json: targets[0].heartbeat.every: expected a duration like "30s", got "soon")");
    CHECK(error_of(R"({"id": "w", "kind": "agent", "heartbeat": {"schedule": "0 3 * * *"}})")
          == R"(heartbeat.json: targets[0].heartbeat.schedule: "schedule" applies to jobs (kind "job"), not to agents)");
    CHECK(error_of(R"({"id": "b", "kind": "job", "heartbeat": {"offline_after": 3}})")
          == R"(heartbeat.json: targets[0].heartbeat.offline_after: "offline_after" applies to agents, not to jobs (kind "job"))");
    CHECK(error_of(R"({"id": "b", "kind": "job", "heartbeat": {"every": "1h", "schedule": "@daily"}})")
          == R"(heartbeat.json: targets[0].heartbeat.schedule: give either "every" or "schedule", not both)");
    CHECK(error_of(R"({"id": "b", "kind": "job", "heartbeat": {"schedule": "0 25 * * *"}})")
          == "heartbeat.json: targets[0].heartbeat.schedule: hour 25 out of range 0-23");
    CHECK(error_of(R"({"id": "w", "kind": "agent", "heartbeat": {"degraded_after": 4}})")
          == "heartbeat.json: targets[0].heartbeat.offline_after: offline_after (3) must not be smaller than degraded_after (4)");
    CHECK(error_of(R"({"id": "w", "kind": "agent", "heartbeat": {"evry": "30s"}})")
          == R"(heartbeat.json: targets[0].heartbeat.evry: unknown key "evry" (did you mean "every"?))");
    CHECK(error_of(R"({"id": "w", "kind": "agent", "heartbeat": "30s"})")
          == R"(heartbeat.json: targets[0].heartbeat: expected an object, got "30s")");
  }
}
