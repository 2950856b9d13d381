// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/event.hpp"
#include "core/model/metric.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hb {

struct CheckResultRecord {
  std::string check_name;
  CheckStatus status = CheckStatus::error;
  std::string message;
  Duration latency{0};
  std::string phase;
  std::vector<Metric> metrics;
};

// One run of all checks of one target (SPEC §2 "Execution").
struct ExecutionRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string target_id;
  TimePoint started_at;
  TimePoint completed_at;
  Trigger trigger = Trigger::pulse;
  bool forced = false;
  ExecStatus status = ExecStatus::all_clear;
  std::optional<std::int64_t> pulse_id;
  std::vector<CheckResultRecord> results;  // in check order; empty when loaded without results
};

// Everything one finished execution changes, written in one transaction.
struct ExecutionWrite {
  ExecutionRecord execution;
  TargetState state;
  std::vector<Event> events;
  std::string release_owner;  // the claim on the target held by this owner is released
  // The slowest observed check's latency over its timeout in ‰ (pulse::Evaluation::load), kept
  // in the roll-ups for the health score; none when nothing was observed.
  std::optional<int> load;
};

// Execution counts for one target over a window.
struct ExecutionStats {
  std::string target_id;
  int executions = 0;
  int failures = 0;  // executions whose status was not all_clear
};

} // namespace hb
