// SPDX-License-Identifier: MIT
// Hostile inputs through the built tools (SPEC §7: every malformed input gets a clear error,
// never a crash): broken config files, plugins whose output is empty, enormous, binary or full of
// malformed performance data, HTTP servers that hang, reset, trickle or answer garbage, and
// malformed beats. Each gives the documented exit code and result, within its timeout.
#include "e2e_helpers.hpp"
#include "reliability_helpers.hpp"

#include "support/raw_server.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

using namespace hb::test;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Returns true when `text` is valid UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool valid_utf8(std::string_view text)
{
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      code = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      code = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) {
        return false;
      }
      code = (code << 6) | (d & 0x3f);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)) ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

// What every tool run on hostile input must avoid, whatever its exit code.
void require_no_crash(const ToolResult& r)
{
  INFO("exit " << r.exit_code << ", stderr: " << r.err.substr(0, 2000));
  REQUIRE(r.exit_code >= 0);
  REQUIRE(r.exit_code < 128);
  REQUIRE(r.exit_code != 70); // internal error: a bug by definition
  REQUIRE(r.err.find("terminate called") == std::string::npos);
  REQUIRE(r.err.find("Sanitizer") == std::string::npos);
  REQUIRE(r.err.find("runtime error") == std::string::npos);
}

// A config error from `tool`: exit 78 and one "<tool>: error: heartbeat.json..." line.
void require_config_error(const ToolResult& r, const std::string& tool)
{
  require_no_crash(r);
  INFO("stderr: " << r.err.substr(0, 2000));
  CHECK(r.exit_code == 78);
  CHECK(r.err.rfind(tool + ": error: heartbeat.json", 0) == 0);
  CHECK(r.err.size() < 2000);
  CHECK(valid_utf8(r.err));
}

std::string example_text()
{
  return read_file(std::filesystem::path(HB_SOURCE_DIR) / "examples/heartbeat.example.json");
}

std::filesystem::path script(const Workspace& ws, const std::string& name, const std::string& body)
{
  const auto path = ws.dir.write(name, "#!/bin/sh\n" + body + "\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

// The result of the only check of target `id` in hb-pulse's JSON output.
json only_check(const json& pulse, const std::string& id)
{
  const auto d = detail(pulse, id);
  REQUIRE(d.contains("checks"));
  REQUIRE(d["checks"].size() == 1);
  return d["checks"][0];
}

} // namespace

TEST_CASE("hostile configs: the tools exit 78 naming the file and never crash", "[hostile]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const std::string example = example_text();

  SECTION("the example cut short")
  {
    for (std::size_t k = 0; k < 8; ++k) {
      const std::size_t cut = example.size() * k / 8 + 17 * k;
      INFO("cut at byte " << cut);
      ws.write_config(example.substr(0, cut));
      require_config_error(ws.pulse(), "hb-pulse");
    }
  }

  SECTION("garbage, empty and binary files")
  {
    std::mt19937 random(20260306);
    std::string noise(65536, '\0');
    for (auto& c : noise) {
      c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
    }
    for (const std::string& text : std::vector<std::string>{
             "", " \n\t", std::string(4096, '\0'), noise, "{" + noise, "\xef\xbb\xbf", "}{", "null",
             "[]", "\"targets\"", "{\"targets\": [] /* unterminated comment",
             "{\"targets\": []} {}", std::string(100000, '[') + std::string(100000, ']'),
             "{\"targets\": " + std::string(100000, '[') + std::string(100000, ']') + "}"}) {
      INFO("config: "
           << json(text.substr(0, 60)).dump(-1, ' ', true, json::error_handler_t::replace));
      ws.write_config(text);
      require_config_error(ws.pulse(), "hb-pulse");
    }
    // Read-only tools read the config too, when told to: the same error, the same code.
    ws.write_config("{" + noise);
    require_config_error(ws.status(), "hb-status");
    require_config_error(ws.beat({"worker"}), "hb-beat");
  }

  SECTION("invalid UTF-8, in text and JSON log lines")
  {
    ws.write_config("{\"targets\": [{\"id\": \"api\", \"name\": \"bad \xff\xfe name\"}]}");
    require_config_error(ws.pulse(), "hb-pulse");
    const auto r = ws.pulse({"--log-format", "json"});
    require_no_crash(r);
    CHECK(r.exit_code == 78);
    INFO("stderr: " << r.err);
    const auto line = json::parse(r.err.substr(0, r.err.find('\n')));
    CHECK(line.value("severity", "") == "ERROR");
    CHECK(line.value("message", "").rfind("heartbeat.json", 0) == 0);
  }

  SECTION("values of the wrong type and out of range")
  {
    for (const std::string& text : std::vector<std::string>{
             R"({"pulse": {"concurrency": 1e400}})",
             R"({"pulse": {"concurrency": 18446744073709551616}})",
             R"({"pulse": {"deadline": "999999999999d"}})",
             R"({"targets": [{"id": "a", "interval": "99999999999999999999999ms"}]})",
             R"({"targets": [{"id": "a", "checks": [{"name": "db", "type": "tcp", "host": "h",)"
             R"( "port": 1e10}]}]})",
             R"({"targets": [{"id": "a", "checks": {"name": "x"}}]})",
             R"({"targets": [{"id": "a", "checks": [null]}]})",
             R"({"targets": "all of them"})",
             R"({"targets": [{"id": ")" + std::string(1 << 20, 'a') + R"("}]})",
         }) {
      INFO("config: " << text.substr(0, 120));
      ws.write_config(text);
      require_config_error(ws.pulse(), "hb-pulse");
    }
  }

  SECTION("a folder where the config should be")
  {
    std::filesystem::create_directories(ws.dir / "folder.json");
    const auto r =
        run_tool("hb-pulse", {"--config", (ws.dir / "folder.json").string(), "--db", ws.db});
    require_no_crash(r);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("folder.json") != std::string::npos);
  }
}

TEST_CASE("hostile configs: the largest durations accepted work in every tool", "[hostile]")
{
  // Durations may be up to 100 years: whatever the tools compute from such values (next runs,
  // staleness, every × offline_after missed beats) must not overflow, even thousands of years on.
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  // 2^61 - 1 ms, the most a duration can be written as, is refused: every × 1000 of it overflowed.
  ws.write_config(R"({"targets": [{"id": "a", "interval": "2305843009213693951ms"}]})");
  require_config_error(ws.pulse(), "hb-pulse");
  const std::string most = "36500d";
  ws.write_config(
      json{{"pulse", {{"interval", most}, {"deadline", "30s"}}},
           {"defaults", {{"interval", most}, {"stale_after", most}, {"new_target_grace", most}}},
           {"targets",
            {{{"id", "web"},
              {"checks",
               {{{"name", "home"},
                 {"type", "http"},
                 {"url", server.url("/ok")},
                 {"timeout", most},
                 {"max_latency", most}}}}},
             {{"id", "agent"},
              {"kind", "agent"},
              {"heartbeat",
               {{"every", most},
                {"grace", most},
                {"offline_after", 1000},
                {"degraded_after", 999},
                {"extended_offline_after", most},
                {"flapping_window", most}}}},
             {{"id", "job"},
              {"kind", "job"},
              {"heartbeat", {{"every", most}, {"grace", most}, {"max_runtime", most}}}}}}}
          .dump(2));
  const std::string now = "2026-03-02T12:00:00Z";
  auto r = ws.pulse({"--json"}, now);
  require_no_crash(r);
  REQUIRE(r.exit_code == 0);
  CHECK(detail(json::parse(r.out), "web")["status"] == "all_clear");
  require_no_crash(ws.beat({"agent"}, "2026-03-02T12:00:01Z"));
  r = ws.beat({"job", "--", "/bin/true"}, "2026-03-02T12:00:02Z");
  require_no_crash(r);
  CHECK(r.exit_code == 0);
  for (const char* at : {"2026-03-02T12:00:03Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    INFO("at " << at);
    r = ws.pulse({"--json"}, at);
    require_no_crash(r);
    CHECK(r.exit_code == 0);
    CHECK_NOTHROW(json::parse(r.out));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--json"}, {"web"}, {"agent", "--json"}, {"job"}}) {
      r = ws.status(args, at);
      require_no_crash(r);
      CHECK(r.exit_code <= 3);
    }
  }
}

TEST_CASE(
    "hostile plugins: empty or enormous or binary output and bad perfdata are recorded sanely",
    "[hostile]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  struct Case {
    std::string id;
    std::string body;    // the plugin: a /bin/sh script
    std::string status;  // the check's expected status
    std::string message; // the expected message, or its start when it ends with "..."
    std::string timeout = "10s";
  };
  const std::string pid_file = (ws.dir / "stubborn.pid").string();
  const std::vector<Case> cases{
      {"empty-ok", "exit 0", "ok", "plugin exited with code 0 and no output"},
      {"empty-critical", "exit 2", "alert", "plugin exited with code 2 and no output"},
      {"only-newlines", "yes '' | head -c 100000", "ok", "plugin exited with code 0 and no output"},
      {"ten-mb-lines", "yes 'OK: line' | head -c 10485760", "ok", "OK: line"},
      {"ten-mb-one-line", "head -c 10485760 /dev/zero | tr '\\000' x; exit 1", "warning", "xxx..."},
      {"long-utf8", "i=0; while [ $i -lt 2000 ]; do printf '\\303\\251'; i=$((i+1)); done; echo",
       "ok", "\xc3\xa9\xc3\xa9..."},
      {"binary", "printf 'OK \\000\\377\\376 bin\\033[2J|x=1 y=\\377\\n'", "ok", "OK ..."},
      {"perf-semicolons", "echo \"OK|'a=1;;;;;;;\"", "ok", "OK"},
      {"perf-equals", "echo 'OK|='", "ok", "OK"},
      {"perf-text-value", "echo 'OK|a=b'", "ok", "OK"},
      {"perf-unterminated", "echo \"OK|'unterminated\"", "ok", "OK"},
      {"perf-huge-number", "echo 'OK|a=1e999 b=nan c=-inf d=99999999999999999999999999'", "ok",
       "OK"},
      {"perf-many",
       "i=0; printf 'OK|'; while [ $i -lt 5000 ]; do printf 'm%d=%d ' $i $i; i=$((i+1)); done; "
       "echo",
       "ok", "OK"},
      {"exit-3", "echo 'UNKNOWN: what'; exit 3", "error", "UNKNOWN: what"},
      {"exit-4", "echo 'four'; exit 4", "error", "plugin exited with out-of-range code 4: four"},
      {"exit-255", "exit 255", "error", "plugin exited with out-of-range code 255 and no output"},
      {"segfault", "echo 'about to crash'; kill -SEGV $$", "error", "killed by signal 11"},
      {"ignores-sigterm",
       "trap '' TERM; echo $$ > '" + pid_file + "'; echo 'still here'; sleep 30; sleep 30", "error",
       "timed out after 1s", "1s"},
      {"closes-stdout", "exec >&- 2>&-; sleep 30", "error", "timed out after 1s", "1s"},
  };
  json targets = json::array();
  for (const auto& c : cases) {
    const auto path = script(ws, c.id + ".sh", c.body);
    targets.push_back({{"id", c.id},
                       {"checks",
                        {{{"name", "plugin"},
                          {"type", "command"},
                          {"command", {path.string()}},
                          {"timeout", c.timeout}}}}});
  }
  ws.write_config(json{{"targets", targets}}.dump(2));

  const auto start = Clock::now();
  const auto r = ws.pulse({"--json"});
  const auto took = Clock::now() - start;
  require_no_crash(r);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(valid_utf8(r.out));
  const auto out = json::parse(r.out);
  // The stubborn plugin gets SIGKILL one second after its SIGTERM.
  CHECK(took < seconds(6));

  for (const auto& c : cases) {
    INFO("plugin " << c.id);
    const auto check = only_check(out, c.id);
    CHECK(check.value("status", "") == c.status);
    const auto message = check.value("message", "");
    if (c.message.size() > 3 && c.message.substr(c.message.size() - 3) == "...") {
      CHECK(message.rfind(c.message.substr(0, c.message.size() - 3), 0) == 0);
    } else {
      CHECK(message == c.message);
    }
    CHECK(message.size() <= 1000);
    CHECK(valid_utf8(message));
    CHECK(message.find('\0') == std::string::npos);
    CHECK(message.find('\033') == std::string::npos);
    CHECK(check.value("metrics", json::array()).size() <= 500);
  }
  CHECK(only_check(out, "binary").value("metrics", json::array()).size() >= 1);
  CHECK(only_check(out, "perf-many").value("metrics", json::array()).size() == 500);
  CHECK(only_check(out, "ignores-sigterm").value("phase", "") == "timeout");
  CHECK(only_check(out, "segfault").value("phase", "") == "signal");

  // What went to the database is as clean as what was printed.
  const auto rows = ws.rows("SELECT check_name, message, metrics FROM check_results");
  for (const auto& row : rows) {
    const std::string& message = row[1];
    CHECK(valid_utf8(message));
    CHECK(message.size() <= 1000);
    CHECK_NOTHROW(json::parse(row[2]));
  }
  CHECK(rows.size() == cases.size());

  // Nothing the stubborn plugin started is left running.
  const auto pid = std::stoi(read_file(pid_file));
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("hostile HTTP servers: every misbehaviour fails its check with a clear message in time",
          "[hostile]")
{
  using Behaviour = RawTcpServer::Behaviour;
  struct Case {
    Behaviour behaviour;
    std::string status;
    std::string phase;
    std::string message; // a part of the expected message
  };
  const std::vector<Case> cases{
      {Behaviour::reset, "alert", "protocol", "Connection reset by peer"},
      {Behaviour::empty_reply, "alert", "protocol", "Empty reply from server"},
      {Behaviour::bad_status_code, "alert", "protocol", "Unsupported HTTP version in response"},
      {Behaviour::not_http, "alert", "protocol", "Received HTTP/0.9 when not allowed"},
      {Behaviour::binary, "alert", "protocol", "Received HTTP/0.9 when not allowed"},
      {Behaviour::odd_status, "alert", "http_status", "HTTP 999 (expected 200-399)"},
      {Behaviour::short_body, "alert", "protocol", "transfer closed with 990 bytes remaining"},
      {Behaviour::bad_chunked, "alert", "protocol", "chunked-encoding"},
      {Behaviour::endless_headers, "alert", "protocol", "Too large response headers"},
      {Behaviour::trickle, "alert", "timeout", "timed out after 2s"},
      {Behaviour::silent, "alert", "timeout", "timed out after 2s"},
      // libcurl says "Out of memory"; it is the server's reply that is malformed.
      {Behaviour::huge_header, "alert", "protocol", "response header over 102400 bytes from"},
  };
  std::vector<std::unique_ptr<RawTcpServer>> servers;
  TestHttpServer fixture;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  json targets = json::array();
  for (const auto& c : cases) {
    servers.push_back(std::make_unique<RawTcpServer>(c.behaviour, milliseconds(200)));
    std::string id(RawTcpServer::name(c.behaviour));
    std::replace(id.begin(), id.end(), '_', '-');
    targets.push_back({{"id", id},
                       {"checks",
                        {{{"name", "home"},
                          {"type", "http"},
                          {"url", servers.back()->url("/health")},
                          {"timeout", "2s"}}}}});
  }
  // From the fixture server: a body that never ends is cut at 1 MiB and checked as far as kept.
  targets.push_back({{"id", "endless-body"},
                     {"checks",
                      {{{"name", "home"},
                        {"type", "http"},
                        {"url", fixture.url("/endless")},
                        {"timeout", "2s"},
                        {"body_contains", "x"}}}}});
  ws.write_config(json{{"targets", targets}}.dump(2));

  const auto start = Clock::now();
  const auto r = ws.pulse({"--json"});
  const auto took = Clock::now() - start;
  require_no_crash(r);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0); // target failures are data
  REQUIRE(valid_utf8(r.out));
  const auto out = json::parse(r.out);
  CHECK(out.value("success", false));
  CHECK(took < seconds(6)); // every check within its 2 s timeout, in parallel

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    std::string id(RawTcpServer::name(c.behaviour));
    std::replace(id.begin(), id.end(), '_', '-');
    INFO("server that does " << id);
    CHECK(servers[i]->connections() >= 1);
    const auto check = only_check(out, id);
    CHECK(check.value("status", "") == c.status);
    CHECK(check.value("phase", "") == c.phase);
    const auto message = check.value("message", "");
    CHECK_THAT(message, Catch::Matchers::Contains(c.message));
    CHECK(valid_utf8(message));
    CHECK(message.size() <= 1000);
  }
  CHECK(only_check(out, "endless-body").value("status", "") == "ok");

  // As a CI smoke check the same pulse fails, with the documented code.
  const auto smoke = ws.pulse({"--force", "--fail-on", "alert"});
  require_no_crash(smoke);
  CHECK(smoke.exit_code == 2);
}

TEST_CASE("hostile HTTP servers: a response cut off inside its headers is not a success",
          "[hostile]")
{
  // "HTTP/1.1 200 OK\r\nContent-Ty" and then the connection closes: libcurl 7.88 reports a 200
  // without error, but no complete response ever arrived (docs/configuration.md: "a malformed
  // response ... counts as a failure").
  RawTcpServer server(RawTcpServer::Behaviour::close_in_headers);
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{
      {"targets",
       {{{"id", "cut"},
         {"checks",
          {{{"name", "home"}, {"type", "http"}, {"url", server.url("/")}, {"timeout", "2s"}}}}}}}}
                      .dump());
  const auto r = ws.pulse({"--json"});
  require_no_crash(r);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto check = only_check(json::parse(r.out), "cut");
  INFO("result: " << check.dump());
  CHECK(check.value("status", "") == "alert");
  CHECK(check.value("phase", "") == "protocol");
}

TEST_CASE("hostile beats: malformed metrics and arguments are refused and nothing is recorded",
          "[hostile]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", {{{"id", "worker"}, {"kind", "agent"}}}}}.dump());
  REQUIRE(ws.pulse().exit_code == 0);
  std::vector<std::string> too_many{"worker"};
  for (int i = 0; i < 33; ++i) {
    too_many.insert(too_many.end(), {"--metric", fmt::format("m{}=1", i)});
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"worker", "--metric", "x=1e999"},
           {"worker", "--metric", "x=nan"},
           {"worker", "--metric", "x=-inf"},
           {"worker", "--metric", "=5"},
           {"worker", "--metric", "x"},
           {"worker", "--metric", "x==1"},
           {"worker", "--metric", "\xff=1"},
           {"worker", "--metric", std::string(100000, 'a') + "=1"},
           {"worker", "--metric", "x=1", "--metric", "x=2"},
           {"\xff\xfe"},
           {std::string(100000, 'a')},
           too_many}) {
    INFO("hb-beat "
         << json(args).dump(-1, ' ', true, json::error_handler_t::replace).substr(0, 200));
    const auto r = ws.beat(args);
    require_no_crash(r);
    CHECK(r.exit_code == 64);
    CHECK(valid_utf8(r.err));
    CHECK(r.err.size() < 2000);
  }
  // Values CLI11 validates itself: refused the same way.
  for (const auto& status : {"\xff", "\033[2J", ""}) {
    const auto r = ws.beat({"worker", "--status", status});
    require_no_crash(r);
    CHECK(r.exit_code == 64);
  }
  CHECK(ws.scalar("SELECT count(*) FROM beats") == 0);

  // Escape sequences in a message are stored but never reach a terminal through hb-status.
  REQUIRE(ws.beat({"worker", "--message", "\033[2Jcleared \xff"}).exit_code == 0);
  const auto shown = ws.status({"worker", "--color", "never"});
  require_no_crash(shown);
  CHECK(shown.out.find('\033') == std::string::npos);
  CHECK(valid_utf8(shown.out));
  CHECK_NOTHROW(json::parse(ws.status({"--json"}).out));
}

TEST_CASE("hostile database locations: a scheme no backend serves is refused and nothing is "
          "created",
          "[hostile]")
{
  // Before open_store, `--db postgresql://host/db` made a folder "postgresql:" in the working
  // folder and a SQLite file inside it; a scheme no backend serves must not do the same.
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(R"({"targets": [{"id": "web", "checks": [{"name": "home", "type": "tcp",
                      "host": "127.0.0.1", "port": 9}]}]})");
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(ws.dir.path());  // the tools inherit it: relative paths land here
  struct Restore {
    std::filesystem::path cwd;
    ~Restore() { std::filesystem::current_path(cwd); }
  } restore{cwd};

  const std::string location = "mysql://host/db";
  const std::string why = "unsupported database location \"mysql://host/db\": scheme "
                          "\"mysql\" is not served; use a plain file path or sqlite:///path or "
                          "postgresql://user@host:5432/heartbeat or postgres://user@host/heartbeat";
  const std::vector<std::pair<std::string, std::vector<std::string>>> runs{
      {"hb-pulse", {"--config", ws.config, "--db", location}},
      {"hb-status", {"--config", ws.config, "--db", location}},
      {"hb-status", {"--config", ws.config, "--db", location, "web"}},
      {"hb-beat", {"--config", ws.config, "--db", location, "--create", "agent-1"}},
  };
  for (const auto& [tool, args] : runs) {
    const auto result = run_tool(tool, args);
    INFO(tool << " stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 64);
    CHECK(result.err.find(tool + ": error: " + why) != std::string::npos);
  }
  // The same location from HB_DB.
  const auto from_env = run_tool("hb-pulse", {"--config", ws.config}, {{"HB_DB", location}});
  CHECK(from_env.exit_code == 64);
  CHECK(from_env.err.find(why) != std::string::npos);

  // And from the config's `database`, which is not resolved against the config's folder.
  const auto config = ws.dir.write("remote.json", R"({"database": "mysql://host/db",
    "targets": [{"id": "web", "checks": [{"name": "home", "type": "tcp", "host": "127.0.0.1",
    "port": 9}]}]})");
  const auto from_config = run_tool("hb-status", {"--config", config.string()});
  CHECK(from_config.exit_code == 64);
  CHECK(from_config.err.find(why) != std::string::npos);

  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(ws.dir.path())) {
    entries.push_back(entry.path().filename().string());
  }
  std::sort(entries.begin(), entries.end());
  CHECK(entries == std::vector<std::string>{"heartbeat.json", "remote.json"});
}
