// SPDX-License-Identifier: MIT
#include "util/process.hpp"

#include "util/duration.hpp"
#include "util/http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace hb::util {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How often the cancel flag and the deadline are looked at while the child is quiet.
constexpr Duration k_poll_interval{20};
// After a normal exit, how long output still arriving from a background grandchild that holds
// the pipe open is collected before we stop listening.
constexpr Duration k_drain_after_exit{100};
constexpr std::size_t k_read_chunk = 64 * 1024;
// Longer timeouts are treated as this, so adding them to a nanosecond clock cannot overflow.
constexpr Duration k_longest_wait = std::chrono::hours(24 * 365 * 10);

class Fd {
public:
  Fd() = default;
  explicit Fd(int fd)
      : m_fd(fd)
  {
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept
      : m_fd(std::exchange(other.m_fd, -1))
  {
  }
  Fd& operator=(Fd&& other) noexcept
  {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return m_fd; }
  bool is_open() const { return m_fd >= 0; }
  void reset()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  int m_fd = -1;
};

std::string errno_text(int err)
{
  return std::system_category().message(err);
}

// Moves `fd` to a number above 2. A pipe end that landed on 0-2 (because the caller closed its
// own stdio) would otherwise be overwritten by the child's dup2 onto 0-2 before it is used.
bool lift_above_stdio(Fd& fd)
{
  if (fd.get() > 2) {
    return true;
  }
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) {
    return false;
  }
  fd = Fd(moved);
  return true;
}

// Creates a close-on-exec pipe whose ends are both above the standard descriptors. Returns the
// errno on failure, 0 on success.
int make_pipe(Fd& read_end, Fd& write_end)
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return errno;
  }
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  if (!lift_above_stdio(read_end) || !lift_above_stdio(write_end)) {
    return errno;
  }
  return 0;
}

class SpawnActions {
public:
  SpawnActions() { ::posix_spawn_file_actions_init(&m_actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&m_actions); }
  posix_spawn_file_actions_t* get() { return &m_actions; }

private:
  posix_spawn_file_actions_t m_actions;
};

class SpawnAttributes {
public:
  SpawnAttributes() { ::posix_spawnattr_init(&m_attr); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  ~SpawnAttributes() { ::posix_spawnattr_destroy(&m_attr); }
  posix_spawnattr_t* get() { return &m_attr; }

private:
  posix_spawnattr_t m_attr;
};

// Output kept within the cap: the head or the tail, the rest counted as truncated.
class Capture {
public:
  Capture(std::size_t cap, ProcessSpec::Keep keep)
      : m_cap(cap)
      , m_keep(keep)
  {
  }

  void append(const char* data, std::size_t size)
  {
    if (m_keep == ProcessSpec::Keep::head) {
      const std::size_t room = m_cap - std::min(m_cap, m_text.size());
      const std::size_t taken = std::min(room, size);
      m_text.append(data, taken);
      m_truncated = m_truncated || taken < size;
      return;
    }
    m_text.append(data, size);
    if (m_text.size() > m_cap) {
      m_truncated = true;
      // Erase in batches so a chatty child does not make this quadratic.
      if (m_text.size() > 2 * m_cap + k_read_chunk) {
        m_text.erase(0, m_text.size() - m_cap);
      }
    }
  }

  std::string take()
  {
    if (m_text.size() > m_cap) {
      m_text.erase(0, m_text.size() - m_cap);
    }
    return std::move(m_text);
  }
  bool truncated() const { return m_truncated; }

private:
  std::size_t m_cap;
  ProcessSpec::Keep m_keep;
  std::string m_text;
  bool m_truncated = false;
};

// write(2) that cannot raise SIGPIPE in this process when the child closed its stdin early: the
// signal is blocked for this thread during the write and a SIGPIPE it generated is consumed.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size)
{
  sigset_t pipe_set;
  ::sigemptyset(&pipe_set);
  ::sigaddset(&pipe_set, SIGPIPE);
  sigset_t old_mask;
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  sigset_t pending;
  ::sigemptyset(&pending);
  ::sigpending(&pending);
  const bool was_pending = ::sigismember(&pending, SIGPIPE) == 1;

  const ssize_t written = ::write(fd, data, size);
  const int err = errno;
  if (written < 0 && err == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = err;
  return written;
}

// One of our own descriptors that a tee'd stream of the child is copied to.
struct TeeTarget {
  int fd = -1;
  bool active = false;  // false once a write failed (or never started)
  bool regular = false; // a regular file never makes a writer wait for a reader
  bool broken_pipe = false; // our reader went away: the child should learn it as it would directly
};

TeeTarget tee_target(int fd)
{
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return TeeTarget{};
  }
  return TeeTarget{fd, true, S_ISREG(info.st_mode)};
}

// Writes all of `data` to `target` unless a write fails or `keep_waiting()` returns false; either
// way the target is then inactive and the rest is dropped. A pipe, socket or terminal is written
// only once poll says it has room, at most PIPE_BUF bytes at a time (which then fits), so a
// reader that stalls makes us wait here in slices, calling `keep_waiting` in between, and never
// inside write(2) where the timeout and relayed signals could not be looked at.
template <typename KeepWaiting>
void forward(TeeTarget& target, const char* data, std::size_t size, KeepWaiting& keep_waiting)
{
  std::size_t done = 0;
  while (target.active && done < size) {
    if (!target.regular) {
      pollfd room{target.fd, POLLOUT, 0};
      timespec slice{};
      slice.tv_nsec = static_cast<long>(k_poll_interval.count()) * 1'000'000;
      const int ready = ::ppoll(&room, 1, &slice, nullptr);
      if (ready < 0 && errno != EINTR) {
        target.active = false;
        break;
      }
      if (ready <= 0) {
        target.active = keep_waiting();
        continue;
      }
    }
    const std::size_t piece =
        target.regular ? size - done : std::min<std::size_t>(size - done, PIPE_BUF);
    const ssize_t n = write_without_sigpipe(target.fd, data + done, piece);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      target.active = keep_waiting();
    } else {
      target.broken_pipe = n < 0 && errno == EPIPE;
      target.active = false; // EPIPE, EBADF, ENOSPC...: stop copying, keep capturing
    }
  }
}

// Returns true once the child has terminated, without reaping it: an unreaped leader keeps the
// process group id ours, so killing the group afterwards cannot hit a recycled pid.
bool leader_has_exited(pid_t pid)
{
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    // ECHILD: someone else reaped it (SIGCHLD ignored); nothing is left to wait for.
    return errno != EINTR;
  }
  return info.si_pid == pid;
}

// Waits up to `grace` for the rest of process group `group` to end after it was sent SIGTERM
// and its leader was reaped, then sends SIGKILL to what is left; ends the wait early (and kills)
// when `cancel` becomes true. Safe after the reaping: Linux keeps a pid number allocated while a
// process group of that id has members, so kill(-group) reaches only that group, and an empty
// group answers ESRCH at once. (A recycled number would need the whole pid space to wrap around
// between two polls, 20 ms apart at most.) A member that changed its uid (EPERM) is not ours to
// end.
void end_leftovers(pid_t group, Duration grace, const std::atomic<bool>* cancel)
{
  const auto until = SteadyClock::now() + grace;
  auto pause = std::chrono::microseconds(200);
  while (::kill(-group, 0) == 0) {
    if (SteadyClock::now() >= until || (cancel != nullptr && cancel->load())) {
      ::kill(-group, SIGKILL);
      return;
    }
    timespec slice{};
    slice.tv_nsec = static_cast<long>(pause.count()) * 1000;
    ::nanosleep(&slice, nullptr);
    pause = std::min<std::chrono::microseconds>(pause * 2, k_poll_interval);
  }
}

Fd open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
  return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  return Fd();
#endif
}

std::vector<std::string> build_environment(const std::map<std::string, std::string>& overrides)
{
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (overrides.count(name) == 0) {
      out.emplace_back(text);
    }
  }
  for (const auto& [name, value] : overrides) {
    out.push_back(name + "=" + value);
  }
  return out;
}

Duration until(SteadyClock::time_point then, SteadyClock::time_point now)
{
  return std::max(Duration(0), std::chrono::ceil<Duration>(then - now));
}

} // namespace

ProcessResult run_process(const ProcessSpec& spec)
{
  const auto started = SteadyClock::now();
  ProcessResult result;
  const auto finish = [&]() -> ProcessResult {
    result.elapsed = std::chrono::duration_cast<Duration>(SteadyClock::now() - started);
    return std::move(result);
  };
  const auto fail = [&](std::string message) {
    result.end = ProcessResult::End::spawn_failed;
    result.error = std::move(message);
    return finish();
  };

  if (spec.argv.empty() || spec.argv[0].empty()) {
    return fail("cannot run an empty command");
  }
  if (!spec.working_dir.empty() && ::access(spec.working_dir.c_str(), X_OK) != 0) {
    return fail(fmt::format("cannot use working directory \"{}\": {}", spec.working_dir,
                            errno_text(errno)));
  }

  const bool tee = spec.tee;
  const bool separate = !tee && spec.stderr_mode == ProcessSpec::Stderr::separate;
  const bool split = tee || separate; // stderr on a pipe of its own
  const bool feed_stdin = !spec.stdin_data.empty();
  // Looked at before our pipes are made: one could briefly occupy a closed fd 1 or 2.
  TeeTarget out_target = tee ? tee_target(STDOUT_FILENO) : TeeTarget{};
  TeeTarget err_target = tee ? tee_target(STDERR_FILENO) : TeeTarget{};
  Fd out_read, out_write, err_read, err_write, in_read, in_write;
  int pipe_error = make_pipe(out_read, out_write);
  if (pipe_error == 0 && split) {
    pipe_error = make_pipe(err_read, err_write);
  }
  if (pipe_error == 0 && feed_stdin) {
    pipe_error = make_pipe(in_read, in_write);
  }
  if (pipe_error != 0) {
    return fail(fmt::format("cannot run \"{}\": cannot create a pipe: {}", spec.argv[0],
                            errno_text(pipe_error)));
  }

  SpawnActions actions;
  if (feed_stdin) {
    ::posix_spawn_file_actions_adddup2(actions.get(), in_read.get(), STDIN_FILENO);
  } else if (!spec.inherit_stdin) {
    ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  ::posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), split ? err_write.get() : out_write.get(),
                                     STDERR_FILENO);
  if (!spec.working_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), spec.working_dir.c_str());
  }

  // A new process group so the whole tree can be killed; default dispositions and an empty mask
  // because ignored or blocked signals (SIGPIPE in particular) survive exec and break children.
  SpawnAttributes attributes;
  ::posix_spawnattr_setflags(
      attributes.get(),
      static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
  ::posix_spawnattr_setpgroup(attributes.get(), 0);
  sigset_t all_signals;
  ::sigfillset(&all_signals);
  ::posix_spawnattr_setsigdefault(attributes.get(), &all_signals);
  sigset_t no_signals;
  ::sigemptyset(&no_signals);
  ::posix_spawnattr_setsigmask(attributes.get(), &no_signals);

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& arg : spec.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  std::vector<char*> envp;
  char** env = environ;
  if (!spec.env.empty()) {
    env_storage = build_environment(spec.env);
    for (auto& entry : env_storage) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    env = envp.data();
  }

  pid_t pid = -1;
  const bool search_path = spec.argv[0].find('/') == std::string::npos;
  const int spawn_error =
      search_path ? ::posix_spawnp(&pid, argv[0], actions.get(), attributes.get(), argv.data(), env)
                  : ::posix_spawn(&pid, argv[0], actions.get(), attributes.get(), argv.data(), env);
  if (spawn_error != 0) {
    result.spawn_errno = spawn_error;
    return fail(fmt::format("cannot run \"{}\": {}", spec.argv[0], errno_text(spawn_error)));
  }

  // Our copies of the child's ends must go, or we would never see end-of-file.
  out_write.reset();
  err_write.reset();
  in_read.reset();
  if (in_write.is_open()) {
    ::fcntl(in_write.get(), F_SETFL, ::fcntl(in_write.get(), F_GETFL) | O_NONBLOCK);
  }
  Fd pidfd = open_pidfd(pid);

  Capture out_capture(spec.output_cap, spec.keep);
  Capture err_capture(spec.error_output_cap > 0 ? spec.error_output_cap : spec.output_cap,
                      spec.keep);
  std::vector<char> buffer(k_read_chunk);
  std::size_t stdin_written = 0;

  enum class Stop { none, timed_out, cancelled };
  Stop stop = Stop::none;
  bool leader_exited = false;
  bool killed = false;
  const bool has_timeout = spec.timeout > Duration(0);
  const auto deadline = started + std::min(spec.timeout, k_longest_wait);
  const Duration kill_grace = std::min(spec.kill_grace, k_longest_wait);
  SteadyClock::time_point kill_at{};
  SteadyClock::time_point stop_listening_at{};
  // Without a pidfd the exit cannot be waited for once the pipes are closed: back off from a
  // short sleep so a quick exit is noticed quickly.
  auto idle_wait = std::chrono::microseconds(200);

  // Sends the signals the caller's handlers noted to the whole group. Only while the leader has
  // not ended: afterwards they are the caller's to handle.
  const auto relay_pending = [&] {
    if (spec.relay_signals == nullptr || spec.relay_signals->load() == 0) {
      return;
    }
    const std::uint64_t pending = spec.relay_signals->exchange(0);
    for (int signal = 1; signal < 64; ++signal) {
      if ((pending & (std::uint64_t{1} << signal)) != 0) {
        ::kill(-pid, signal);
      }
    }
  };
  // Called while copying to a reader that stalls; false once the timeout or cancellation is due,
  // so the loop below can start killing instead of waiting for that reader.
  const auto keep_waiting = [&] {
    if (!leader_exited && !leader_has_exited(pid)) {
      relay_pending();
    }
    return stop == Stop::none && (spec.cancel == nullptr || !spec.cancel->load()) &&
           !(has_timeout && SteadyClock::now() >= deadline);
  };

  while (true) {
    auto now = SteadyClock::now();
    if (!leader_exited && leader_has_exited(pid)) {
      leader_exited = true;
      stop_listening_at = now + (stop == Stop::none ? k_drain_after_exit : Duration(0));
    }
    if (!leader_exited) {
      relay_pending();
    }
    if (leader_exited &&
        ((!out_read.is_open() && !err_read.is_open()) || now >= stop_listening_at)) {
      break;
    }
    if (!leader_exited) {
      if (stop == Stop::none) {
        if (spec.cancel != nullptr && spec.cancel->load()) {
          stop = Stop::cancelled;
        } else if (has_timeout && now >= deadline) {
          stop = Stop::timed_out;
        }
        if (stop != Stop::none) {
          ::kill(-pid, SIGTERM);
          kill_at = now + kill_grace;
        }
      }
      if (stop != Stop::none && !killed && now >= kill_at) {
        ::kill(-pid, SIGKILL);
        killed = true;
      }
    }

    Duration wait = k_poll_interval;
    if (leader_exited) {
      wait = std::min(wait, until(stop_listening_at, now));
    } else if (stop == Stop::none && has_timeout) {
      wait = std::min(wait, until(deadline, now));
    } else if (stop != Stop::none && !killed) {
      wait = std::min(wait, until(kill_at, now));
    }

    pollfd fds[4];
    nfds_t count = 0;
    int out_index = -1, err_index = -1, in_index = -1;
    if (out_read.is_open()) {
      out_index = static_cast<int>(count);
      fds[count++] = pollfd{out_read.get(), POLLIN, 0};
    }
    if (err_read.is_open()) {
      err_index = static_cast<int>(count);
      fds[count++] = pollfd{err_read.get(), POLLIN, 0};
    }
    if (in_write.is_open()) {
      in_index = static_cast<int>(count);
      fds[count++] = pollfd{in_write.get(), POLLOUT, 0};
    }
    if (pidfd.is_open() && !leader_exited) {
      fds[count++] = pollfd{pidfd.get(), POLLIN, 0};
    }
    timespec wait_spec{};
    if (count == 0 && !leader_exited) {
      const auto short_wait = std::min<std::chrono::microseconds>(idle_wait, wait);
      wait_spec.tv_nsec = static_cast<long>(short_wait.count()) * 1000;
      idle_wait = std::min<std::chrono::microseconds>(idle_wait * 2, k_poll_interval);
    } else {
      wait_spec.tv_sec = static_cast<time_t>(wait.count() / 1000);
      wait_spec.tv_nsec = static_cast<long>(wait.count() % 1000) * 1'000'000;
    }
    const int ready = ::ppoll(count == 0 ? nullptr : fds, count, &wait_spec, nullptr);
    if (ready <= 0) {
      continue; // timeout, or EINTR: re-check everything
    }

    const auto drain = [&](int index, Fd& fd, Capture& capture, TeeTarget& target) {
      if (index < 0 || (fds[index].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) == 0) {
        return;
      }
      const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n > 0) {
        capture.append(buffer.data(), static_cast<std::size_t>(n));
        if (target.active) {
          const auto copy_started = SteadyClock::now();
          forward(target, buffer.data(), static_cast<std::size_t>(n), keep_waiting);
          // Time spent waiting for our reader does not count against the drain after exit,
          // or a slow reader would cost us what the child wrote last.
          if (leader_exited && stop == Stop::none) {
            stop_listening_at += SteadyClock::now() - copy_started;
          }
          if (target.broken_pipe) {
            // `job | head -1` must end the job: closing our end gives it SIGPIPE (or EPIPE) on
            // its next write, as if it wrote to the closed pipe itself.
            fd.reset();
            return;
          }
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    };
    drain(out_index, out_read, out_capture, out_target);
    drain(err_index, err_read, tee ? out_capture : err_capture, err_target);

    if (in_index >= 0 && (fds[in_index].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) != 0) {
      const ssize_t n =
          write_without_sigpipe(in_write.get(), spec.stdin_data.data() + stdin_written,
                                spec.stdin_data.size() - stdin_written);
      if (n > 0) {
        stdin_written += static_cast<std::size_t>(n);
        if (stdin_written == spec.stdin_data.size()) {
          in_write.reset(); // end-of-file for the child
        }
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        in_write.reset(); // EPIPE: the child does not want the rest
      }
    }
  }

  in_write.reset();
  out_read.reset();
  err_read.reset();
  const bool end_rest = stop == Stop::none && spec.leftovers == ProcessSpec::Leftovers::end;
  if (stop != Stop::none) {
    // Grandchildren that ignored SIGTERM; the unreaped leader keeps the group id from reuse.
    ::kill(-pid, SIGKILL);
  } else if (end_rest) {
    // A background grandchild (`sleep 300 &`) must not outlive the run. Sent while the leader
    // is unreaped, for the same reason; a group with nobody else in it is not bothered.
    ::kill(-pid, SIGTERM);
  }

  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = ::waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (end_rest) {
    end_leftovers(pid, kill_grace, spec.cancel);
  }

  result.output = out_capture.take();
  result.error_output = err_capture.take();
  result.truncated = out_capture.truncated();
  result.error_truncated = err_capture.truncated();
  if (reaped == pid && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (reaped == pid && WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }

  if (stop == Stop::timed_out) {
    result.end = ProcessResult::End::timed_out;
    result.error = fmt::format("timed out after {}", format_duration(spec.timeout));
  } else if (stop == Stop::cancelled) {
    result.end = ProcessResult::End::cancelled;
    result.error = "cancelled";
  } else if (reaped != pid) {
    // Only possible when the caller set SIGCHLD to SIG_IGN and the kernel reaped the child.
    result.end = ProcessResult::End::exited;
    result.error =
        fmt::format("cannot learn how \"{}\" ended: {}", spec.argv[0], errno_text(errno));
  } else if (WIFSIGNALED(status)) {
    result.end = ProcessResult::End::signaled;
    const std::string name = signal_name(result.term_signal);
    result.error = name.rfind("SIG", 0) == 0
                       ? fmt::format("killed by signal {} ({})", result.term_signal, name)
                       : fmt::format("killed by signal {}", result.term_signal);
  } else {
    result.end = ProcessResult::End::exited;
  }
  return finish();
}

std::string tail_lines(const std::string& text, std::size_t max_lines, std::size_t max_bytes)
{
  if (max_lines == 0 || max_bytes == 0 || text.empty()) {
    return {};
  }
  // A final newline ends the last line rather than starting an empty one.
  std::size_t pos = text.back() == '\n' ? text.size() - 1 : text.size();
  std::size_t start = 0;
  std::size_t newlines = 0;
  while (pos > 0) {
    const std::size_t newline = text.rfind('\n', pos - 1);
    if (newline == std::string::npos) {
      break;
    }
    if (++newlines == max_lines) {
      start = newline + 1;
      break;
    }
    pos = newline;
  }
  if (text.size() - start > max_bytes) {
    start = text.size() - max_bytes;
    // Do not begin in the middle of a UTF-8 sequence.
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
      ++start;
    }
  }
  return text.substr(start);
}

ProcessOutcome outcome_of(const ProcessResult& result)
{
  using End = ProcessResult::End;
  ProcessOutcome out;
  switch (result.end) {
  case End::exited:
    out.exit_code = result.exit_code;
    if (result.exit_code == 0) {
      out.kind = ProcessOutcome::Kind::succeeded;
      out.message = fmt::format("exited 0 after {}", format_duration(result.elapsed));
      return out;
    }
    out.kind = ProcessOutcome::Kind::failed;
    out.message = fmt::format("exited with code {}", result.exit_code);
    break;
  case End::signaled:
    out.kind = ProcessOutcome::Kind::failed;
    out.exit_code = exit_code_for_signal(result.term_signal);
    out.message = result.error;
    break;
  case End::timed_out:
    out.kind = ProcessOutcome::Kind::timed_out;
    out.exit_code = k_exit_timed_out;
    out.message = result.error;
    break;
  case End::cancelled:
    // The group got SIGTERM from us: report what a shell would have seen.
    out.kind = ProcessOutcome::Kind::cancelled;
    out.exit_code = exit_code_for_signal(SIGTERM);
    out.message = result.error;
    break;
  case End::spawn_failed:
    // As a shell does: 127 when there is no such program, 126 when it cannot be executed.
    out.kind = ProcessOutcome::Kind::failed;
    out.exit_code = result.spawn_errno == ENOENT ? k_exit_not_found : k_exit_cannot_execute;
    out.message = result.error;
    break;
  }
  // The last line a failing job printed is usually the reason it failed.
  // Carriage returns (progress bars) would garble the line wherever it is shown.
  std::string last_line;
  for (char c : tail_lines(result.output, 1, 200)) {
    if (c != '\n' && c != '\r') {
      last_line += c;
    }
  }
  if (!last_line.empty()) {
    out.message += out.message.empty() ? last_line : ": " + last_line;
  }
  return out;
}

std::string signal_name(int signal)
{
  const char* name = ::sigabbrev_np(signal);
  return name == nullptr ? fmt::format("signal {}", signal) : fmt::format("SIG{}", name);
}

std::string run_owner()
{
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) {
    std::strcpy(host, "localhost");
  }
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, ::getpid(), random());
}

} // namespace hb::util
