// SPDX-License-Identifier: MIT
// hb-status --prometheus and --nagios end to end: a real hb-pulse and hb-beat write the
// database, the real promtool judges the metrics, and the plugin output is held to the Nagios
// plugin API (docs/operations.md).
#include "e2e_helpers.hpp"

#include "util/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hb::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_pulse_at = "2026-03-10T12:00:00Z";
constexpr const char* k_now = "2026-03-10T12:01:00Z";
constexpr const char* k_promtool = "/usr/bin/promtool";

// A hostile display name: quotes, a backslash, a newline, a pipe, non-ASCII text.
const std::string k_hostile_name = "We\"b \\ API\nline two | ü ✓ 🚀";

// A fleet with every kind of state: failing, warning, healthy, an agent, a paused target.
std::string fleet_config()
{
  return json{
    {"pulse", {{"interval", "5m"}}},
    {"targets",
     {{{"id", "bad"},
       {"checks", {{{"name", "down"}, {"type", "command"}, {"command", {"/bin/sh", "-c", "exit 2"}}}}}},
      {{"id", "meh"},
       {"checks", {{{"name", "slow"}, {"type", "command"}, {"command", {"/bin/false"}}}}}},
      {{"id", "web"},
       {"name", k_hostile_name},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}},
      {{"id", "worker"}, {"kind", "agent"}},
      {{"id", "old"},
       {"paused", true},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}}}}}
    .dump(2);
}

// Runs hb-pulse and hb-beat at k_pulse_at: `bad` failing, `meh` warning, `web` healthy,
// `worker` online, `old` paused.
void record_fleet(const Workspace& ws)
{
  ws.write_config(fleet_config());
  const auto pulse = ws.pulse({}, k_pulse_at);
  INFO(pulse.err);
  REQUIRE(pulse.exit_code == 0);
  // Agents beat every 30 s by default: this one beats just before the status is taken.
  const auto beat = ws.beat({"worker"}, k_now);
  INFO(beat.err);
  REQUIRE(beat.exit_code == 0);
}

struct Promtool {
  int exit_code = -1;
  std::string output;
};

// Runs the real `promtool check metrics` with `text` on its stdin. Fails the test (never skips)
// when promtool is missing: scripts/setup installs it (Debian package prometheus).
Promtool promtool_check(const std::string& text)
{
  INFO("promtool comes with the Debian package \"prometheus\"; scripts/setup installs it");
  REQUIRE(::access(k_promtool, X_OK) == 0);
  hb::util::ProcessSpec spec;
  spec.argv = {k_promtool, "check", "metrics"};
  spec.stdin_data = text;
  spec.timeout = hb::Duration(60'000);
  const auto result = hb::util::run_process(spec);
  REQUIRE(result.end == hb::util::ProcessResult::End::exited);
  return {result.exit_code, result.output};
}

std::vector<std::string> lines_of(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line)
{
  const auto all = lines_of(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

bool has_line_starting(const std::string& text, const std::string& prefix)
{
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

// `text` without the lines that start with any of `prefixes`.
std::string without_lines(const std::string& text, std::initializer_list<std::string> prefixes)
{
  std::string out;
  for (const auto& line : lines_of(text)) {
    const bool drop = std::any_of(prefixes.begin(), prefixes.end(),
                                  [&](const std::string& p) { return line.rfind(p, 0) == 0; });
    if (!drop) {
      out += line + '\n';
    }
  }
  return out;
}

std::vector<std::string> listing(const fs::path& dir)
{
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs `tool` as `uid`:`gid` with no supplementary groups (what `setpriv --reuid --regid
// --clear-groups` does). Exit 126 with an empty stderr when the child could not switch.
ToolResult run_as(uid_t uid, gid_t gid, const std::string& tool, const std::vector<std::string>& args,
                  const fs::path& scratch)
{
  const std::string out_path = (scratch / "as-user.out").string();
  const std::string err_path = (scratch / "as-user.err").string();
  std::vector<std::string> argv_text{tool_path(tool)};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::string env_now = fmt::format("HB_NOW={}", k_now);
  std::string env_path = "PATH=/usr/bin:/bin";
  std::vector<char*> envp{env_now.data(), env_path.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) {
      ::_exit(126);
    }
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
      ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(126);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ToolResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

// One perfdata item of the plugin API: 'label'=value[UOM];[warn];[crit];[min];[max].
const std::regex k_perf_item(
  R"(('[^']+'|[^' =]+)=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c)?(;(@?(~|-?[0-9.]*):?(-?[0-9.]*)?)?){0,2}(;-?[0-9.]*){0,2})");

// Checks `out` as a plugin's output: one status line "HEARTBEAT <state> - <summary> | perfdata"
// whose state matches `exit_code`, perfdata items in the plugin API syntax, and no '|' below.
void check_plugin_output(const std::string& out, int exit_code)
{
  INFO(out);
  REQUIRE(exit_code >= 0);
  REQUIRE(exit_code <= 3);
  REQUIRE(!out.empty());
  CHECK(out.back() == '\n');
  const auto lines = lines_of(out);
  const std::string states[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  const std::string head = "HEARTBEAT " + states[exit_code] + " - ";
  REQUIRE(lines.front().rfind(head, 0) == 0);
  const auto bar = lines.front().find(" | ");
  REQUIRE(bar != std::string::npos);
  CHECK(lines.front().find('|', bar + 3) == std::string::npos);
  std::istringstream items(lines.front().substr(bar + 3));
  int count = 0;
  for (std::string item; items >> item;) {
    INFO("perfdata item: " << item);
    CHECK(std::regex_match(item, k_perf_item));
    ++count;
  }
  CHECK(count > 0);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i].find('|') == std::string::npos);
  }
}

} // namespace

TEST_CASE("hb-status --prometheus: promtool accepts the metrics of a mixed fleet with hostile names")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  record_fleet(ws);
  {
    // Ids the config would refuse, as an older or foreign writer could have left them, and a
    // name that is not UTF-8: the label values must still be escaped and valid. (PostgreSQL
    // refuses text that is not UTF-8: there, the name SQLite's reads back as.)
    if (ws.on_postgres()) {
      ws.text("INSERT INTO targets (id, name, kind, interval_ms, first_seen) "
              "VALUES (E'we\"ird\\\\id\\nnext ✓', 'plain', 'service', 60000, 0)");
      ws.text("INSERT INTO targets (id, name, kind, interval_ms, first_seen) "
              "VALUES ('latin1', 'M\ufffdller\ufffd', 'service', 60000, 0)");
    }
  }
  if (!ws.on_postgres()) {
    SQLite::Database db(ws.db, SQLite::OPEN_READWRITE);
    SQLite::Statement insert(db, "INSERT INTO targets (id, name, kind, interval_ms, first_seen) "
                                 "VALUES (?, ?, 'service', 60000, 0)");
    insert.bind(1, "we\"ird\\id\nnext ✓");
    insert.bind(2, "plain");
    insert.exec();
    db.exec("INSERT INTO targets (id, name, kind, interval_ms, first_seen) "
            "VALUES ('latin1', CAST(X'4DFC6C6C6572FF' AS TEXT), 'service', 60000, 0)");
  }

  const auto r = ws.status({"--prometheus"}, k_now);
  INFO(r.out << r.err);
  // Written: 0 whatever the fleet's state, which is inside.
  REQUIRE(r.exit_code == 0);

  const auto check = promtool_check(r.out);
  INFO("promtool: " << check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.empty());  // no lint remarks either

  CHECK(has_line(r.out, "hb_status_exit_code 2"));
  CHECK(has_line(r.out, R"(hb_pulse_state{state="alive"} 1)"));
  // HB_NOW starts each tool's clock, which then runs: a few milliseconds after 12:00:00.
  CHECK(has_line_starting(r.out, "hb_pulse_last_run_timestamp_seconds 1773144000"));
  CHECK(has_line_starting(r.out, "hb_pulse_last_success_timestamp_seconds 1773144000"));
  CHECK(has_line(r.out, R"(hb_targets{state="failing"} 1)"));
  CHECK(has_line(r.out, R"(hb_targets{state="paused"} 1)"));
  CHECK(has_line(r.out, R"(hb_target_up{target="bad",kind="service"} 0)"));
  CHECK(has_line(r.out, R"(hb_target_up{target="meh",kind="service"} 1)"));
  CHECK(has_line(r.out, R"(hb_target_up{target="web",kind="service"} 1)"));
  CHECK(has_line(r.out, R"(hb_target_up{target="worker",kind="agent"} 1)"));
  CHECK(r.out.find(R"(hb_target_up{target="old")") == std::string::npos);
  CHECK(has_line(r.out, R"(hb_target_state{target="old",kind="service",state="paused"} 1)"));
  CHECK(has_line(r.out, R"(hb_target_state{target="bad",kind="service",state="failing"} 1)"));
  CHECK(has_line(r.out, R"(hb_check_status{target="bad",check="down"} 2)"));
  CHECK(has_line(r.out, R"(hb_check_status{target="meh",check="slow"} 1)"));
  CHECK(has_line(r.out, R"(hb_check_status{target="web",check="up"} 0)"));
  CHECK(has_line(r.out, R"(hb_agent_state{target="worker",state="online"} 1)"));
  CHECK(has_line_starting(r.out, "hb_target_last_beat_timestamp_seconds{target=\"worker\","
                                 "kind=\"agent\"} 1773144060"));
  CHECK(has_line(r.out, "hb_target_info{target=\"web\",kind=\"service\",name=\"We\\\"b \\\\ "
                        "API\\nline two | ü ✓ 🚀\"} 1"));
  CHECK(has_line(r.out, "hb_target_state{target=\"we\\\"ird\\\\id\\nnext ✓\",kind=\"service\","
                        "state=\"unknown\"} 1"));
  CHECK(has_line(r.out, "hb_target_info{target=\"latin1\",kind=\"service\",name=\"M\xEF\xBF\xBD"
                        "ller\xEF\xBF\xBD\"} 1"));

  // Every family announced once, before its samples, with help text.
  std::set<std::string> typed;
  std::set<std::string> helped;
  for (const auto& line : lines_of(r.out)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(typed.insert(name).second);
    } else if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else {
      const std::string name = line.substr(0, line.find_first_of("{ "));
      INFO("sample: " << line);
      CHECK(typed.count(name) == 1);
      CHECK(helped.count(name) == 1);
    }
  }

  // promtool does judge: the same output with one label value left unescaped is refused.
  std::string broken = r.out;
  const auto at = broken.find("We\\\"b");
  REQUIRE(at != std::string::npos);
  broken.replace(at, 5, "We\"b");
  CHECK(promtool_check(broken).exit_code != 0);
}

TEST_CASE("hb-status --prometheus FILE: replaced atomically with mode 0644 and nothing left behind")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  record_fleet(ws);
  const fs::path textfile = ws.dir / "textfile";
  fs::create_directories(textfile);
  const fs::path file = textfile / "heartbeat.prom";
  ws.dir.write("textfile/heartbeat.prom", "# an older export\n");
  struct stat before {};
  REQUIRE(::stat(file.c_str(), &before) == 0);

  const mode_t old_umask = ::umask(077);
  const auto r = ws.status({"--prometheus", file.string()}, k_now);
  ::umask(old_umask);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  const auto printed = ws.status({"--prometheus"}, k_now);
  REQUIRE(printed.exit_code == 0);
  // The same metrics but those that move with the instant each run computed them at: the
  // timestamp itself, and the health scores, since an agent's freshness falls second by second
  // after its beat (on a loaded machine the two runs start seconds apart).
  const std::string k_instant = "hb_status_timestamp_seconds ";
  const std::initializer_list<std::string> k_moving = {k_instant, "hb_target_health_score{",
                                                       "hb_health_score "};
  CHECK(without_lines(read_file(file), k_moving) == without_lines(printed.out, k_moving));
  CHECK(has_line_starting(read_file(file), k_instant));
  CHECK(has_line_starting(read_file(file), "hb_target_health_score{target=\"worker\""));
  CHECK(has_line_starting(read_file(file), "hb_health_score "));
  CHECK(promtool_check(read_file(file)).exit_code == 0);

  struct stat after {};
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK((after.st_mode & 07777) == 0644);
  CHECK(after.st_ino != before.st_ino);  // a new file renamed into place, not rewritten
  CHECK(listing(textfile) == std::vector<std::string>{"heartbeat.prom"});

  SECTION("a folder that does not exist is exit 74, saying so")
  {
    const fs::path missing = ws.dir / "nowhere" / "heartbeat.prom";
    const auto e = ws.status({"--prometheus", missing.string()}, k_now);
    CHECK(e.exit_code == 74);
    CHECK(e.out.empty());
    CHECK(e.err == fmt::format("hb-status: error: cannot write metrics file {}: creating a "
                               "temporary file in {}: no such file or directory\n",
                               missing.string(), (ws.dir / "nowhere").string()));
  }
  SECTION("a path under a regular file is exit 74, saying so")
  {
    const fs::path under = file / "heartbeat.prom";
    const auto e = ws.status({"--prometheus", under.string()}, k_now);
    CHECK(e.exit_code == 74);
    CHECK(e.err == fmt::format("hb-status: error: cannot write metrics file {}: creating a "
                               "temporary file in {}: not a directory\n",
                               under.string(), file.string()));
    CHECK(has_line(read_file(file), "hb_status_exit_code 2"));
  }
  SECTION("a folder in the file's place is exit 74 and the temporary file is removed")
  {
    fs::create_directories(textfile / "taken.prom" / "inside");
    const auto e = ws.status({"--prometheus", (textfile / "taken.prom").string()}, k_now);
    CHECK(e.exit_code == 74);
    CHECK(e.err.rfind(fmt::format("hb-status: error: cannot write metrics file {}: ",
                                  (textfile / "taken.prom").string()),
                      0) == 0);
    CHECK(listing(textfile) == std::vector<std::string>{"heartbeat.prom", "taken.prom"});
  }
  if (::geteuid() != 0) {
    SECTION("a folder this user may not write is exit 74, permission denied")
    {
      fs::create_directories(ws.dir / "locked");
      ::chmod((ws.dir / "locked").c_str(), 0555);
      const fs::path locked = ws.dir / "locked" / "heartbeat.prom";
      const auto e = ws.status({"--prometheus", locked.string()}, k_now);
      ::chmod((ws.dir / "locked").c_str(), 0755);
      CHECK(e.exit_code == 74);
      CHECK(e.err == fmt::format("hb-status: error: cannot write metrics file {}: creating a "
                                 "temporary file in {}: permission denied\n",
                                 locked.string(), (ws.dir / "locked").string()));
    }
  }
}

TEST_CASE("hb-status --prometheus without a database is the unknown state and promtool accepts it")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(fleet_config());
  const auto r = ws.status({"--prometheus"}, k_now);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "hb_status_exit_code 3"));
  CHECK(has_line(r.out, R"(hb_pulse_state{state="unknown"} 1)"));
  CHECK(promtool_check(r.out).exit_code == 0);
  CHECK_FALSE(fs::exists(ws.db));
}

TEST_CASE("hb-status --nagios: a status line with perfdata and the problems below exits 0 to 2")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());

  SECTION("a healthy fleet is OK, exit 0, with no long output")
  {
    ws.write_config(json{{"pulse", {{"interval", "5m"}}},
                         {"targets",
                          {{{"id", "web"},
                            {"checks",
                             {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}}}}}
                      .dump());
    REQUIRE(ws.pulse({}, k_pulse_at).exit_code == 0);
    const auto r = ws.status({"--nagios"}, k_now);
    check_plugin_output(r.out, r.exit_code);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "HEARTBEAT OK - 1 target: 1 healthy; pulse alive | targets=1;;;0 "
                   "healthy=1;;;0;1 warning=0;0;;0;1 failing=0;;0;0;1 stale=0;;0;0;1 "
                   "unknown=0;;;0;1 paused=0;;;0;1 agents_offline=0;;0;0;0 jobs_failing=0;;0;0;0 "
                   "score=100.0;70:;40:;0;100 pulse_age=60s;;450;0 notifications_failed_24h=0;;;0\n");
  }
  SECTION("a failing target is CRITICAL, exit 2, and listed before the warning one")
  {
    record_fleet(ws);
    const auto r = ws.status({"--nagios"}, k_now);
    INFO(r.err);
    check_plugin_output(r.out, r.exit_code);
    CHECK(r.exit_code == 2);
    const auto lines = lines_of(r.out);
    CHECK(lines.front().rfind("HEARTBEAT CRITICAL - 5 targets: 1 failing, 1 warning, 1 paused, "
                              "2 healthy; pulse alive | ",
                              0) == 0);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].rfind("CRITICAL: bad failing since 1m ago: down: ", 0) == 0);
    CHECK(lines[2].rfind("WARNING: meh warning since 1m ago: slow: ", 0) == 0);
  }
  SECTION("a stale pulse is CRITICAL, saying so")
  {
    record_fleet(ws);
    const auto r = ws.status({"--nagios"}, "2026-03-10T13:00:00Z");
    check_plugin_output(r.out, r.exit_code);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("; pulse stale | ") != std::string::npos);
    CHECK(r.out.find(" pulse_age=3600s;;450;0 ") != std::string::npos);
    CHECK(lines_of(r.out).at(1).rfind("CRITICAL: pulse: last pulse 1h ago", 0) == 0);
  }
}

TEST_CASE("hb-status --nagios: every failure is UNKNOWN on stdout with exit 3")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(fleet_config());

  SECTION("no database yet")
  {
    const auto r = ws.status({"--nagios"}, k_now);
    CHECK(r.exit_code == 3);
    CHECK(r.out == fmt::format("HEARTBEAT UNKNOWN - no data yet: database {} does not exist "
                               "(has hb-pulse run?)\n",
                               ws.db));
    CHECK_FALSE(fs::exists(ws.db));
  }
  SECTION("a database that is not one")
  {
    if (ws.on_postgres()) {
      return;  // a file's contents: SQLite's own
    }
    ws.dir.write("heartbeat.db", std::string(8192, 'x'));
    const auto plain = ws.status({}, k_now);
    CHECK(plain.exit_code == 74);
    const auto r = ws.status({"--nagios"}, k_now);
    CHECK(r.exit_code == 3);
    CHECK(r.out.rfind("HEARTBEAT UNKNOWN - ", 0) == 0);
    CHECK(r.out.find("file is not a database") != std::string::npos);
    CHECK(lines_of(r.out).size() == 1);
    // Nagios reads stdout; the error line for people stays on stderr.
    CHECK(r.err.rfind("hb-status: error: ", 0) == 0);
  }
  SECTION("usage errors, CLI11's own included")
  {
    const auto bogus = ws.status({"--nagios", "--bogus"}, k_now);
    CHECK(bogus.exit_code == 3);
    CHECK(bogus.out == "HEARTBEAT UNKNOWN - usage: The following argument was not expected: "
                       "--bogus (run hb-status --help for usage)\n");
    CHECK(ws.status({"--bogus"}, k_now).exit_code == 64);
    const auto both = ws.status({"--nagios", "--json"}, k_now);
    INFO(both.out);
    CHECK(both.exit_code == 3);
    CHECK(both.out == "HEARTBEAT UNKNOWN - usage: --json excludes --nagios (run hb-status --help "
                      "for usage)\n");
    const auto target = ws.status({"--nagios", "web"}, k_now);
    CHECK(target.exit_code == 3);
    CHECK(target.out == "HEARTBEAT UNKNOWN - --nagios shows the overview and takes no target "
                        "(got \"web\")\n");
    const auto clock = ws.status({"--nagios"}, "yesterday");
    CHECK(clock.exit_code == 3);
    CHECK(clock.out.rfind("HEARTBEAT UNKNOWN - ", 0) == 0);
  }
  SECTION("a config that cannot be read")
  {
    ws.write_config("{ not json");
    const auto plain = ws.status({}, k_now);
    CHECK(plain.exit_code == 78);
    const auto r = ws.status({"--nagios"}, k_now);
    INFO(r.out);
    CHECK(r.exit_code == 3);
    CHECK(r.out.rfind("HEARTBEAT UNKNOWN - ", 0) == 0);
    CHECK(r.out.find(":1:4: invalid JSON: ") != std::string::npos);
    CHECK(lines_of(r.out).size() == 1);
  }
  SECTION("heartbeat switched off")
  {
    const auto r = ws.status({"--nagios"}, k_now, {{"HEARTBEAT_ENABLED", "false"}});
    CHECK(r.exit_code == 3);
    CHECK(r.out == "HEARTBEAT UNKNOWN - heartbeat is switched off (HEARTBEAT_ENABLED is false)\n");
  }
}

TEST_CASE("hb-status --nagios: 2000 targets stay under 4 KiB with the rest counted")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  json targets = json::array();
  for (int i = 0; i < 2000; ++i) {
    targets.push_back({{"id", fmt::format("t{:04}", i)},
                       {"name", fmt::format("target {} with a long display name {}", i,
                                            std::string(120, 'x'))},
                       {"checks", {{{"name", "c"},
                                    {"type", "command"},
                                    {"command", {i % 2 == 0 ? "/bin/false" : "/bin/true"}}}}}});
  }
  targets.push_back({{"id", "down"},
                     {"checks", {{{"name", "c"},
                                  {"type", "command"},
                                  {"command", {"/bin/sh", "-c", "exit 2"}}}}}});
  ws.write_config(json{{"pulse", {{"interval", "5m"}}}, {"targets", targets}}.dump());
  const auto pulse = ws.pulse({}, k_pulse_at);
  INFO(pulse.err);
  REQUIRE(pulse.exit_code == 0);

  const auto r = ws.status({"--nagios"}, k_now);
  INFO(r.err);
  check_plugin_output(r.out, r.exit_code);
  CHECK(r.exit_code == 2);
  CHECK(r.out.size() < 4096);
  const auto lines = lines_of(r.out);
  CHECK(lines.front().rfind("HEARTBEAT CRITICAL - 2001 targets: 1 failing, 1000 warning, 1000 "
                            "healthy; pulse alive | ",
                            0) == 0);
  REQUIRE(lines.size() > 3);
  // Most severe first.
  CHECK(lines[1].rfind("CRITICAL: down failing", 0) == 0);
  CHECK(lines[2].rfind("WARNING: t0000 (target 0 with a long display name", 0) == 0);
  const std::regex more(R"(\.\.\. and ([0-9]+) more)");
  std::smatch match;
  REQUIRE(std::regex_match(lines.back(), match, more));
  const int shown = static_cast<int>(lines.size()) - 2;
  CHECK(shown + std::stoi(match[1].str()) == 1001);
}

TEST_CASE("hb-status --nagios: a user who may only read the database gets the real answer")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const fs::path data = ws.dir / "data";
  fs::create_directories(data);
  const std::string db = (data / "heartbeat.db").string();
  ws.write_config(fleet_config());
  REQUIRE(run_tool("hb-pulse", {"--config", ws.config, "--db", db}, {{"HB_NOW", k_pulse_at}})
            .exit_code == 0);
  const std::vector<std::string> args{"--config", ws.config, "--db", db, "--nagios"};
  const auto as_owner = run_tool("hb-status", args, {{"HB_NOW", k_now}});
  check_plugin_output(as_owner.out, as_owner.exit_code);
  REQUIRE(as_owner.exit_code == 2);

  const bool root = ::geteuid() == 0;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (root) {
    // A member of the database's group, nothing more: the folder 0750 and the files 0640.
    uid = 65534;
    gid = 65534;
    if (const passwd* nobody = ::getpwnam("nobody")) {
      uid = nobody->pw_uid;
    }
    if (const group* nogroup = ::getgrnam("nogroup")) {
      gid = nogroup->gr_gid;
    }
    for (const auto& path : {ws.dir.path(), data}) {
      ::chmod(path.c_str(), 0755);
    }
    ::chmod(ws.config.c_str(), 0644);
    REQUIRE(::chown(data.c_str(), 0, gid) == 0);
    ::chmod(data.c_str(), 0750);
    for (const auto& name : listing(data)) {
      REQUIRE(::chown((data / name).c_str(), 0, gid) == 0);
      ::chmod((data / name).c_str(), 0640);
    }
  } else {
    // Not root: the same reader's position for ourselves, files and folder read-only.
    WARN("not root: testing the read-only run as this user on read-only files; the group "
         "setup needs root");
    for (const auto& name : listing(data)) {
      ::chmod((data / name).c_str(), 0440);
    }
    ::chmod(data.c_str(), 0550);
  }
  auto as_reader = [&](const std::vector<std::string>& a) {
    return root ? run_as(uid, gid, "hb-status", a, ws.dir.path())
                : run_tool("hb-status", a, {{"HB_NOW", k_now}});
  };

  const auto files = listing(data);
  CHECK(files == std::vector<std::string>{"heartbeat.db", "heartbeat.db-shm", "heartbeat.db-wal"});
  const auto reader = as_reader(args);
  INFO("as the reader: " << reader.err);
  REQUIRE_FALSE((reader.exit_code == 126 && reader.err.empty()));
  CHECK(reader.exit_code == 2);
  CHECK(reader.out == as_owner.out);
  CHECK(listing(data) == files);

  SECTION("when another program removed the -wal and -shm files, the database file is read")
  {
    ::chmod(data.c_str(), 0750);
    for (const auto& name : files) {
      ::chmod((data / name).c_str(), 0640);
    }
    {
      // The sqlite3 shell or a backup closing the database last checkpoints and removes them.
      SQLite::Database closer(db, SQLite::OPEN_READWRITE);
      closer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    ::chmod(db.c_str(), root ? 0640 : 0440);
    ::chmod(data.c_str(), root ? 0750 : 0550);
    REQUIRE(listing(data) == std::vector<std::string>{"heartbeat.db"});
    const auto again = as_reader(args);
    INFO("as the reader: " << again.err);
    CHECK(again.exit_code == 2);
    CHECK(again.out == as_owner.out);
    CHECK(listing(data) == std::vector<std::string>{"heartbeat.db"});
    const auto metrics = as_reader({"--config", ws.config, "--db", db, "--prometheus"});
    CHECK(metrics.exit_code == 0);
    CHECK(promtool_check(metrics.out).exit_code == 0);
  }
  SECTION("a -wal without its -shm cannot be read safely: UNKNOWN, saying what to do")
  {
    ::chmod(data.c_str(), 0750);
    ::unlink((db + "-shm").c_str());
    ::chmod(data.c_str(), root ? 0750 : 0550);
    const auto r = as_reader(args);
    INFO(r.out);
    CHECK(r.exit_code == 3);
    CHECK(r.out.rfind(fmt::format("HEARTBEAT UNKNOWN - cannot read database {}: its -shm file is "
                                  "missing or unreadable, and this user may not create it in {} (",
                                  db, data.string()),
                      0) == 0);
    CHECK(listing(data) == std::vector<std::string>{"heartbeat.db", "heartbeat.db-wal"});
  }
  ::chmod(data.c_str(), 0755);
}

TEST_CASE("hb-status: a database created in a folder only its group may enter is read by that group with no chmod", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(fleet_config());
  const bool root = ::geteuid() == 0;
  gid_t group_id = ::getegid();
  if (root) {
    if (const group* nogroup = ::getgrnam("nogroup")) {
      group_id = nogroup->gr_gid;
    } else {
      group_id = 65534;
    }
  }
  // The folder's mode decides the database's: 0640 where only the owner and the group may enter
  // (the package's /var/lib/heartbeat), 0600 anywhere else. The umask does not widen it.
  struct Case {
    const char* folder;
    mode_t folder_mode;
    mode_t database_mode;
  };
  for (const Case& c : {Case{"shared", 02750, 0640}, Case{"group", 0750, 0640},
                        Case{"private", 0700, 0600}, Case{"listable", 0755, 0600},
                        Case{"group-writable", 0770, 0640}, Case{"others-enter", 0751, 0600}}) {
    const fs::path folder = ws.dir / c.folder;
    fs::create_directories(folder);
    if (root) {
      REQUIRE(::chown(folder.c_str(), 0, group_id) == 0);
    }
    REQUIRE(::chmod(folder.c_str(), c.folder_mode) == 0);
    const std::string db = (folder / "heartbeat.db").string();
    const mode_t old_umask = ::umask(022);
    const auto pulse =
      run_tool("hb-pulse", {"--config", ws.config, "--db", db}, {{"HB_NOW", k_pulse_at}});
    ::umask(old_umask);
    INFO(c.folder << ": " << pulse.err);
    REQUIRE(pulse.exit_code == 0);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      struct stat st {};
      REQUIRE(::stat((db + suffix).c_str(), &st) == 0);
      CHECK(fmt::format("{}{} {:04o}", c.folder, suffix, st.st_mode & 07777) ==
            fmt::format("{}{} {:04o}", c.folder, suffix, c.database_mode));
    }
  }

  if (!root) {
    WARN("not root: the modes are checked; reading as another user of the group needs root");
    return;
  }
  // A member of the group, and another user who is not one: no chmod, no chgrp, the files as
  // the pulse made them (the setgid folder gives them its group).
  uid_t nobody_uid = 65534;
  if (const passwd* nobody = ::getpwnam("nobody")) {
    nobody_uid = nobody->pw_uid;
  }
  ::chmod(ws.dir.path().c_str(), 0755);
  ::chmod(ws.config.c_str(), 0644);
  const std::string db = (ws.dir / "shared" / "heartbeat.db").string();
  const std::vector<std::string> args{"--config", ws.config, "--db", db, "--nagios"};
  const auto as_owner = run_tool("hb-status", args, {{"HB_NOW", k_now}});
  REQUIRE(as_owner.exit_code == 2);
  const auto member = run_as(nobody_uid, group_id, "hb-status", args, ws.dir.path());
  INFO("as a member of the group: " << member.err);
  CHECK(member.exit_code == 2);
  CHECK(member.out == as_owner.out);
  const auto stranger = run_as(nobody_uid, group_id + 1000, "hb-status", args, ws.dir.path());
  INFO("as another user: " << stranger.out << stranger.err);
  CHECK(stranger.exit_code == 3);
  CHECK(stranger.out.find("permission denied") != std::string::npos);

  // Root creating the database in a folder the service user owns (sudo hb-pulse in the package's
  // /var/lib/heartbeat) gives it to that user, -wal and -shm included: the service still writes.
  const fs::path service = ws.dir / "service";
  fs::create_directories(service);
  REQUIRE(::chown(service.c_str(), nobody_uid, group_id) == 0);
  REQUIRE(::chmod(service.c_str(), 0750) == 0);
  const std::string service_db = (service / "heartbeat.db").string();
  const auto by_root =
    run_tool("hb-pulse", {"--config", ws.config, "--db", service_db}, {{"HB_NOW", k_pulse_at}});
  INFO("hb-pulse as root: " << by_root.err);
  REQUIRE(by_root.exit_code == 0);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    REQUIRE(::stat((service_db + suffix).c_str(), &st) == 0);
    CHECK(fmt::format("{}{} {}:{}", "heartbeat.db", suffix, st.st_uid, st.st_gid) ==
          fmt::format("{}{} {}:{}", "heartbeat.db", suffix, nobody_uid, group_id));
  }
  const auto by_service = run_as(nobody_uid, group_id, "hb-pulse",
                                 {"--config", ws.config, "--db", service_db, "--force"}, ws.dir.path());
  INFO("hb-pulse as the folder's owner: " << by_service.err);
  CHECK(by_service.exit_code == 0);
}
