// SPDX-License-Identifier: MIT
// hb-status --html end to end: real pulses and beats write the database over a few hours, the
// page is written, and the real headless Chromium (Debian package chromium) renders it: the DOM
// it parsed holds every target, and the screenshot is a picture, not a blank page.
#include "e2e_helpers.hpp"

#include "util/process.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace hb::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_chromium = "/usr/bin/chromium";

// A display name that would run script or break out of an attribute if it were not escaped.
const std::string k_hostile_name = "<script>document.title='owned'</script> \"Web\" & 'Co' <b>";

std::string fleet_config()
{
  return json{
    {"pulse", {{"interval", "1h"}}},
    {"targets",
     {{{"id", "api"},
       {"name", "Public API"},
       {"checks",
        {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/sh", "-c", "sleep 0.03"}}}}}},
      {{"id", "bad"},
       {"checks", {{{"name", "down"}, {"type", "command"}, {"command", {"/bin/sh", "-c", "exit 2"}}}}}},
      {{"id", "web"},
       {"name", k_hostile_name},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}},
      {{"id", "worker"}, {"kind", "agent"}},
      {{"id", "old"},
       {"paused", true},
       {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}}}}}
    .dump(2);
}

constexpr const char* k_now = "2026-03-10T12:00:30Z";

// Pulses over four hours (so the strip has several hours and the trend several points), then
// the agent beats.
void record_fleet(const Workspace& ws)
{
  ws.write_config(fleet_config());
  for (const char* at : {"2026-03-10T09:00:00Z", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z",
                         "2026-03-10T12:00:00Z"}) {
    const auto pulse = ws.pulse({}, at);
    INFO(at << ": " << pulse.err);
    REQUIRE(pulse.exit_code == 0);
  }
  const auto beat = ws.beat({"worker"}, "2026-03-10T12:00:20Z");
  INFO(beat.err);
  REQUIRE(beat.exit_code == 0);
}

// Runs the real headless Chromium on `page` with `extra` arguments; returns its stdout. Fails
// the test (never skips) when Chromium is missing: scripts/setup installs it.
std::string chromium(const Workspace& ws, const fs::path& page, std::vector<std::string> extra)
{
  INFO("headless Chromium comes with the Debian package \"chromium\"; scripts/setup installs it");
  REQUIRE(::access(k_chromium, X_OK) == 0);
  hb::util::ProcessSpec spec;
  // No sandbox: the tests run as root in CI, where Chromium refuses its sandbox; the page is our
  // own, from a local file. No /dev/shm: containers often give it 64 MiB, too little for it.
  spec.argv = {k_chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
               "--user-data-dir=" + (ws.dir / "chromium").string()};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.argv.push_back("file://" + page.string());
  spec.env = {{"HOME", ws.dir.path().string()}};
  spec.timeout = hb::Duration(120'000);
  spec.output_cap = 16 * 1024 * 1024;
  spec.stderr_mode = hb::util::ProcessSpec::Stderr::separate;
  const auto result = hb::util::run_process(spec);
  INFO(result.error_output);
  REQUIRE(result.end == hb::util::ProcessResult::End::exited);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

int count_of(const std::string& text, const std::string& what)
{
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

// The table row of `target` in the page or DOM.
std::string row_of(const std::string& html, const std::string& target)
{
  const auto start = html.find(fmt::format("<tr data-target=\"{}\"", target));
  REQUIRE(start != std::string::npos);
  return html.substr(start, html.find("</tr>", start) - start);
}

} // namespace

TEST_CASE("hb-status --html writes one self-contained page that headless Chromium renders")
{
  Workspace ws;
  record_fleet(ws);
  const fs::path page = ws.dir / "site" / "status.html";
  fs::create_directories(page.parent_path());

  const auto r = ws.status({"--html", page.string()}, k_now);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);  // written: the state is on the page
  CHECK(r.out.empty());

  // Replaced atomically: the page alone in its folder, readable by a web server.
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(page.parent_path())) {
    files.push_back(entry.path().filename().string());
  }
  CHECK(files == std::vector<std::string>{"status.html"});
  struct stat st {};
  REQUIRE(::stat(page.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);

  const std::string html = read_file(page);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  SECTION("nothing is fetched: no script, no external reference, a policy that forbids them")
  {
    CHECK(html.find("default-src 'none'") != std::string::npos);
    for (const char* fetch : {"<script", "<link", "<img", "<iframe", " src=", "href=", "url(",
                              "@import", "http://", "https://"}) {
      INFO(fetch);
      CHECK(html.find(fetch) == std::string::npos);
    }
    // The hostile name is text, escaped in element text and in attributes alike.
    CHECK(html.find("&lt;script&gt;document.title=&#39;owned&#39;&lt;/script&gt; &quot;Web&quot; "
                    "&amp; &#39;Co&#39; &lt;b&gt;") != std::string::npos);
  }
  SECTION("what the page holds: pulse, counts, strips, trends, incidents")
  {
    CHECK(html.find("id=\"pulse\" class=\"dot good\" data-state=\"alive\"") != std::string::npos);
    CHECK(row_of(html, "bad").find("data-state=\"failing\"") != std::string::npos);
    CHECK(row_of(html, "old").find("data-state=\"paused\"") != std::string::npos);
    CHECK(row_of(html, "worker").find("data-state=\"online\"") != std::string::npos);
    // Four hours of observations in each strip of 24: bad's are red, api's green.
    CHECK(count_of(row_of(html, "bad"), "class=\"c-bad\"") == 4);
    CHECK(count_of(row_of(html, "api"), "class=\"c-good\"") == 4);
    CHECK(count_of(row_of(html, "api"), "class=\"c-none\"") == 20);
    CHECK(count_of(row_of(html, "api"), "<rect") == 24);
    // api's latency over the four hours is a line; the agent has no latency to draw.
    CHECK(count_of(row_of(html, "api"), "<polyline class=\"trend\"") == 1);
    CHECK(count_of(row_of(html, "worker"), "<polyline") == 0);
    const auto incidents = html.substr(html.find("<section id=\"incidents\">"));
    CHECK(incidents.substr(0, incidents.find("</section>")).find("<td>bad</td>") != std::string::npos);
  }

  SECTION("headless Chromium: the DOM holds every target and the screenshot is a picture")
  {
    const std::string dom = chromium(ws, page, {"--dump-dom"});
    for (const char* id : {"api", "bad", "web", "worker", "old"}) {
      INFO(id);
      CHECK(dom.find(fmt::format("data-target=\"{}\"", id)) != std::string::npos);
    }
    CHECK(dom.find("id=\"pulse\"") != std::string::npos);
    // The name stayed text: no element was made of it and the title is ours.
    CHECK(dom.find("<script") == std::string::npos);
    CHECK(dom.find("<title>heartbeat: alive</title>") != std::string::npos);

    const fs::path shot = ws.dir / "status.png";
    chromium(ws, page, {"--window-size=1280,900", "--screenshot=" + shot.string()});
    REQUIRE(fs::exists(shot));
    const auto stats = run_command({"python3", std::string(HB_SOURCE_DIR) + "/tests/support/png_stats.py",
                                    shot.string()});
    INFO(stats.out << stats.err);
    REQUIRE(stats.exit_code == 0);
    std::istringstream in(stats.out);
    int width = 0;
    int height = 0;
    int colours = 0;
    in >> width >> height >> colours;
    CHECK(width == 1280);
    CHECK(height == 900);
    // Text, dots, strips and charts in several colours; a blank page has one colour.
    CHECK(colours > 50);
  }
}

TEST_CASE("hb-status --html before the first pulse writes a page that says there is no data yet")
{
  Workspace ws;
  ws.write_config(fleet_config());
  const fs::path page = ws.dir / "status.html";
  const auto r = ws.status({"--html", page.string()}, k_now);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = read_file(page);
  CHECK(html.find("data-state=\"unknown\"") != std::string::npos);
  CHECK(html.find("no data yet: database") != std::string::npos);
  CHECK(html.find("No targets yet") != std::string::npos);
  CHECK_FALSE(fs::exists(ws.db));  // read-only: nothing created
}

TEST_CASE("hb-status --html refuses a target and other outputs and names a page it cannot write")
{
  Workspace ws;
  record_fleet(ws);
  const fs::path page = ws.dir / "status.html";

  auto r = ws.status({"api", "--html", page.string()}, k_now);
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("--html shows the overview and takes no target") != std::string::npos);
  r = ws.status({"--html", page.string(), "--json"}, k_now);
  CHECK(r.exit_code == 64);
  CHECK_FALSE(fs::exists(page));

  const std::string missing = (ws.dir / "no-such-folder" / "status.html").string();
  r = ws.status({"--html", missing}, k_now);
  CHECK(r.exit_code == 74);
  CHECK(r.err.find("cannot write page " + missing) != std::string::npos);
  CHECK(r.err.find("no such file or directory") != std::string::npos);

  // An old page is replaced whole, never truncated in place.
  ws.dir.write("status.html", "old page");
  r = ws.status({"--html", page.string()}, k_now);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(page).rfind("<!DOCTYPE html>", 0) == 0);
}
