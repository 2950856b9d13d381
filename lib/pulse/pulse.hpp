// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"
#include "delivery/deliver.hpp"
#include "pulse/due.hpp"
#include "pulse/tasks.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hb::pulse {

enum class DryRun { no, yes };
enum class RunTasks { no, yes };
enum class Deliver { no, yes };

struct PulseOptions {
  Force force = Force::no;
  DryRun dry_run = DryRun::no;
  RunTasks tasks = RunTasks::yes;         // --no-tasks; --target/--tag also leave tasks alone
  std::vector<std::string> only_targets;  // --target (empty: all)
  std::vector<std::string> tags;          // --tag (a target matches when it has any of them)
  // Set (to the signal number) by the tool's SIGTERM/SIGINT handler; running checks are cut off.
  const std::atomic<int>* stop_signal = nullptr;
  // Called on the calling thread while checks run, for a progress line.
  std::function<void(int done, int total)> progress;
  // Step 7: write reminders and deliver the outbox at the end of the pulse.
  Deliver deliver = Deliver::yes;
  util::HttpClient* http = nullptr;  // for delivery; nullptr: util::default_http_client()
};

// What happened to one target in this pulse.
struct TargetOutcome {
  enum class Kind {
    ran,       // executed and recorded
    would_run, // --dry-run: due, not run
    skipped,   // not due (reason says why)
    held,      // due, but an overlapping pulse holds it
    deadline,  // due, but the pulse deadline or a shutdown came before any of its checks started
    not_run,   // discovered earlier, but discovery failed: kept as last known, not run (reason)
  };
  std::string id;
  std::string name;
  Kind kind = Kind::skipped;
  std::string reason;                   // for skipped/held/deadline
  std::optional<TimePoint> next_run;    // for skipped, when known
  ExecStatus status = ExecStatus::all_clear;  // for ran
  Health health = Health::unknown;      // after this pulse, for ran
  bool in_grace = false;
  Duration duration{0};
  std::vector<CheckResultRecord> results;  // for ran, in config order
  std::vector<Event> events;               // transitions caused by this run
};

struct PulseReport {
  PulseRecord pulse;  // as recorded (not recorded for a dry run)
  bool dry_run = false;
  std::vector<TargetOutcome> targets;  // one per configured target (after --target/--tag)
  std::vector<TaskOutcome> tasks;      // one per configured schedule, when tasks ran
  std::vector<Event> beat_events;  // agent/job transitions this pulse recorded
  std::vector<Event> system_events;  // discovery_failed, clock_skew, pulse_stale, recover_stale
  std::vector<Event> reminders;      // still_failing events this pulse wrote
  delivery::DeliveryReport delivery; // what step 7 delivered
  std::optional<PruneReport> prune;  // what step 8 pruned, when a prune was due
  int abandoned_checks = 0;  // > 0: threads were left running; the tool must _exit
  int signal = 0;            // the signal that interrupted the pulse, if any
  int count(TargetOutcome::Kind kind) const;
  // The worst status among targets that ran, if any ran.
  std::optional<ExecStatus> worst_status() const;
};

// Makes the stored targets (with their checks and heartbeat settings) and schedules match the
// config; cheap when nothing changed. When discovery failed (Config::discovery_failures), live
// targets the config no longer names keep their stored definition instead of being retired:
// they are the ones discovery would have listed. hb-pulse does it first thing; hb-beat when it meets a
// target the database does not know yet.
void sync_config(const config::Config& config, store::Store& store, TimePoint now);

// Runs one pulse (SPEC §4.1 steps 1–6 and 9): syncs the configured targets into the store, claims
// the due ones (so overlapping pulses never run a target twice), runs their checks in parallel
// within the pulse deadline, records executions, states and events, then runs the scheduled
// tasks that are due (within the same deadline), and records the pulse. A failed discovery
// command (Config::discovery_failures) makes the pulse an error and a discovery_failed event;
// the targets it found before are reported as not run.
// Throws hb::UsageError for an unknown --target or a --tag no target has, hb::StoreError /
// hb::TemporaryError when the database fails.
PulseReport run_pulse(const config::Config& config, store::Store& store, const util::Clock& clock,
                      const PulseOptions& options);

} // namespace hb::pulse
