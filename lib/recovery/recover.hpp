// SPDX-License-Identifier: MIT
#pragma once

// One run of hb-recover (SPEC §4.3): assess every live target, climb the ladder for the
// unhealthy ones (a forced check run; the most specific action, a wait and a verifying re-check),
// record every step, back off, spend and suspend the restart budget, escalate, group shared
// causes, and deliver what it wrote. The decisions are assess.hpp's; this file runs them.

#include "config/config.hpp"
#include "delivery/deliver.hpp"
#include "recovery/assess.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace hb::recovery {

struct RecoverOptions {
  bool dry_run = false;                   // assess and plan; run and write nothing
  std::vector<std::string> only_targets;  // --target (empty: all)
  Force force = Force::no;                // ignore the backoff, never the budget
  // Set (to the signal number) by the tool's SIGTERM/SIGINT handler: a running action or check
  // is terminated, its attempt recorded as interrupted, and the run ends.
  const std::atomic<int>* stop_signal = nullptr;
  bool deliver = true;                    // deliver the outbox at the end (escalations first)
  util::HttpClient* http = nullptr;       // nullptr: util::default_http_client()
  std::function<double()> jitter;         // [0, 1) for the backoff; nullptr: random
};

// What the run decided and did for one target.
struct TargetReport {
  Assessment assessment;
  std::string action;       // the action it would run (dry run) or ran, secrets hidden
  std::string action_key;   // which one: "checks.health", "phases.timeout", "failing", ...
  std::optional<RecoveryAttempt> attempt;  // when it climbed the ladder
  bool held = false;        // another run (a pulse or hb-recover) holds the target
  bool reset = false;       // healthy again: its counters were reset (a verified recovery)
};

struct RecoverReport {
  RecoveryRun run;  // as recorded (not recorded for a dry run)
  bool dry_run = false;
  std::vector<TargetReport> targets;          // one per live configured target (after --target)
  std::vector<SharedCause> shared_causes;
  std::vector<Escalation> escalations_opened;
  std::vector<Escalation> escalations_resolved;
  std::vector<Event> events;                  // escalated, escalation_resolved, check events
  delivery::DeliveryReport delivery;
  int signal = 0;
};

// Runs hb-recover once. Throws hb::UsageError for an unknown --target, hb::StoreError /
// hb::TemporaryError when the database fails.
RecoverReport run_recover(const config::Config& config, store::Store& store,
                          const util::Clock& clock, const RecoverOptions& options);

// hb-recover --reset ID: clears the target's counters (failed attempts, backoff, suspension)
// so automatic recovery resumes; an open escalation stays open until the target recovers.
// Returns false when it had none. Throws hb::UsageError for a target the config does not name.
bool reset_target(const config::Config& config, store::Store& store, const std::string& id,
                  TimePoint now);

} // namespace hb::recovery
