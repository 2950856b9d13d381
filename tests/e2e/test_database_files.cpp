// SPDX-License-Identifier: MIT
// The database file as the tools meet it on disk (issue 11, items 5, 7, 9 and 10): symlinked
// folders, a link in the database's place, symlink loops, another user's database, the umask,
// loose modes, a full disk and a schema version heartbeat never wrote. Each assertion on a
// message is on the exact text, since the message is the fix.
#include "e2e_helpers.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hb::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_now = "2026-03-10T12:00:00Z";

// An agent and a command check that always passes: every tool has something to do.
std::string simple_config()
{
  return json{{"targets",
               {{{"id", "agent"}, {"kind", "agent"}},
                {{"id", "web"},
                 {"checks", {{{"name", "up"}, {"type", "command"}, {"command", {"/bin/true"}}}}}}}}}
      .dump(2);
}

// Runs `tool`; hb-status --json must print what its schema allows (check_status_schema).
ToolResult run(const std::string& tool, const Workspace& ws, const std::string& db,
               std::vector<std::string> args)
{
  args.insert(args.begin(), {"--config", ws.config, "--db", db});
  auto r = run_tool(tool, args, {{"HB_NOW", k_now}});
  if (tool == "hb-status") {
    check_status_schema(args, r);
  }
  return r;
}

// The permission bits of `path` (a final symlink not followed), or -1 when it is missing.
int mode_of(const fs::path& path)
{
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
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

int count_of(const std::string& text, const std::string& needle)
{
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Runs `tool` as the user `nobody` (uid and gid 65534 when the names are missing): the test
// runs as root, for which permissions are not checked. Returns exit code 126 with an empty
// stderr when the child could not become nobody or start the tool.
ToolResult run_as_nobody(const std::string& tool, const std::vector<std::string>& args,
                         const fs::path& scratch)
{
  uid_t uid = 65534;
  gid_t gid = 65534;
  if (const passwd* nobody = ::getpwnam("nobody")) {
    uid = nobody->pw_uid;
    gid = nobody->pw_gid;
  }
  const std::string out_path = (scratch / "nobody.out").string();
  const std::string err_path = (scratch / "nobody.err").string();
  std::vector<std::string> argv_text{tool_path(tool)};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::string env_now = fmt::format("HB_NOW={}", k_now);
  std::string env_color = "NO_COLOR=1";
  std::string env_path = "PATH=/usr/bin:/bin";
  std::vector<char*> envp{env_now.data(), env_color.data(), env_path.data(), nullptr};

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

// A tmpfs of `size` mounted on `dir` for the test's lifetime, or nothing when this process may
// not mount (not root, or no CAP_SYS_ADMIN): then mounted() is false.
class SmallDisk {
public:
  SmallDisk(const fs::path& dir, const std::string& size)
      : m_dir(dir)
  {
    fs::create_directories(dir);
    const std::string options = fmt::format("size={},mode=0700", size);
    m_mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    m_error = m_mounted ? 0 : errno;
  }
  ~SmallDisk()
  {
    if (m_mounted) {
      ::umount2(m_dir.c_str(), MNT_DETACH);
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return m_mounted; }
  int error() const { return m_error; }

  // Writes zeros to a file until the disk is full.
  void fill() const
  {
    std::ofstream out(m_dir / "filler", std::ios::binary);
    const std::string block(4096, '\0');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      out.flush();
    }
  }

private:
  fs::path m_dir;
  bool m_mounted = false;
  int m_error = 0;
};

} // namespace

TEST_CASE("database files: a symlinked folder on the way is followed by every tool", "[sqlite]")
{
  // Debian's /var/run -> /run: "unable to open database file", and a 0-byte file left behind.
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  fs::create_directories(ws.dir / "run");
  fs::create_directories(ws.dir / "var");
  fs::create_directory_symlink("../run", ws.dir / "var" / "run");
  const std::string db = (ws.dir / "var" / "run" / "heartbeat" / "heartbeat.db").string();

  const auto pulse = run("hb-pulse", ws, db, {});
  INFO("hb-pulse: " << pulse.err);
  CHECK(pulse.exit_code == 0);
  const auto beat = run("hb-beat", ws, db, {"agent"});
  INFO("hb-beat: " << beat.err);
  CHECK(beat.exit_code == 0);
  const auto status = run("hb-status", ws, db, {"--json"});
  INFO("hb-status: " << status.err);
  CHECK(status.exit_code == 0);
  CHECK(json::parse(status.out).at("counts").at("healthy") == 2);
  CHECK(listing(ws.dir / "run" / "heartbeat") ==
        std::vector<std::string>{"heartbeat.db", "heartbeat.db-shm", "heartbeat.db-wal"});
  CHECK(listing(ws.dir / "var") == std::vector<std::string>{"run"});
}

TEST_CASE("database files: a symbolic link in the database's place is refused, saying why", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  fs::create_directories(ws.dir / "elsewhere");
  const auto target = ws.dir / "elsewhere" / "target.db";
  fs::create_symlink(target, ws.dir / "heartbeat.db");
  const std::string expected = fmt::format(
      "database {} is a symbolic link to {}: refused, because a link in the database's place could "
      "send heartbeat's writes to any file; point --db at {} or link its folder instead\n",
      ws.db, target.string(), target.string());
  for (const auto& [tool, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"hb-pulse", {}}, {"hb-beat", {"agent"}}, {"hb-status", {}}}) {
    const auto r = run(tool, ws, ws.db, args);
    CHECK(r.exit_code == 74);
    CHECK(r.err == tool + ": error: " + expected);
  }
  // Nothing was created: neither the link's target nor a file beside the link.
  CHECK(fs::is_empty(ws.dir / "elsewhere"));
  CHECK(listing(ws.dir.path()) ==
        std::vector<std::string>{"elsewhere", "heartbeat.db", "heartbeat.json"});
}

TEST_CASE("database files: a symlink loop says too many levels of symbolic links", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  fs::create_symlink("loop-b", ws.dir / "loop-a");
  fs::create_symlink("loop-a", ws.dir / "loop-b");
  for (const std::string& db :
       {(ws.dir / "loop-a" / "heartbeat.db").string(), (ws.dir / "loop-a").string()}) {
    for (const std::string tool : {"hb-beat", "hb-status"}) {
      const auto r =
          run(tool, ws, db,
              tool == "hb-beat" ? std::vector<std::string>{"agent"} : std::vector<std::string>{});
      CHECK(r.exit_code == 74);
      CHECK(r.err == fmt::format("{}: error: cannot open database {}: too many levels of "
                                 "symbolic links (a symlink loop in the path?)\n",
                                 tool, db));
    }
  }
}

TEST_CASE("database files: another user's database is permission denied, naming its owner", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  REQUIRE(run("hb-beat", ws, ws.db, {"agent"}).exit_code == 0);
  fs::create_directories(ws.dir / "private");
  const std::string hidden = (ws.dir / "private" / "heartbeat.db").string();
  REQUIRE(run("hb-beat", ws, hidden, {"agent"}).exit_code == 0);
  ::chmod((ws.dir / "private").c_str(), 0700);

  const bool root = ::geteuid() == 0;
  std::string owner;
  if (const passwd* me = ::getpwuid(::geteuid())) {
    owner = me->pw_name;
  }
  auto as_other = [&](const std::string& tool, std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", ws.config});
    if (root) {
      return run_as_nobody(tool, args, ws.dir.path());
    }
    return run_tool(tool, args, {{"HB_NOW", k_now}});
  };
  if (root) {
    // nobody must reach the config and the folder, then meet a file (or folder) it may not use.
    ::chmod(ws.dir.path().c_str(), 0755);
    ::chmod(ws.config.c_str(), 0644);
  } else {
    // Not root: take the permissions away from ourselves instead.
    ::chmod(ws.db.c_str(), 0);
  }
  const auto probe = as_other("hb-status", {"--db", ws.db});
  if (root && probe.exit_code == 126 && probe.err.empty()) {
    WARN("cannot run the tools as nobody (setuid failed, or nobody may not run "
         << tool_path("hb-status") << "): SKIPPING the permission-denied assertions");
    std::exit(125);
  }
  const std::string file_mode = root ? "0600" : "0000";
  CHECK(probe.exit_code == 74);
  CHECK(probe.err == fmt::format("hb-status: error: cannot open database {}: permission denied "
                                 "(it belongs to {}, mode {}): run heartbeat as that user, or "
                                 "change the owner or mode\n",
                                 ws.db, owner, file_mode));
  const auto beat = as_other("hb-beat", {"--db", ws.db, "agent"});
  CHECK(beat.exit_code == 74);
  CHECK(beat.err == fmt::format("hb-beat: error: cannot write database {}: permission denied "
                                "(it belongs to {}, mode {}): run heartbeat as that user, or "
                                "change the owner or mode\n",
                                ws.db, owner, file_mode));
  if (root) {
    // A folder on the way it may not search.
    const auto folder = as_other("hb-status", {"--db", hidden});
    CHECK(folder.exit_code == 74);
    CHECK(folder.err ==
          fmt::format("hb-status: error: cannot open database {}: permission denied (folder "
                      "{} belongs to {}, mode 0700): run heartbeat as that user, or change the "
                      "owner or mode\n",
                      hidden, (ws.dir / "private").string(), owner));
  }
  ::chmod(ws.db.c_str(), 0600);
}

TEST_CASE("database files: under umask 000 the folders heartbeat creates are 0700, its files 0600", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  const auto top = ws.dir / "state";
  const std::string db = (top / "heartbeat" / "data" / "heartbeat.db").string();
  // The tools inherit the umask.
  const mode_t old_umask = ::umask(0);
  const auto pulse = run("hb-pulse", ws, db, {});
  const auto beat = run("hb-beat", ws, db, {"agent"});
  ::umask(old_umask);
  INFO("hb-pulse: " << pulse.err << "hb-beat: " << beat.err);
  REQUIRE(pulse.exit_code == 0);
  REQUIRE(beat.exit_code == 0);
  CHECK(mode_of(top) == 0700);
  CHECK(mode_of(top / "heartbeat") == 0700);
  CHECK(mode_of(top / "heartbeat" / "data") == 0700);
  CHECK(mode_of(db) == 0600);
  CHECK(mode_of(db + "-wal") == 0600);
  CHECK(mode_of(db + "-shm") == 0600);
  CHECK(pulse.err.find("warning") == std::string::npos);
}

TEST_CASE("database files: a database others can read or change is warned about once per run", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets", {{{"id", "nightly"}, {"kind", "job"}}}}}.dump());
  const auto data = ws.dir / "data";
  const std::string db = (data / "heartbeat.db").string();
  REQUIRE(run("hb-beat", ws, db, {"nightly", "--", "/bin/true"}).exit_code == 0);
  ::chmod(db.c_str(), 0666);
  ::chmod((db + "-wal").c_str(), 0644);
  ::chmod(data.c_str(), 0777);
  const std::string command =
      fmt::format("chmod g-w,o-rw {} {} && chmod go-w {}", db, db + "-wal", data.string());
  const std::string warning = fmt::format(
      "database {} can be read or changed by other users ({} is mode 0666, {}-wal is mode 0644, {} "
      "is mode 0777): run \"{}\"",
      db, db, db, data.string(), command);

  // The job wrapper opens the database twice (start and end of the run): one warning.
  const auto job = run("hb-beat", ws, db, {"nightly", "--", "/bin/true"});
  CHECK(job.exit_code == 0);
  CHECK(job.err == "hb-beat: warning: " + warning + "\n");
  const auto status = run("hb-status", ws, db, {});
  CHECK(count_of(status.err, "hb-status: warning: " + warning + "\n") == 1);
  const auto pulse = run("hb-pulse", ws, db, {});
  CHECK(count_of(pulse.err, "can be read or changed by other users") == 1);

  // The command it gives is the fix.
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(mode_of(db) == 0640); // group read is allowed
  CHECK(mode_of(data) == 0755);
  const auto after = run("hb-beat", ws, db, {"nightly", "--", "/bin/true"});
  CHECK(after.exit_code == 0);
  CHECK(after.err.empty());
}

TEST_CASE("database files: a full disk is disk full for writers, and hb-status still reads", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  const SmallDisk disk(ws.dir / "disk", "1m");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (" << std::strerror(disk.error())
                                       << "; needs root): SKIPPING the full-disk test; "
                                          "test_sqlite_store.cpp simulates SQLITE_FULL instead");
    std::exit(125);
  }
  const std::string db = (ws.dir / "disk" / "heartbeat.db").string();
  REQUIRE(run("hb-pulse", ws, db, {}).exit_code == 0);
  REQUIRE(run("hb-beat", ws, db, {"agent"}).exit_code == 0);
  const auto before = run("hb-status", ws, db, {"--json"});
  REQUIRE(before.exit_code == 0);
  {
    // Another program closes the database last (the sqlite3 shell, a backup): SQLite
    // checkpoints and deletes the WAL and the -shm, which the next reader must create.
    SQLite::Database closer(db, SQLite::OPEN_READWRITE);
    closer.execAndGet("SELECT count(*) FROM targets");
  }
  REQUIRE_FALSE(fs::exists(db + "-shm"));
  disk.fill();

  const auto status = run("hb-status", ws, db, {"--json"});
  INFO("hb-status on a full disk: " << status.err);
  CHECK(status.exit_code == 0);
  CHECK(status.err.empty());
  CHECK(status.out == before.out);

  const std::string full = fmt::format("disk full: no space left on device for {} (", db);
  const auto beat = run("hb-beat", ws, db, {"agent"});
  CHECK(beat.exit_code == 74);
  CHECK(beat.err.rfind("hb-beat: error: " + full, 0) == 0);
  const auto pulse = run("hb-pulse", ws, db, {"--force"});
  CHECK(pulse.exit_code == 74);
  CHECK(pulse.err.rfind("hb-pulse: error: " + full, 0) == 0);

  // A database created on the full disk fails the same way and leaves nothing: no 0-byte
  // file, no folder.
  const std::string fresh = (ws.dir / "disk" / "new" / "heartbeat.db").string();
  const auto create = run("hb-beat", ws, fresh, {"agent"});
  CHECK(create.exit_code == 74);
  CHECK(create.err.rfind(
            fmt::format("hb-beat: error: disk full: no space left on device for {} (", fresh), 0) ==
        0);
  CHECK(listing(ws.dir / "disk") ==
        std::vector<std::string>{"filler", "heartbeat.db", "heartbeat.db-shm", "heartbeat.db-wal"});
}

TEST_CASE("database files: a schema version heartbeat never wrote is exit 74, not a crash", "[sqlite]")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(simple_config());
  REQUIRE(run("hb-beat", ws, ws.db, {"agent"}).exit_code == 0);
  {
    SQLite::Database database(ws.db, SQLite::OPEN_READWRITE);
    database.exec("PRAGMA user_version = -3");
  }
  const std::string expected = fmt::format(
      "database {} has schema version -3, which is not one heartbeat wrote (it writes 1 to {}): "
      "is it heartbeat's database? point --db at another file\n",
      ws.db, hb::store::sqlite::sqlite_schema_version());
  for (const auto& [tool, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"hb-pulse", {}}, {"hb-beat", {"agent"}}, {"hb-status", {}}}) {
    const auto r = run(tool, ws, ws.db, args);
    CHECK(r.exit_code == 74);
    CHECK(r.err == tool + ": error: " + expected);
  }
}
