// SPDX-License-Identifier: MIT
// hb-status --prometheus end to end: a real hb-pulse and hb-beat write the database, and the
// real promtool judges the metrics (docs/operations.md).
#include "e2e_helpers.hpp"

#include "util/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
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

// `text` without the lines that start with `prefix`.
std::string without_lines(const std::string& text, const std::string& prefix)
{
  std::string out;
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) != 0) {
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

} // namespace

TEST_CASE("hb-status --prometheus: promtool accepts the metrics of a mixed fleet with hostile names")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  record_fleet(ws);
  {
    // Ids the config would refuse, as an older or foreign writer could have left them, and a
    // name that is not UTF-8: the label values must still be escaped and valid.
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

TEST_CASE("hb-status --prometheus FILE: replaced atomically, mode 0644, nothing left behind")
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
  // The same metrics but the instant each run computed them at.
  const std::string k_instant = "hb_status_timestamp_seconds ";
  CHECK(without_lines(read_file(file), k_instant) == without_lines(printed.out, k_instant));
  CHECK(has_line_starting(read_file(file), k_instant));
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

TEST_CASE("hb-status --prometheus without a database is the unknown state, and promtool accepts it")
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
