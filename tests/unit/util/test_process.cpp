// SPDX-License-Identifier: MIT
#include "util/process.hpp"

#include "support/tool_runner.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using hb::Duration;
using hb::test::read_file;
using hb::util::ProcessResult;
using hb::util::ProcessSpec;
using hb::util::run_process;
using End = ProcessResult::End;

class ScratchDir {
public:
  ScratchDir()
  {
    std::string pattern = (fs::temp_directory_path() / "hb-process-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = fs::canonical(pattern);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir()
  {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

ProcessSpec shell(const std::string& script)
{
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  return spec;
}

// A process that is gone or a zombie no longer runs (in a container nobody may reap orphans).
bool is_running(pid_t pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool stops_running_within(pid_t pid, std::chrono::milliseconds limit)
{
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (!is_running(pid)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !is_running(pid);
}

pid_t read_pid(const fs::path& file)
{
  // The script writes the pid before blocking, but give the shell a moment to get there.
  for (int i = 0; i < 200 && read_file(file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string text = read_file(file);
  REQUIRE_FALSE(text.empty());
  return static_cast<pid_t>(std::stol(text));
}

// Points one of our standard descriptors elsewhere (a file, a pipe, or nowhere: closed) for the
// lifetime of the object, then puts the original back.
class StdFdSwap {
public:
  explicit StdFdSwap(int fd)
      : m_fd(fd)
  {
    std::fflush(nullptr); // Catch2's buffered output belongs to the real descriptor
    m_saved = ::dup(fd);
    REQUIRE(m_saved >= 0);
  }
  StdFdSwap(const StdFdSwap&) = delete;
  StdFdSwap& operator=(const StdFdSwap&) = delete;
  ~StdFdSwap()
  {
    std::fflush(nullptr);
    ::dup2(m_saved, m_fd);
    ::close(m_saved);
  }

  void to_file(const fs::path& file, int flags)
  {
    const int opened = ::open(file.c_str(), flags, 0600);
    REQUIRE(opened >= 0);
    to_fd(opened);
  }
  // Takes ownership of `other`.
  void to_fd(int other)
  {
    REQUIRE(::dup2(other, m_fd) == m_fd);
    ::close(other);
  }
  void to_closed() { ::close(m_fd); }

private:
  int m_fd;
  int m_saved = -1;
};

// Set by relay_to_bits, the signal handler a job wrapper would install.
std::atomic<std::uint64_t> g_caught_signals{0};
void relay_to_bits(int signal)
{
  g_caught_signals.fetch_or(std::uint64_t{1} << signal);
}

// Waits until `file` has content; for threads, where Catch2's REQUIRE must not be used.
bool wait_for_content(const fs::path& file)
{
  // Up to 30 s: on a loaded machine a shell can take seconds to get to its first commands.
  for (int i = 0; i < 3000; ++i) {
    if (!read_file(file).empty()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::size_t open_fd_count()
{
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

} // namespace

TEST_CASE("run_process")
{
  using namespace std::chrono_literals;

  SECTION("captures output and exit code 0")
  {
    ProcessSpec spec;
    spec.argv = {"/bin/echo", "hello", "world"};
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 0);
    CHECK(result.output == "hello world\n");
    CHECK_FALSE(result.truncated);
    CHECK(result.error.empty());
  }

  SECTION("reports non-zero exit codes")
  {
    CHECK(run_process(shell("exit 3")).exit_code == 3);
    CHECK(run_process(shell("exit 255")).exit_code == 255);
    CHECK(run_process(shell("exit 3")).end == End::exited);
  }

  SECTION("a huge timeout or grace period does not overflow")
  {
    ProcessSpec spec = shell("exit 5");
    spec.timeout = Duration::max();
    spec.kill_grace = Duration::max();
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 5);
  }

  SECTION("looks argv[0] up in PATH when it has no slash")
  {
    ProcessSpec spec;
    spec.argv = {"echo", "found"};
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.output == "found\n");
  }

  SECTION("merges stderr into output by default")
  {
    const ProcessResult result = run_process(shell("echo out; echo err >&2; echo out2"));
    CHECK(result.output == "out\nerr\nout2\n");
    CHECK(result.error_output.empty());
  }

  SECTION("separates stderr when asked")
  {
    ProcessSpec spec = shell("echo out; echo err >&2");
    spec.stderr_mode = ProcessSpec::Stderr::separate;
    const ProcessResult result = run_process(spec);
    CHECK(result.output == "out\n");
    CHECK(result.error_output == "err\n");
  }

  SECTION("keeps the head of output past the cap and still lets the child finish")
  {
    ProcessSpec spec = shell("head -c 10000000 /dev/zero; echo done >&2; exit 4");
    spec.output_cap = 1000;
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 4);
    CHECK(result.output == std::string(1000, '\0'));
    CHECK(result.truncated);
  }

  SECTION("a separate stderr has a cap of its own and never truncates the output")
  {
    ProcessSpec spec = shell("echo first >&2; head -c 20000000 /dev/zero >&2; echo '[]'");
    spec.stderr_mode = ProcessSpec::Stderr::separate;
    spec.output_cap = 1000;
    spec.error_output_cap = 6;
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 0);
    CHECK(result.output == "[]\n");
    CHECK_FALSE(result.truncated);
    CHECK(result.error_output == "first\n");
    CHECK(result.error_truncated);
  }

  SECTION("keeps the tail of output when asked")
  {
    ProcessSpec spec = shell("seq 1 200000");
    spec.output_cap = 14;
    spec.keep = ProcessSpec::Keep::tail;
    const ProcessResult result = run_process(spec);
    CHECK(result.exit_code == 0);
    CHECK(result.output == "199999\n200000\n");
    CHECK(result.truncated);
  }

  SECTION("output exactly at the cap is not truncated")
  {
    ProcessSpec spec = shell("printf 12345");
    spec.output_cap = 5;
    const ProcessResult result = run_process(spec);
    CHECK(result.output == "12345");
    CHECK_FALSE(result.truncated);
  }

  SECTION("timeout kills the whole process group, grandchildren included")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "grandchild.pid";
    ProcessSpec spec = shell("sleep 100 & echo $! > '" + pid_file.string() + "'; sleep 100");
    spec.timeout = 300ms;
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    // Far below the 100 s the group would run: the bound proves the kill, not a speed.
    CHECK(std::chrono::steady_clock::now() - started < 20s);
    CHECK(result.end == End::timed_out);
    CHECK(result.error == "timed out after 300ms");
    CHECK(result.elapsed >= 300ms);
    CHECK(stops_running_within(read_pid(pid_file), 10s));
  }

  SECTION("a group that ignores SIGTERM gets SIGKILL after the grace period")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "grandchild.pid";
    ProcessSpec spec =
        shell("trap '' TERM; sleep 100 & echo $! > '" + pid_file.string() + "'; sleep 100");
    spec.timeout = 200ms;
    spec.kill_grace = 300ms;
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= 500ms);
    CHECK(took < 20s); // the group would sleep 100 s
    CHECK(result.end == End::timed_out);
    CHECK(result.term_signal == SIGKILL);
    CHECK(stops_running_within(read_pid(pid_file), 10s));
  }

  SECTION("the cancel flag kills the process promptly")
  {
    std::atomic<bool> cancel{false};
    ProcessSpec spec;
    spec.argv = {"sleep", "30"};
    spec.cancel = &cancel;
    spec.timeout = Duration(0); // no timeout: only the flag can stop it
    std::thread canceller([&] {
      std::this_thread::sleep_for(200ms);
      cancel = true;
    });
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    canceller.join();
    CHECK(std::chrono::steady_clock::now() - started < 15s); // sleep 30 was not waited for
    CHECK(result.end == End::cancelled);
    CHECK(result.error == "cancelled");
  }

  SECTION("a failed spawn says why")
  {
    ProcessSpec spec;
    spec.argv = {"/nonexistent/hb-prog", "x"};
    ProcessResult result = run_process(spec);
    CHECK(result.end == End::spawn_failed);
    CHECK(result.error == "cannot run \"/nonexistent/hb-prog\": No such file or directory");

    spec.argv = {"hb-no-such-program-in-path"};
    result = run_process(spec);
    CHECK(result.end == End::spawn_failed);
    CHECK(result.error == "cannot run \"hb-no-such-program-in-path\": No such file or directory");

    ScratchDir dir;
    const fs::path script = dir.path() / "not-executable";
    std::ofstream(script) << "#!/bin/sh\necho hi\n";
    fs::permissions(script, fs::perms::owner_read | fs::perms::owner_write);
    spec.argv = {script.string()};
    result = run_process(spec);
    CHECK(result.end == End::spawn_failed);
    CHECK(result.error == "cannot run \"" + script.string() + "\": Permission denied");

    spec.argv = {};
    CHECK(run_process(spec).error == "cannot run an empty command");
  }

  SECTION("runs in working_dir")
  {
    ScratchDir dir;
    ProcessSpec spec;
    spec.argv = {"/bin/pwd", "-P"};
    spec.working_dir = dir.path().string();
    const ProcessResult result = run_process(spec);
    CHECK(result.output == dir.path().string() + "\n");

    spec.working_dir = (dir.path() / "missing").string();
    const ProcessResult missing = run_process(spec);
    CHECK(missing.end == End::spawn_failed);
    CHECK(missing.error ==
          "cannot use working directory \"" + spec.working_dir + "\": No such file or directory");
  }

  SECTION("adds and overrides environment variables, inheriting the rest")
  {
    ::setenv("HB_PROCESS_TEST_OLD", "old", 1);
    ::setenv("HB_PROCESS_TEST_KEPT", "kept", 1);
    ProcessSpec spec =
        shell("echo \"$HB_PROCESS_TEST_NEW|$HB_PROCESS_TEST_OLD|$HB_PROCESS_TEST_KEPT\"");
    spec.env = {{"HB_PROCESS_TEST_NEW", "a b"}, {"HB_PROCESS_TEST_OLD", "new"}};
    const ProcessResult result = run_process(spec);
    ::unsetenv("HB_PROCESS_TEST_OLD");
    ::unsetenv("HB_PROCESS_TEST_KEPT");
    CHECK(result.output == "a b|new|kept\n");
  }

  SECTION("feeds stdin_data, and /dev/null otherwise")
  {
    ProcessSpec spec;
    spec.argv = {"/bin/cat"};
    spec.stdin_data = "line one\nline two";
    CHECK(run_process(spec).output == "line one\nline two");

    spec.stdin_data = std::string(3'000'000, 'x');
    spec.output_cap = 4'000'000;
    const ProcessResult big = run_process(spec);
    CHECK(big.output.size() == 3'000'000);

    spec.stdin_data.clear();
    spec.timeout = 2s;
    const ProcessResult empty = run_process(spec);
    CHECK(empty.end == End::exited);
    CHECK(empty.output.empty());
  }

  SECTION("a child that closes stdin early does not hurt the caller")
  {
    ProcessSpec spec = shell("exec 0<&-; echo done");
    spec.stdin_data = std::string(5'000'000, 'x');
    ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    CHECK(result.output == "done\n");

    spec = ProcessSpec();
    spec.argv = {"head", "-c", "10"};
    spec.stdin_data = std::string(5'000'000, 'y');
    result = run_process(spec);
    CHECK(result.exit_code == 0);
    CHECK(result.output == std::string(10, 'y'));
  }

  SECTION("reports death by signal")
  {
    const ProcessResult result = run_process(shell("kill -9 $$"));
    CHECK(result.end == End::signaled);
    CHECK(result.term_signal == 9);
    CHECK(result.error == "killed by signal 9 (SIGKILL)");
  }

  SECTION("the child gets default signal dispositions and an empty mask")
  {
    // Ignored and blocked signals survive exec; a plugin must not inherit ours.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_action {};
    ::sigaction(SIGPIPE, &ignore, &old_action);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigset_t old_mask;
    ::pthread_sigmask(SIG_BLOCK, &term, &old_mask);

    const ProcessResult piped = run_process(shell("kill -PIPE $$; sleep 5"));
    const ProcessResult termed = run_process(shell("kill -TERM $$; sleep 5"));

    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigaction(SIGPIPE, &old_action, nullptr);
    CHECK(piped.end == End::signaled);
    CHECK(piped.term_signal == SIGPIPE);
    CHECK(termed.end == End::signaled);
    CHECK(termed.term_signal == SIGTERM);
  }

  SECTION("a background grandchild holding the pipe open does not hold us up, nor outlive us")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "background.pid";
    ProcessSpec spec = shell("sleep 30 & echo $! > '" + pid_file.string() + "'; echo started");
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    CHECK(std::chrono::steady_clock::now() - started < 15s); // sleep 30 was not waited for
    CHECK(result.end == End::exited);
    CHECK(result.output == "started\n");
    // Ended before run_process returned, not merely on its way out.
    CHECK_FALSE(is_running(read_pid(pid_file)));
  }

  SECTION("a background grandchild that let go of the pipe is ended too")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "background.pid";
    const ProcessResult result = run_process(shell(
        "sleep 30 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'; echo started"));
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 0);
    CHECK_FALSE(is_running(read_pid(pid_file)));
  }

  SECTION("a grandchild that ignores SIGTERM gets SIGKILL after the grace period")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "background.pid";
    ProcessSpec spec = shell("trap '' TERM; sleep 30 >/dev/null 2>&1 & echo $! > '" +
                             pid_file.string() + "'; echo started");
    spec.kill_grace = 300ms;
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= 300ms);
    CHECK(took < 15s); // the grandchild would sleep 30 s
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 0);
    CHECK(stops_running_within(read_pid(pid_file), 10s));
  }

  SECTION("a process alone in its group costs no grace period")
  {
    ProcessSpec spec = shell("echo alone");
    spec.kill_grace = 60s;
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult result = run_process(spec);
    CHECK(std::chrono::steady_clock::now() - started < 20s); // the grace was not waited out
    CHECK(result.output == "alone\n");
  }

  SECTION("Leftovers::leave lets a background grandchild run on")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "background.pid";
    ProcessSpec spec = shell("sleep 30 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'");
    spec.leftovers = ProcessSpec::Leftovers::leave;
    const ProcessResult result = run_process(spec);
    CHECK(result.end == End::exited);
    const pid_t background = read_pid(pid_file);
    std::this_thread::sleep_for(100ms);
    CHECK(is_running(background));
    ::kill(background, SIGKILL);
  }

  SECTION("a grandchild that started a session of its own is left alone")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "daemon.pid";
    const std::string file = "'" + pid_file.string() + "'";
    // Waits for the pid file, so that setsid() has happened before the shell exits.
    const ProcessResult result =
        run_process(shell("setsid sh -c 'echo $$ > \"$0\"; exec sleep 30' " + file +
                          " >/dev/null 2>&1 & while [ ! -s " + file + " ]; do sleep 0.01; done"));
    CHECK(result.end == End::exited);
    const pid_t daemon = read_pid(pid_file);
    CHECK(is_running(daemon));
    ::kill(daemon, SIGKILL);
  }

  SECTION("leaves no zombies and no open descriptors behind")
  {
    const std::size_t fds_before = open_fd_count();
    run_process(shell("echo x"));
    ProcessSpec timed = shell("sleep 10");
    timed.timeout = 50ms;
    run_process(timed);
    ProcessSpec failing;
    failing.argv = {"/nonexistent"};
    run_process(failing);
    ProcessSpec fed = shell("cat >/dev/null; echo x >&2");
    fed.stdin_data = "data";
    fed.stderr_mode = ProcessSpec::Stderr::separate;
    run_process(fed);
    ProcessSpec teed = shell("exit 0");
    teed.tee = true;
    teed.inherit_stdin = true;
    run_process(teed);
    CHECK(open_fd_count() == fds_before);
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
  }

  SECTION("concurrent runs from several threads keep their output apart")
  {
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([t, &wrong] {
        for (int i = 0; i < 20; ++i) {
          const std::string id = std::to_string(t) + "-" + std::to_string(i);
          ProcessSpec spec;
          spec.argv = {"/bin/echo", id};
          const ProcessResult result = run_process(spec);
          if (result.output != id + "\n" || result.elapsed > 2s) {
            ++wrong;
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    CHECK(wrong == 0);
  }

  SECTION("tee copies stdout to our fd 1 and stderr to our fd 2, and captures both in order")
  {
    ScratchDir dir;
    ProcessSpec spec = shell("echo out1; sleep 0.05; echo err1 >&2; sleep 0.05; echo out2; "
                             "sleep 0.05; printf err2 >&2; exit 3");
    spec.tee = true;
    spec.stderr_mode = ProcessSpec::Stderr::separate; // ignored with tee
    ProcessResult result;
    {
      StdFdSwap out(STDOUT_FILENO);
      StdFdSwap err(STDERR_FILENO);
      out.to_file(dir.path() / "out", O_WRONLY | O_CREAT | O_TRUNC);
      err.to_file(dir.path() / "err", O_WRONLY | O_CREAT | O_TRUNC);
      result = run_process(spec);
    }
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 3);
    CHECK(read_file(dir.path() / "out") == "out1\nout2\n");
    CHECK(read_file(dir.path() / "err") == "err1\nerr2");
    CHECK(result.output == "out1\nerr1\nout2\nerr2");
    CHECK(result.error_output.empty());
    CHECK_FALSE(result.truncated);
  }

  SECTION("tee copies everything but keeps only the tail when asked")
  {
    ScratchDir dir;
    ProcessSpec spec = shell("seq 1 20000; sleep 0.05; echo last >&2");
    spec.tee = true;
    spec.keep = ProcessSpec::Keep::tail;
    spec.output_cap = 11;
    ProcessResult result;
    {
      StdFdSwap out(STDOUT_FILENO);
      StdFdSwap err(STDERR_FILENO);
      out.to_file(dir.path() / "out", O_WRONLY | O_CREAT | O_TRUNC);
      err.to_file(dir.path() / "err", O_WRONLY | O_CREAT | O_TRUNC);
      result = run_process(spec);
    }
    CHECK(result.exit_code == 0);
    CHECK(result.output == "20000\nlast\n");
    CHECK(result.truncated);
    const std::string copied = read_file(dir.path() / "out");
    CHECK(copied.size() == 108'894); // all of seq 1 20000
    CHECK(copied.substr(0, 4) == "1\n2\n");
    CHECK(read_file(dir.path() / "err") == "last\n");
  }

  SECTION("tee into a pipe nobody reads stalls the child but not the timeout")
  {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    // Reads only after 8 seconds, so that copying with a plain blocking write would show up as
    // a late timeout rather than hang the test.
    std::size_t read_late = 0;
    std::thread late_reader([&] {
      std::this_thread::sleep_for(8s);
      std::vector<char> buffer(65536);
      ssize_t n = 0;
      while ((n = ::read(fds[0], buffer.data(), buffer.size())) > 0) {
        read_late += static_cast<std::size_t>(n);
      }
      ::close(fds[0]);
    });
    ProcessSpec spec = shell("head -c 1000000 /dev/zero; sleep 30");
    spec.tee = true;
    spec.timeout = 300ms;
    spec.kill_grace = 100ms;
    spec.output_cap = 2'000'000;
    ProcessResult result;
    {
      StdFdSwap out(STDOUT_FILENO);
      out.to_fd(fds[1]);
      result = run_process(spec);
    }
    late_reader.join();
    CHECK(result.end == End::timed_out);
    CHECK(result.elapsed < 5s); // not held up by the reader, which wakes after 8 s
    // The child was held back as if it wrote to that reader itself, and copying stopped once
    // the timeout was due.
    CHECK(read_late < 1'000'000);
    CHECK(result.output.size() < 1'000'000);
    CHECK(result.output.size() >= read_late);
  }

  SECTION("tee to a closed fd 1 still captures; a pipe without reader ends the child, not us")
  {
    ProcessSpec spec = shell("seq 1 100000 | tail -n 1; echo err >&2");
    spec.tee = true;
    ScratchDir dir;
    ProcessResult closed;
    {
      StdFdSwap out(STDOUT_FILENO);
      StdFdSwap err(STDERR_FILENO);
      out.to_closed();
      err.to_file(dir.path() / "err", O_WRONLY | O_CREAT | O_TRUNC);
      closed = run_process(spec);
    }
    CHECK(closed.end == End::exited);
    CHECK(closed.output == "100000\nerr\n");
    CHECK(read_file(dir.path() / "err") == "err\n");

    // Our reader is gone: the child learns it as it would writing there itself (`job | head`),
    // instead of running on forever into a pipe nobody reads.
    spec = ProcessSpec{};
    spec.argv = {"yes"};
    spec.tee = true;
    spec.timeout = 60s;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);
    ProcessResult broken;
    {
      StdFdSwap out(STDOUT_FILENO);
      out.to_fd(fds[1]);
      broken = run_process(spec);
    }
    CHECK(broken.end == End::signaled);
    CHECK(broken.term_signal == SIGPIPE);
    CHECK(broken.elapsed < 30s); // ended by SIGPIPE, not by the 60 s timeout
    CHECK(!broken.output.empty());
  }

  SECTION("inherit_stdin gives the child our stdin unless stdin_data is set")
  {
    ScratchDir dir;
    std::ofstream(dir.path() / "in") << "from our stdin\n";
    ProcessSpec spec;
    spec.argv = {"cat"};
    spec.inherit_stdin = true;
    ProcessResult inherited, fed, default_null;
    {
      StdFdSwap in(STDIN_FILENO);
      in.to_file(dir.path() / "in", O_RDONLY);
      inherited = run_process(spec);
      ::lseek(STDIN_FILENO, 0, SEEK_SET);
      spec.stdin_data = "given";
      fed = run_process(spec);
      spec.stdin_data.clear();
      spec.inherit_stdin = false;
      default_null = run_process(spec);
    }
    CHECK(inherited.output == "from our stdin\n");
    CHECK(fed.output == "given");
    CHECK(default_null.end == End::exited);
    CHECK(default_null.output.empty());
  }

  SECTION("relay_signals passes a signal on and lets the child decide how to end")
  {
    ScratchDir dir;
    const fs::path ready = dir.path() / "ready";
    std::atomic<std::uint64_t> relay{0};
    // The signal goes once the trap is set (a fixed delay lost that race on a loaded machine).
    ProcessSpec spec = shell("trap 'echo got-term; sleep 0.2; exit 7' TERM; echo 1 > '" +
                             ready.string() + "'; while :; do sleep 0.05; done");
    spec.relay_signals = &relay;
    spec.stderr_mode = ProcessSpec::Stderr::separate; // the shell's "Terminated" for its sleep
    spec.timeout = 60s;
    spec.kill_grace = 50ms; // a SIGKILL would come long before "exit 7"
    std::thread sender([&] {
      wait_for_content(ready);
      std::this_thread::sleep_for(200ms);
      relay.fetch_or(std::uint64_t{1} << SIGTERM);
    });
    const ProcessResult result = run_process(spec);
    sender.join();
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 7);
    CHECK(result.output == "got-term\n");
    CHECK(result.elapsed >= 400ms);
    CHECK(result.elapsed < 30s); // not by the timeout
    CHECK(relay.load() == 0);
  }

  SECTION("a relayed signal the child does not handle ends it as signaled")
  {
    std::atomic<std::uint64_t> relay{0};
    ProcessSpec spec;
    spec.argv = {"sleep", "30"};
    spec.relay_signals = &relay;
    spec.timeout = 60s; // only a failing run gets there
    std::thread sender([&] {
      std::this_thread::sleep_for(200ms);
      relay.fetch_or(std::uint64_t{1} << SIGTERM);
    });
    const ProcessResult result = run_process(spec);
    sender.join();
    CHECK(result.end == End::signaled);
    CHECK(result.term_signal == SIGTERM);
    CHECK(result.error == "killed by signal 15 (SIGTERM)");
    CHECK(result.elapsed < 30s);
    CHECK(relay.load() == 0);
  }

  SECTION("a relayed signal reaches grandchildren in the group")
  {
    ScratchDir dir;
    const fs::path pid_file = dir.path() / "grandchild.pid";
    const fs::path grandchild_ready = dir.path() / "grandchild.ready";
    const fs::path parent_ready = dir.path() / "parent.ready";
    std::atomic<std::uint64_t> relay{0};
    // Not SIGINT: a background job of a non-interactive shell ignores it and cannot trap it.
    // Each shell says when its trap is set; the signal goes once both have.
    ProcessSpec spec = shell("sh -c 'trap \"echo grandchild-usr1; exit 0\" USR1; echo 1 > \"$0\"; "
                             "while :; do sleep 0.05; done' '" + grandchild_ready.string() +
                             "' & echo $! > '" + pid_file.string() +
                             "'; trap 'wait; exit 4' USR1; echo 1 > '" + parent_ready.string() +
                             "'; wait");
    spec.relay_signals = &relay;
    spec.stderr_mode = ProcessSpec::Stderr::separate;
    std::thread sender([&] {
      if (wait_for_content(grandchild_ready) && wait_for_content(parent_ready)) {
        relay.fetch_or(std::uint64_t{1} << SIGUSR1);
      }
    });
    const ProcessResult result = run_process(spec);
    sender.join();
    CHECK(result.end == End::exited);
    CHECK(result.exit_code == 4);
    CHECK(result.output == "grandchild-usr1\n");
    CHECK(stops_running_within(read_pid(pid_file), 10s));
  }

  SECTION("a caught signal interrupts the wait and is relayed at once")
  {
    struct sigaction relay_action {};
    relay_action.sa_handler = relay_to_bits;
    ::sigemptyset(&relay_action.sa_mask);
    struct sigaction old_action {};
    ::sigaction(SIGUSR1, &relay_action, &old_action);
    g_caught_signals = 0;
    ScratchDir dir;
    const fs::path ready = dir.path() / "ready";
    ProcessSpec spec = shell("trap 'echo got-usr1; exit 9' USR1; echo 1 > '" + ready.string() +
                             "'; while :; do sleep 0.05; done");
    spec.relay_signals = &g_caught_signals;
    spec.stderr_mode = ProcessSpec::Stderr::separate;
    spec.timeout = 60s;
    std::thread sender([&] {
      wait_for_content(ready);
      ::kill(::getpid(), SIGUSR1);
    });
    const ProcessResult result = run_process(spec);
    sender.join();
    ::sigaction(SIGUSR1, &old_action, nullptr);
    CHECK(result.exit_code == 9);
    CHECK(result.output == "got-usr1\n");
    CHECK(result.elapsed < 30s); // relayed on arrival, not noticed at the timeout
    CHECK(g_caught_signals.load() == 0);
  }

  SECTION("measures elapsed time")
  {
    const ProcessResult result = run_process(shell("sleep 0.2"));
    CHECK(result.elapsed >= 200ms);
    CHECK(result.elapsed < 20s);
  }
}

TEST_CASE("tail_lines")
{
  using hb::util::tail_lines;

  SECTION("keeps the last lines, with the final newline")
  {
    CHECK(tail_lines("a\nb\nc\nd\n", 2, 100) == "c\nd\n");
    CHECK(tail_lines("a\nb\nc\nd", 2, 100) == "c\nd");
  }

  SECTION("returns everything when there are fewer lines")
  {
    CHECK(tail_lines("a\nb\n", 5, 100) == "a\nb\n");
    CHECK(tail_lines("single", 1, 100) == "single");
    CHECK(tail_lines("\n\nx", 3, 100) == "\n\nx");
  }

  SECTION("cuts at the start to max_bytes, never inside a UTF-8 character")
  {
    CHECK(tail_lines("0123456789", 1, 4) == "6789");
    CHECK(tail_lines("ab\xC3\xA9xy", 1, 4) == "\xC3\xA9xy");
    CHECK(tail_lines("ab\xC3\xA9xy", 1, 3) == "xy");
  }

  SECTION("zero limits and empty text give nothing")
  {
    CHECK(tail_lines("a\nb", 0, 100).empty());
    CHECK(tail_lines("a\nb", 2, 0).empty());
    CHECK(tail_lines("", 2, 10).empty());
  }
}

TEST_CASE("outcome_of")
{
  using hb::util::outcome_of;
  using Kind = hb::util::ProcessOutcome::Kind;
  ProcessResult r;

  SECTION("exit 0 succeeded, with how long it took")
  {
    r.end = ProcessResult::End::exited;
    r.exit_code = 0;
    r.elapsed = Duration(2'000);
    r.output = "all good\n";
    const auto o = outcome_of(r);
    CHECK(o.kind == Kind::succeeded);
    CHECK(o.exit_code == 0);
    CHECK(o.message == "exited 0 after 2s");
  }
  SECTION("a non-zero exit failed, with the last line of output")
  {
    r.end = ProcessResult::End::exited;
    r.exit_code = 3;
    r.output = "first\nupstream 503\r\n";
    const auto o = outcome_of(r);
    CHECK(o.kind == Kind::failed);
    CHECK(o.exit_code == 3);
    CHECK(o.message == "exited with code 3: upstream 503");
    r.output.clear();
    CHECK(outcome_of(r).message == "exited with code 3");
  }
  SECTION("killed by a signal: 128 + signal")
  {
    r.end = ProcessResult::End::signaled;
    r.term_signal = SIGKILL;
    r.error = "killed by signal 9 (SIGKILL)";
    const auto o = outcome_of(r);
    CHECK(o.kind == Kind::failed);
    CHECK(o.exit_code == 137);
    CHECK(o.message == "killed by signal 9 (SIGKILL)");
  }
  SECTION("a timeout is 124, as timeout(1)")
  {
    r.end = ProcessResult::End::timed_out;
    r.error = "timed out after 1s";
    r.output = "still copying\n";
    const auto o = outcome_of(r);
    CHECK(o.kind == Kind::timed_out);
    CHECK(o.exit_code == 124);
    CHECK(o.message == "timed out after 1s: still copying");
  }
  SECTION("cancelled: what SIGTERM gives")
  {
    r.end = ProcessResult::End::cancelled;
    r.error = "cancelled";
    const auto o = outcome_of(r);
    CHECK(o.kind == Kind::cancelled);
    CHECK(o.exit_code == 143);
  }
  SECTION("could not start: 127 not found, 126 otherwise, as a shell")
  {
    r.end = ProcessResult::End::spawn_failed;
    r.spawn_errno = ENOENT;
    r.error = "cannot run \"/nope\": no such file or directory";
    auto o = outcome_of(r);
    CHECK(o.kind == Kind::failed);
    CHECK(o.exit_code == 127);
    CHECK(o.message == r.error);
    r.spawn_errno = EACCES;
    CHECK(outcome_of(r).exit_code == 126);
    r.spawn_errno = 0;  // e.g. an empty command
    CHECK(outcome_of(r).exit_code == 126);
  }
  SECTION("a real run")
  {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "echo why >&2; exit 7"};
    const auto o = outcome_of(hb::util::run_process(spec));
    CHECK(o.exit_code == 7);
    CHECK(o.message == "exited with code 7: why");
  }
}

TEST_CASE("exit_code_for_signal")
{
  CHECK(hb::util::exit_code_for_signal(SIGINT) == 130);
  CHECK(hb::util::exit_code_for_signal(SIGTERM) == 143);
}

