// SPDX-License-Identifier: MIT
#pragma once

#include "util/chrono.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hb::util {

// The one place that spawns processes. Never runs a shell: argv[0] is executed directly (looked
// up in PATH when it contains no '/'). The child gets its own process group, stdin from
// /dev/null (or `stdin_data`, or ours), and stdout+stderr captured (into one buffer unless
// separated), optionally also copied to our own stdout and stderr (`tee`).
struct ProcessSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;    // added to (or overriding) the inherited environment
  std::string working_dir;                   // empty: inherit
  Duration timeout{10'000};                  // <= 0: no timeout
  std::size_t output_cap = 64 * 1024;        // bytes kept; the rest is read and discarded
  Duration kill_grace{2'000};                // SIGTERM to the group, then SIGKILL after this
  const std::atomic<bool>* cancel = nullptr; // when it becomes true the group is killed
  enum class Stderr { merge, separate };
  Stderr stderr_mode = Stderr::merge; // separate: stderr goes to ProcessResult::error_output
  std::string stdin_data;             // written to the child's stdin (else /dev/null)
  // Which part of an output longer than output_cap is kept: the start (a plugin's summary line)
  // or the end (the tail of a job's log, where the error usually is).
  enum class Keep { head, tail };
  Keep keep = Keep::head;
  // Stderr::separate only: bytes of stderr kept (0: output_cap), with `keep` as for stdout. The
  // rest is still read and discarded, so a child may write as much as it likes to stderr; going
  // over sets ProcessResult::error_truncated, not `truncated`.
  std::size_t error_output_cap = 0;

  // For a job wrapper that stays transparent. The child's stdout is copied to our fd 1 and its
  // stderr to our fd 2 as it arrives, and both are also captured together into
  // ProcessResult::output in the order they arrive (output_cap and keep apply; chunks written to
  // both streams within microseconds of each other may swap). `stderr_mode` is ignored and
  // error_output stays empty. A stream whose copy fails (closed fd, EPIPE, ...) is no longer
  // copied but is still captured; SIGPIPE never reaches us. A reader that stalls slows the child
  // down (as if it wrote to that reader directly) but never stops the timeout, the cancel flag or
  // `relay_signals`: once the timeout or cancellation is due, copying to a stalled reader stops.
  bool tee = false;
  // The child reads our stdin instead of /dev/null; a non-empty `stdin_data` takes precedence.
  // The child runs in its own process group, so reading a terminal would stop it (SIGTTIN).
  bool inherit_stdin = false;
  // Signals to pass on: bit n stands for signal n (1 <= n < 64), set by the caller's signal
  // handlers with `relay_signals->fetch_or(1ull << n)`. While the child runs, pending bits are
  // taken (and cleared) and each signal is sent to the child's whole process group; the child
  // decides what happens next: the run goes on until it ends or times out, a relayed signal
  // starts no SIGTERM/SIGKILL sequence of its own. A signal delivered to the thread in run_process
  // interrupts its wait and is passed on at once; otherwise (another thread got it, or a narrow
  // race) within the internal poll interval of 20 ms. Bits set after the child ended are left
  // alone.
  std::atomic<std::uint64_t>* relay_signals = nullptr;
  // What becomes of the rest of the process group once the child itself has ended (exited or
  // killed by a signal, within its timeout): `end` sends the group SIGTERM, then SIGKILL after
  // `kill_grace` if any of it is still there, so a plugin's background grandchild (`sleep 300 &`)
  // never outlives its check or task; `leave` lets it run on, for a job wrapper whose job may
  // start something meant to outlive it. A process that left the group (setsid, setpgid) is
  // never touched. After a timeout or cancellation the group is always ended.
  enum class Leftovers { end, leave };
  Leftovers leftovers = Leftovers::end;
};

struct ProcessResult {
  enum class End {
    exited,       // exit_code is valid
    signaled,     // term_signal is valid
    timed_out,    // killed after `timeout`
    cancelled,    // killed because `cancel` became true
    spawn_failed, // error says why (e.g. "no such file or directory")
  };
  End end = End::spawn_failed;
  int exit_code = -1;
  int term_signal = 0;
  std::string output;       // at most output_cap bytes
  bool truncated = false;   // output exceeded output_cap
  std::string error_output; // stderr when Stderr::separate (at most error_output_cap bytes)
  bool error_truncated = false; // error_output exceeded its cap
  int spawn_errno = 0;      // spawn_failed: why exec failed (ENOENT, EACCES, ...), when it did
  Duration elapsed{0};
  std::string error;
};

// Runs the process to completion, timeout or cancellation; never throws for process failures.
// On timeout or cancellation the whole process group gets SIGTERM, then SIGKILL after
// `kill_grace`, so grandchildren do not outlive it; after a normal end, `leftovers` decides. Once
// the child has ended, output still arriving from a grandchild that holds the pipe open is
// collected for a short drain window (100 ms), never until the grandchild ends. A child ended by
// a relayed signal gives End::signaled.
ProcessResult run_process(const ProcessSpec& spec);

// Exit codes as a shell reports them for a command that did not end by exiting: timeout(1)'s
// 124, and 126 (cannot be executed) / 127 (not found) for one that could not be started.
constexpr int k_exit_timed_out = 124;
constexpr int k_exit_cannot_execute = 126;
constexpr int k_exit_not_found = 127;

// Returns the exit code a shell reports for a process ended by `signal`: 128 + signal (130 for
// SIGINT, 143 for SIGTERM). The one place that computes it; safe in a signal handler.
constexpr int exit_code_for_signal(int signal) { return 128 + signal; }

// How a run ended, in the terms every caller records: the job wrapper (hb-beat) and scheduled
// tasks judge a ProcessResult the same way and say it in the same words.
struct ProcessOutcome {
  enum class Kind {
    succeeded, // exited 0
    failed,    // exited non-zero, killed by a signal, or could not be started
    timed_out, // killed after its timeout
    cancelled, // killed because its cancel flag was set
  };
  Kind kind = Kind::failed;
  // As a shell reports it: the process's own exit code, 128 + signal when a signal ended it, 124
  // for a timeout, 143 (SIGTERM) when cancelled, 127 when the program was not found, 126 when it
  // could not be started otherwise.
  int exit_code = k_exit_cannot_execute;
  // One line for people: "exited 0 after 2s", "exited with code 3", "killed by signal 9
  // (SIGKILL)", "timed out after 5m", "cancelled" or why it could not start; unless it
  // succeeded, followed by ": " and the last line of its output when it printed any.
  std::string message;
};

// Returns how `result` ended (kind, exit code and message as above). Never throws.
ProcessOutcome outcome_of(const ProcessResult& result);

// "SIGTERM", "SIGKILL", ... for a signal number ("signal 64" when it has no name).
std::string signal_name(int signal);

// The last `max_lines` lines of `text`, at most `max_bytes` bytes (cut at the start).
std::string tail_lines(const std::string& text, std::size_t max_lines, std::size_t max_bytes);

// A name for this run of this process, unique across hosts and restarts: "host:pid:random". The
// owner of the claims and leases it takes.
std::string run_owner();

} // namespace hb::util
