// SPDX-License-Identifier: MIT
#pragma once

// What hb-beat does (SPEC §4.2): record a plain beat, or wrap a job, run it and record its start
// and end. The tool only parses flags and prints; the behaviour lives here so it can be tested.

#include "agents/beats.hpp"
#include "store/store.hpp"
#include "util/process.hpp"
#include "util/time.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hb::agents {

// Where hb-beat records. The caller supplies both because finding the database and the config
// is the tool's business (tools/common), and syncing a config into the store is the pulse's, a
// layer above this one.
struct Recorder {
  // Returns the store to record in. Throws hb::Error (or another exception) when it cannot.
  std::function<std::unique_ptr<store::Store>()> open_store;
  // Syncs the config into `store` at `now` when a config exists and declares `target_id` (a
  // target added since the last hb-pulse). Returns false when there is no config or it does not
  // declare the target; throws hb::ConfigError when the config is invalid. Empty: never syncs.
  std::function<bool(store::Store& store, const std::string& target_id, TimePoint now)> sync_target;
};

// A plain beat as given on the command line.
struct BeatRequest {
  std::string target;
  BeatStatus status = BeatStatus::healthy;
  std::string message;
  std::vector<std::string> metrics;  // "name=value" each, as given to --metric
  Create create = Create::no;
};

// A plain beat once recorded.
struct RecordedBeat {
  std::string target;
  TimePoint at;
  BeatStatus status = BeatStatus::healthy;
  BeatWrite write;  // the target's new state and the events of its transitions
};

// A job to wrap.
struct JobRequest {
  std::string target;
  std::vector<std::string> command;  // argv, run without a shell
  Duration timeout{0};               // <= 0: none
  Create create = Create::no;
  // Signals to pass on to the job (ProcessSpec::relay_signals), set by the caller's handlers.
  std::atomic<std::uint64_t>* relay_signals = nullptr;
};

// A wrapped job once it ended.
struct WrappedRun {
  int exit_code = 0;          // what hb-beat exits with: the job's own, as a shell reports it
  util::ProcessOutcome outcome;
  bool recorded = false;      // both its start and its end are in the database
  std::vector<Event> events;  // the transitions recording its end made
};

// Throws hb::UsageError naming `target` unless it is a valid target id.
void check_target_id(const std::string& target);

// Returns --timeout as a duration, 0 when `text` is empty. Throws hb::UsageError when malformed
// or not positive.
Duration parse_job_timeout(const std::string& text);

// Returns the beat `status`, `message` (capped) and `metrics` ("name=value" each) describe.
// Throws hb::UsageError, prefixed "--metric: ", for a malformed or repeated metric or more than 32.
BeatInput beat_input(BeatStatus status, const std::string& message,
                     const std::vector<std::string>& metrics);

// Returns the command line stored with a wrapped run: secrets hidden
// (util::mask_arguments, shown with util::shell_quote), at most 1 KiB.
std::string stored_command_line(const std::vector<std::string>& argv);

// Returns how a run that ended as `outcome` is recorded, with the last lines of `output`.
RunEnd run_end(const util::ProcessOutcome& outcome, const std::string& output);

// Records the plain beat `request` at `clock`'s now in the store `recorder` opens, syncing a
// target new in the config first. Throws hb::UsageError for bad input, UnknownTarget /
// hb::DataError as record_beat does, and whatever opening the store or the config throws.
RecordedBeat record_plain_beat(const BeatRequest& request, const Recorder& recorder,
                               const util::Clock& clock);

// Runs the job `request` (output passed through, signals relayed) and records its start and end
// in the store `recorder` opens. Recording never stands between the caller and the job: a
// failure to record is logged on stderr and the job runs all the same. Returns how it ended.
// Throws hb::UsageError when there is no command.
WrappedRun run_wrapped(const JobRequest& request, const Recorder& recorder,
                       const util::Clock& clock);

// Runs the job `request` without recording anything (heartbeat switched off). Returns how it
// ended. Throws hb::UsageError when there is no command.
WrappedRun run_unrecorded(const JobRequest& request);

} // namespace hb::agents
