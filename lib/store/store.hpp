// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hb::store {

// --- Records ---------------------------------------------------------------------------------

// A check as synced from the config, without secrets.
struct CheckInfo {
  std::string name;
  std::string type;
  Severity severity = Severity::alert;
  std::string description;
};

// How a target that pushes beats is watched, as synced from the config (config::Heartbeat plus
// the target settings the beat logic needs), so that hb-beat works from the database alone.
struct HeartbeatInfo {
  Duration every{0};
  Duration grace{0};
  int degraded_after = 1;
  int offline_after = 3;
  int recover_after = 2;
  Duration extended_offline_after{5 * 60'000};
  int flapping_transitions = 5;
  Duration flapping_window{3600'000};
  std::string schedule;  // jobs: cron expression, "" for none
  std::string timezone = "UTC";
  Duration max_runtime{0};   // jobs: 0 for no limit
  std::string active_hours;  // "09:00-21:00", "" for always
  Duration new_target_grace{0};
};

// A target as synced from the config.
struct TargetInfo {
  std::string id;
  std::string name;
  TargetKind kind = TargetKind::service;
  std::vector<std::string> tags;
  bool paused = false;
  Duration interval{0};
  Duration stale_after{0};  // 0: never stale
  std::vector<CheckInfo> checks;
  std::optional<HeartbeatInfo> heartbeat;  // set for targets that push beats (agents, jobs)
};

// Where a target came from: the config, or `hb-beat --create` (never retired by a config sync).
enum class Origin { config, beat };

// A target as the database knows it.
struct TargetRecord {
  TargetInfo info;
  TimePoint first_seen;                  // when a pulse first synced it (new-target grace)
  std::optional<TimePoint> retired_at;   // set when it left the config; history is kept
  Origin origin = Origin::config;
};

// Confirmation state of one check on one target (SPEC §2: confirm / recover_after).
struct CheckState {
  std::string check_name;
  CheckStatus last_status = CheckStatus::ok;
  int consecutive_failures = 0;
  int consecutive_successes = 0;
  // The confirmed state: the level the check counts as for target health.
  CheckStatus confirmed = CheckStatus::ok;
  std::optional<TimePoint> bad_since;  // first bad observation of the current bad streak
  std::string last_message;
};

// Health of one target, derived after each execution.
struct TargetState {
  std::string target_id;
  Health health = Health::unknown;
  std::optional<TimePoint> since;          // when `health` began (first bad observation if bad)
  int consecutive_failures = 0;            // executions in a row that were not all_clear
  int consecutive_successes = 0;
  std::optional<TimePoint> last_execution_at;  // start of the last execution
  std::optional<ExecStatus> last_status;
  std::optional<TimePoint> last_success_at;
  std::optional<TimePoint> last_failure_at;
  std::string last_message;                // the worst failing check's message, "" when clear
  std::vector<CheckState> checks;
};

struct CheckResultRecord {
  std::string check_name;
  CheckStatus status = CheckStatus::error;
  std::string message;
  Duration latency{0};
  std::string phase;
  std::vector<checks::Metric> metrics;
};

struct ExecutionRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string target_id;
  TimePoint started_at;
  TimePoint completed_at;
  Trigger trigger = Trigger::pulse;
  bool forced = false;
  ExecStatus status = ExecStatus::all_clear;
  std::optional<std::int64_t> pulse_id;
  std::vector<CheckResultRecord> results;  // empty when loaded without results
};

// A change of state, what notifications will be sent for (SPEC §2).
struct Event {
  std::int64_t id = 0;
  std::string target_id;
  TimePoint at;
  std::string type;       // "failing", "warning", "recovered"
  std::string old_state;
  std::string new_state;
  std::string message;
  bool in_grace = false;  // the target was inside new_target_grace: recorded, never notified
};

// One run of hb-pulse (SPEC §2 "Pulse").
struct PulseRecord {
  std::int64_t id = 0;
  std::string owner;  // "host:pid:random", also the owner of its claims
  TimePoint started_at;
  std::optional<TimePoint> completed_at;
  std::string status = "running";  // running | ok | error | interrupted
  Duration interval{0};            // pulse.interval when it ran: staleness is derived from it
  Duration deadline{0};
  int targets_total = 0;
  int targets_due = 0;
  int targets_run = 0;
  int targets_held = 0;  // due but claimed by an overlapping pulse
  int checks_run = 0;
  int tasks_run = 0;
  int tasks_failed = 0;
  int errors = 0;
  std::string message;   // what went wrong, when status is error or interrupted
  TimePoint next_expected;
};

// Everything one finished execution changes, written in one transaction.
struct ExecutionWrite {
  ExecutionRecord execution;
  TargetState state;
  std::vector<Event> events;
  std::string release_owner;  // the claim on the target held by this owner is released
};

// A scheduled task as synced from the config (the command without secrets).
struct ScheduleInfo {
  std::string name;
  std::string cron;
  std::string timezone;
  std::string target_id;  // "" when it belongs to no target
  bool enabled = true;
  std::string description;
};

struct ScheduleRecord {
  ScheduleInfo info;
  TimePoint created_at;  // first sync: fire times before it are never run
  std::optional<TimePoint> retired_at;
};

// Where a schedule stands (SPEC §2 "Schedule").
struct ScheduleState {
  std::string name;
  std::optional<TimePoint> covered_fire;  // latest fire time dealt with (run, given up, skipped)
  std::optional<TimePoint> pending_fire;  // a failed fire time waiting for its retry
  int attempts = 0;                       // runs so far for pending_fire (or the last fire)
  std::optional<TimePoint> retry_at;
  std::optional<TimePoint> last_run_at;
  std::string last_status;  // succeeded | failed | timed_out | skipped, "" before the first run
  std::optional<int> last_exit_code;
  std::string last_message;
};

// One run of a scheduled task.
struct TaskRun {
  std::int64_t id = 0;
  std::string schedule;
  TimePoint fire_at;  // the fire time it ran for
  TimePoint started_at;
  TimePoint completed_at;
  std::string status;  // succeeded | failed | timed_out | skipped
  std::optional<int> exit_code;
  int attempt = 1;
  std::string message;
  std::string output_tail;
  std::optional<std::int64_t> pulse_id;
};

// Where a target that pushes beats stands. `state` is an AgentState name for agents and a
// JobState name for jobs (kind "job"); lib/agents interprets it.
struct BeatState {
  std::string target_id;
  std::string state = "unknown";
  std::optional<TimePoint> since;      // when `state` began
  std::optional<TimePoint> last_seen;  // the last beat (agents) or the last run's start (jobs)
  std::optional<BeatStatus> last_status;
  std::string last_message;
  std::vector<checks::Metric> last_metrics;
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
  std::vector<checks::Metric> metrics;
};

// One run of a job reported by hb-beat: inserted when it starts, completed when it ends.
struct JobRun {
  std::int64_t id = 0;  // assigned by the store
  std::string target_id;
  TimePoint started_at;
  std::optional<TimePoint> completed_at;  // none while running (or when the wrapper died)
  std::string status = "running";  // running | succeeded | failed | timed_out
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
};

// What it writes, in the same transaction.
struct BeatWrite {
  BeatState state;
  std::vector<Event> events;
  std::optional<Beat> beat;    // appended (assigned an id)
  std::optional<JobRun> run;   // inserted when its id is 0 (then assigned), else updated
};

using BeatDecider = std::function<BeatWrite(const BeatContext&)>;
// Returns std::nullopt when the target's stored state is already right.
using RefreshDecider = std::function<std::optional<BeatWrite>(const BeatContext&)>;

// Execution counts for one target over a window.
struct ExecutionStats {
  std::string target_id;
  int executions = 0;
  int failures = 0;  // executions whose status was not all_clear
};

struct ClaimResult {
  std::vector<std::string> claimed;  // ids this caller may now run
  std::vector<std::string> held;     // ids that were due but are claimed by someone else
};

// Decides, inside the claim transaction, whether a target is due given its current state.
using DuePredicate = std::function<bool(const std::string& target_id, const TargetState& state)>;
// The same for a scheduled task.
using TaskDuePredicate = std::function<bool(const std::string& name, const ScheduleState& state)>;

enum class IncludeRetired { no, yes };
enum class WithResults { no, yes };

// --- Interface -------------------------------------------------------------------------------

// All persistent state goes through this interface; nothing outside lib/store/ touches SQL.
// Abstract so that a PostgreSQL backend (many runners on many hosts, claiming work with
// SELECT ... FOR UPDATE SKIP LOCKED) can be added without changing any caller. Every method
// throws hb::StoreError on database failure; every write is one transaction.
class Store {
public:
  virtual ~Store() = default;

  // Makes the stored targets and checks match `targets`: inserts new ones (first_seen = now),
  // updates changed ones, and retires the ones no longer configured. Cheap when unchanged.
  virtual void sync_targets(const std::vector<TargetInfo>& targets, TimePoint now) = 0;
  virtual std::vector<TargetRecord> targets(IncludeRetired include_retired) = 0;

  // Atomically claims every target of `candidates` that nobody else holds a live claim on and
  // that `is_due` accepts given its state read inside the same transaction; a claim expires at
  // `expires` so a killed pulse does not block its targets forever.
  virtual ClaimResult claim_targets(const std::vector<std::string>& candidates,
                                    const std::string& owner, TimePoint now, TimePoint expires,
                                    const DuePredicate& is_due) = 0;
  // Drops every claim held by `owner` (at the end of a pulse, after recording).
  virtual void release_claims(const std::string& owner) = 0;

  // Records the start of a pulse and returns its id.
  virtual std::int64_t begin_pulse(const PulseRecord& pulse) = 0;
  // Records the end of a pulse and drops every claim its owner still holds, in one transaction.
  virtual void finish_pulse(const PulseRecord& pulse) = 0;
  // The most recently started pulse, if any.
  virtual std::optional<PulseRecord> last_pulse() = 0;
  // The most recently started pulse that has finished, if any.
  virtual std::optional<PulseRecord> last_finished_pulse() = 0;

  // Writes each execution with its results, the target's new state and its events, and releases
  // the target's claim: one transaction for the batch, so each is either whole or absent.
  virtual void record_executions(std::vector<ExecutionWrite>& writes) = 0;

  virtual std::optional<TargetState> target_state(const std::string& target_id) = 0;
  virtual std::map<std::string, TargetState> target_states() = 0;

  // Per-target execution counts since `since` (uses the time index; cost does not grow with the
  // length of history).
  virtual std::vector<ExecutionStats> execution_stats(TimePoint since) = 0;
  // Newest first.
  virtual std::vector<ExecutionRecord> recent_executions(const std::string& target_id,
                                                         int limit, WithResults with_results) = 0;
  // Newest first; all targets when `target_id` is empty.
  virtual std::vector<Event> recent_events(const std::string& target_id, int limit) = 0;

  // --- Scheduled tasks ---

  // Makes the stored schedules match `schedules` (new ones get created_at = now; missing ones
  // are retired, their runs kept).
  virtual void sync_schedules(const std::vector<ScheduleInfo>& schedules, TimePoint now) = 0;
  virtual std::vector<ScheduleRecord> schedules(IncludeRetired include_retired) = 0;
  virtual std::map<std::string, ScheduleState> schedule_states() = 0;
  // Like claim_targets, for tasks: a task claimed by a live run elsewhere is `held`, so it is
  // never started twice at once, even by two hosts or overlapping pulses.
  virtual ClaimResult claim_tasks(const std::vector<std::string>& candidates,
                                  const std::string& owner, TimePoint now, TimePoint expires,
                                  const TaskDuePredicate& is_due) = 0;
  // Records a run and the schedule's new state, and releases the claim of `release_owner`, in
  // one transaction. Assigns run.id.
  virtual void record_task_run(TaskRun& run, const ScheduleState& state,
                               const std::string& release_owner) = 0;
  // Newest first.
  virtual std::vector<TaskRun> recent_task_runs(const std::string& schedule, int limit) = 0;

  // --- Beats (agents and jobs) ---

  // Records a beat or a job run for `target_id` in one IMMEDIATE transaction: reads the live
  // target, its beat state and last run, calls `decide`, writes what it returns. When the target
  // is unknown (or retired) it is created from `create` (origin beat, first_seen `now`) if given;
  // otherwise nothing is written and std::nullopt is returned. Concurrent beats for the same
  // target serialise, so none is lost and every transition is seen once.
  virtual std::optional<BeatWrite> record_beat(const std::string& target_id,
                                               const std::optional<TargetInfo>& create,
                                               TimePoint now, const BeatDecider& decide) = 0;
  // The context of every live target that pushes beats, by id.
  virtual std::map<std::string, BeatContext> beat_contexts() = 0;
  // Calls `decide` for every live target that pushes beats and writes the changes it asks for
  // (states and events) in one transaction; cheap (no write) when nothing changes. Returns the
  // writes made.
  virtual std::vector<BeatWrite> refresh_beat_states(const RefreshDecider& decide) = 0;
  // Newest first.
  virtual std::vector<Beat> recent_beats(const std::string& target_id, int limit) = 0;
  virtual std::vector<JobRun> recent_job_runs(const std::string& target_id, int limit) = 0;
  // Events per target since `since` whose type starts with `type_prefix` (flapping detection;
  // uses the time index).
  virtual std::map<std::string, int> count_events(TimePoint since,
                                                  const std::string& type_prefix) = 0;
};

enum class OpenMode {
  read_write,   // create the file (0600) and apply migrations as needed
  existing,     // open an existing database read-write (migrating it); fall back to read-only
};

// Opens (and creates/migrates, per `mode`) the SQLite database at `path`. Throws hb::StoreError
// naming the path, e.g. when the file is newer than this binary understands.
std::unique_ptr<Store> open_sqlite(const std::string& path, OpenMode mode);

// The schema version this binary writes.
int sqlite_schema_version();

// The per-user default database path (SPEC §3): $XDG_STATE_HOME/heartbeat/heartbeat.db,
// ~/.local/state/heartbeat/heartbeat.db, or /var/lib/heartbeat/heartbeat.db for root.
std::string default_database_path();

} // namespace hb::store
