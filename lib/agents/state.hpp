// SPDX-License-Identifier: MIT
#pragma once

// The pure logic of push beats (SPEC §2 "Agent heartbeats", "Job heartbeats"): the agent state
// machine, job lateness, and the issues hb-status reports. No I/O: lib/agents/beats.hpp applies
// it to the store.

#include "core/types.hpp"
#include "core/model/beat.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hb::agents {

// One change of state, dated when it happened (not when it was noticed).
struct Transition {
  TimePoint at;
  BeatPhase from;
  BeatPhase to;
  std::string message;
};

// A condition hb-status reports for an agent or job (seed 003's health issues).
struct Issue {
  std::string type;  // stale | extended_offline | degraded_performance | flapping | late | ...
  Severity severity = Severity::warning;
  std::string message;
};

// What one beat says.
struct BeatInput {
  BeatStatus status = BeatStatus::healthy;
  std::string message;
  std::vector<Metric> metrics;
};

// --- Agents ---

// Where an agent stands at `now` once the beats it has missed since its last one are counted.
struct AgentEval {
  AgentState state = AgentState::unknown;
  std::optional<TimePoint> since;
  int missed = 0;                        // beats missed since the last one (0 outside active hours)
  std::vector<Transition> transitions;  // caused by silence, not yet recorded
};

// Counts missed beats from `state.last_seen` (or from the start of the current active-hours window
// when that is later: outside active hours nothing is expected, and the timer restarts when the
// window opens). A beat counts as missed `grace` after it was due. Paused targets miss nothing.
AgentEval evaluate_agent(const BeatContext& context, TimePoint now);

// Applies one beat received at `now`: first the silence before it, then the beat itself
// (unknown → online on the first healthy beat; degraded/failing beats degrade or take it offline;
// back to online only after recover_after healthy beats in a row). Returns the new state and its
// events; the beat record itself is filled in too.
BeatWrite apply_agent_beat(const BeatContext& context, const BeatInput& beat,
                                  TimePoint now);

// --- Jobs ---

struct JobEval {
  JobState state = JobState::unknown;   // the settled state at `now`
  std::optional<TimePoint> since;
  bool running = false;                  // the last run started and has not finished
  bool late = false;                     // the expected run has not started within grace
  bool hung = false;                     // the running run has exceeded max_runtime
  std::optional<TimePoint> running_since;
  std::optional<TimePoint> next_expected;  // when the next run should start (every/schedule)
  std::vector<Transition> transitions;     // not yet recorded
};

// Evaluates a job at `now`: hung when its last run is still going after max_runtime; late when
// the run expected by `every` or `schedule` has not started within `grace`; otherwise what its
// last finished run left (ok / failed), or unknown. While a run is in progress (and neither hung
// nor late) the job keeps its state.
JobEval evaluate_job(const BeatContext& context, TimePoint now);

// How a run ended, for finish_job_run.
struct RunEnd {
  JobRunStatus status = JobRunStatus::succeeded;  // succeeded | failed | timed_out
  std::optional<int> exit_code;
  std::string message;
  std::string output_tail;
};

// The write for the start of a wrapped run at `now` (a running job_runs row).
BeatWrite start_job_run(const BeatContext& context, const std::string& command,
                               const std::string& host, int pid, TimePoint now);

// The write for the end of run `run_id` (started at `started_at`) at `now`, with the job's new
// state and its events.
BeatWrite finish_job_run(const BeatContext& context, std::int64_t run_id,
                                TimePoint started_at, const RunEnd& end, TimePoint now);

// A plain beat for a job (it reports its own result without being wrapped): a zero-length run,
// succeeded unless the beat is failing.
BeatWrite apply_job_beat(const BeatContext& context, const BeatInput& beat,
                                TimePoint now);

// --- Both ---

// The write that records the transitions time alone has caused (missed beats, late or hung
// jobs) and moves stored times from the future to now (with a clock_skew event), or
// std::nullopt when the stored state is right.
std::optional<BeatWrite> refresh(const BeatContext& context, TimePoint now);

// An agent or job as hb-status shows it at `now`.
struct BeatView {
  bool job = false;
  std::string state;  // an AgentState or JobState name, or "running" for a job run in progress
  Health health = Health::unknown;
  std::optional<TimePoint> since;
  std::optional<TimePoint> last_seen;
  int missed = 0;
  std::optional<BeatStatus> last_status;
  std::string last_message;
  std::vector<Metric> metrics;
  std::int64_t beats = 0;
  std::optional<TimePoint> next_expected;  // jobs
  std::optional<JobRun> last_run;   // jobs
  std::vector<Issue> issues;
};

// `recent_transitions`: the target's state-change events within its flapping window.
BeatView view(const BeatContext& context, int recent_transitions, TimePoint now);

// The context with its stored times from the future (hb::from_the_future: clock skew) moved to
// `now`: the state's last beat or run start and `since`, and the last run's times. `skewed`
// (when not null) receives the latest of the state's such times. Every function here evaluates the corrected context, so missed beats count from the
// earlier of the last beat and now; refresh records the correction with a clock_skew event.
BeatContext without_future(const BeatContext& context, TimePoint now,
                           std::optional<TimePoint>* skewed = nullptr);

// Whether `type` is one of the events beats produce for this target (agent_* or job_*).
bool is_beat_event(const BeatContext& context, EventType type);

} // namespace hb::agents
