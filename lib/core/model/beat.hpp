// SPDX-License-Identifier: MIT
#pragma once

// Push beats: agents' beats, jobs' runs, where each such target stands, and the records a beat
// decision reads and writes inside its transaction (the decider pattern, DESIGN.md).

#include "core/model/event.hpp"
#include "core/model/metric.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hb {

// An agent's state (kind agent and other beat-pushing targets) or a job's (kind job).
using BeatPhase = std::variant<AgentState, JobState>;

// The name of `phase` ("online", "late", ...).
std::string_view to_string(const BeatPhase& phase);
// Parses a stored state name for a target of `kind`; unknown names read as unknown.
BeatPhase parse_beat_phase(TargetKind kind, std::string_view text);

// Where a target that pushes beats stands.
struct BeatState {
  std::string target_id;
  BeatPhase state = AgentState::unknown;
  std::optional<TimePoint> since;      // when `state` began
  std::optional<TimePoint> last_seen;  // the last beat (agents) or the last run's start (jobs)
  std::optional<BeatStatus> last_status;
  std::string last_message;
  std::vector<Metric> last_metrics;
  int consecutive_healthy = 0;  // healthy beats in a row (agents)
  std::int64_t beats = 0;       // beats or runs recorded in all
  std::optional<std::int64_t> last_run_id;  // jobs
};

// One beat pushed by an agent.
struct Beat {
  std::int64_t id = 0;
  std::string target_id;
  TimePoint at;
  BeatStatus status = BeatStatus::healthy;
  std::string message;
  std::vector<Metric> metrics;
};

// One run of a job reported by hb-beat: inserted when it starts, completed when it ends.
struct JobRun {
  std::int64_t id = 0;  // assigned by the store
  std::string target_id;
  TimePoint started_at;
  std::optional<TimePoint> completed_at;  // none while running (or when the wrapper died)
  JobRunStatus status = JobRunStatus::running;
  std::optional<int> exit_code;
  std::string message;
  std::string output_tail;
  std::string command;  // the wrapped command line, "" for a plain beat
  std::string host;
  int pid = 0;          // the wrapper's pid
};

// What a beat-recording or state-refreshing decision reads, inside its transaction.
struct BeatContext {
  TargetRecord target;
  BeatState state;
  std::optional<JobRun> last_run;  // jobs: the run state.last_run_id points at
  // Agents: silence before this instant is not counted as missed beats — the end of the target's
  // last maintenance window, or now while one is on (heartbeat timers restart cleanly when the
  // window ends). Set by the caller from the routing policy; not stored.
  std::optional<TimePoint> excused_until;
};

// What it writes, in the same transaction.
struct BeatWrite {
  BeatState state;
  std::vector<Event> events;
  std::optional<Beat> beat;   // appended (assigned an id)
  std::optional<JobRun> run;  // inserted when its id is 0 (then assigned), else updated
};

using BeatDecider = std::function<BeatWrite(const BeatContext&)>;
// Returns std::nullopt when the target's stored state is already right.
using RefreshDecider = std::function<std::optional<BeatWrite>(const BeatContext&)>;

} // namespace hb
