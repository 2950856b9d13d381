// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/beat.hpp"
#include "core/model/execution.hpp"
#include "core/model/notify.hpp"
#include "core/model/pulse.hpp"
#include "core/model/recovery.hpp"
#include "core/model/retention.hpp"
#include "core/model/schedule.hpp"
#include "core/model/target.hpp"
#include "core/types.hpp"
#include "health/figures.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hb::store {

// --- Records only the store interface uses ----------------------------------------------------

struct ClaimResult {
  std::vector<std::string> claimed;  // ids this caller may now run
  std::vector<std::string> held;     // ids that were due but are claimed by someone else
};

// Decides, inside the claim transaction, whether a target is due given its current state.
using DuePredicate = std::function<bool(const std::string& target_id, const TargetState& state)>;
// The same for a scheduled task.
using TaskDuePredicate = std::function<bool(const std::string& name, const ScheduleState& state)>;

enum class IncludeRetired { no, yes };
// Which pulses last_pulse() looks at: any, or only full scheduled ones (PulseRecord::scheduled).
enum class PulseScope { any, scheduled };
enum class WithResults { no, yes };
enum class CheckIntegrity { no, yes };

// One check of one target over a window (hb-diagnose): its results, its failing ones, and the
// newest failing results (without metrics), newest first.
struct CheckFailures {
  std::string check_name;
  int runs = 0;
  int failures = 0;  // results that were not ok
  std::vector<std::pair<TimePoint, CheckResultRecord>> newest;  // execution start, result
};

// What the database itself looks like (hb-diagnose): size, WAL, schema, prunes, growth.
struct DatabaseInfo {
  std::string backend;        // "sqlite"
  int schema_version = 0;     // found in the database (this binary's when it was migrated)
  long long size_bytes = 0;   // the database file (pages in use and free)
  long long free_bytes = 0;   // free pages inside it, reused before the file grows
  std::optional<long long> wal_bytes;  // the write-ahead log beside it, none when absent
  std::optional<TimePoint> last_prune;
  std::optional<TimePoint> oldest_execution;
  // Executions, beats and job runs kept, and of them written in the 24 hours before `now`: the
  // growth per day is about size × rows_last_day / rows while history has not reached the
  // retention window. Counted by id range: about, never scanned.
  long long rows = 0;
  long long rows_last_day = 0;
  // The integrity check's answer ("ok", or its first problems), none when not asked for.
  std::optional<std::string> integrity;
  Duration integrity_took{0};
};

// --- Interface -------------------------------------------------------------------------------

// All persistent state goes through this interface; nothing outside lib/store/ touches SQL.
// Abstract so that a PostgreSQL backend (many runners on many hosts, claiming work with
// SELECT ... FOR UPDATE SKIP LOCKED) can be added without changing any caller; every backend
// must pass the contract suite (tests/unit/store/test_store_contract*.cpp). Every method throws
// hb::StoreError on database failure (hb::TemporaryError when the database stays busy); every
// write is one transaction unless its comment says otherwise.
//
// The concurrency contract, the same for every backend:
//  - Claims carry a time-to-live and are judged by the database's clock, never by the caller's
//    (which HB_NOW may replay, and which differs between hosts): a claim taken with `ttl` is
//    live until the database's now passes its acquisition + ttl, then anyone may take it over.
//    Whether something is due is still the caller's decision, made with the caller's now by the
//    predicate, inside the claiming transaction.
//  - A claim is released by its owner (release_claims, finish_pulse) or with the write that
//    ends the claimed work (record_executions, record_task_run), in that write's transaction.
//  - Decisions over many targets (refresh_beat_states) read without locking, then decide again
//    and write per target, one short transaction per target that needs a change: no write lock
//    is held across all targets.
//  - Order never depends on storage order: a check result keeps its position within its
//    execution, and "newest first" is by time, then by the store-assigned id.
//  - "No database yet" is the store's answer (open_store with OpenMode::existing returns
//    nullptr); callers never look for files.
//  - Every event (from record_executions, record_beat, refresh_beat_states and record_event) is
//    written by one event writer per backend (SQLite: sqlite::EventWriter), inside the
//    transaction of the change it records, together with its outbox rows (notify::route).
class Store {
public:
  virtual ~Store() = default;

  // Makes the stored targets and checks match `targets`: inserts new ones (first_seen = now),
  // updates changed ones, and retires the ones no longer configured. Cheap when unchanged.
  virtual void sync_targets(const std::vector<TargetInfo>& targets, TimePoint now) = 0;
  // Targets by id, each with its checks in config order.
  virtual std::vector<TargetRecord> targets(IncludeRetired include_retired) = 0;

  // Atomically claims every target of `candidates` that nobody else holds a live claim on and
  // that `is_due` accepts given its state read inside the same transaction. A claim expires
  // `ttl` after it is taken, by the database's clock, so a killed pulse does not block its
  // targets forever; a ttl of 0 takes a claim anyone may take over at once. Returns what was
  // claimed and what was due but held by another owner, both in `candidates` order.
  virtual ClaimResult claim_targets(const std::vector<std::string>& candidates,
                                    const std::string& owner, Duration ttl,
                                    const DuePredicate& is_due) = 0;
  // Drops every claim held by `owner` (at the end of a pulse, after recording).
  virtual void release_claims(const std::string& owner) = 0;
  // Drops `owner`'s claims on `target_ids` (targets it claimed and then decided to leave alone),
  // in one transaction; others' claims and its other claims stay.
  virtual void release_target_claims(const std::string& owner,
                                     const std::vector<std::string>& target_ids) = 0;

  // Records the start of a pulse and returns its id.
  virtual std::int64_t begin_pulse(const PulseRecord& pulse) = 0;
  // Records the end of a pulse and drops every claim its owner still holds, in one transaction.
  virtual void finish_pulse(const PulseRecord& pulse) = 0;
  // The most recently recorded pulse (of `scope`), if any: the order of begin_pulse calls, not
  // of started_at, so that a pulse dated in the future by a wrong clock does not stay the last.
  virtual std::optional<PulseRecord> last_pulse(PulseScope scope = PulseScope::any) = 0;
  // The most recently recorded pulse (of `scope`) that has finished, if any.
  virtual std::optional<PulseRecord> last_finished_pulse(PulseScope scope = PulseScope::any) = 0;
  // Records an event that no execution or beat caused (discovery_failed); assigns event.id.
  virtual void record_event(Event& event) = 0;

  // Writes each execution with its results, the target's new state and its events, and releases
  // the target's claim: one transaction for the batch, so each is either whole or absent.
  virtual void record_executions(std::vector<ExecutionWrite>& writes) = 0;

  virtual std::optional<TargetState> target_state(const std::string& target_id) = 0;
  virtual std::map<std::string, TargetState> target_states() = 0;

  // Per-target execution counts since `since` (uses the time index; cost does not grow with the
  // length of history), of `target_id` only unless it is empty (then through its own index).
  virtual std::vector<ExecutionStats> execution_stats(TimePoint since,
                                                      const std::string& target_id = {}) = 0;
  // Newest first, up to `limit`; with WithResults::yes each with its results in check order.
  virtual std::vector<ExecutionRecord> recent_executions(const std::string& target_id,
                                                         int limit, WithResults with_results) = 0;
  // Newest first; all targets when `target_id` is empty.
  virtual std::vector<Event> recent_events(const std::string& target_id, int limit) = 0;
  // Per check of `target_id` (in name order), its results in executions started at or after
  // `since`: counted whole, with up to `limit` failing ones per check kept, newest first.
  virtual std::vector<CheckFailures> check_failures(const std::string& target_id, TimePoint since,
                                                    int limit) = 0;

  // --- Scheduled tasks ---

  // Makes the stored schedules match `schedules` (new ones get created_at = now; missing ones
  // are retired, their runs kept).
  virtual void sync_schedules(const std::vector<ScheduleInfo>& schedules, TimePoint now) = 0;
  virtual std::vector<ScheduleRecord> schedules(IncludeRetired include_retired) = 0;
  virtual std::map<std::string, ScheduleState> schedule_states() = 0;
  // Like claim_targets, for tasks: a task claimed by a live run elsewhere is `held`, so it is
  // never started twice at once, even by two hosts or overlapping pulses.
  virtual ClaimResult claim_tasks(const std::vector<std::string>& candidates,
                                  const std::string& owner, Duration ttl,
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
  // Calls `decide` for every live target that pushes beats; for each target it asks to change,
  // decides again on the stored context inside a short transaction of that target's own and
  // writes the change (state and events). So `decide` must be pure; cheap (no write) when
  // nothing changes. Returns the writes made; a failure part-way keeps the targets already
  // written.
  virtual std::vector<BeatWrite> refresh_beat_states(const RefreshDecider& decide) = 0;
  // Newest first.
  virtual std::vector<Beat> recent_beats(const std::string& target_id, int limit) = 0;
  virtual std::vector<JobRun> recent_job_runs(const std::string& target_id, int limit) = 0;
  // Changes of state per target since `since` whose type is one of `types`, not counting a first
  // state (a change from "unknown": an agent's first beat is not a flap). For flapping detection;
  // uses the time index.
  virtual std::map<std::string, int> count_events(TimePoint since,
                                                  const std::vector<EventType>& types) = 0;

  // --- Notifications (the outbox) ---

  // Makes the stored routing policy match `policy` (cheap when unchanged). Every event written
  // afterwards, by any tool, is routed by it in the event's own transaction.
  virtual void sync_notify_policy(const NotifyPolicy& policy) = 0;
  // The stored routing policy; std::nullopt before the first sync.
  virtual std::optional<NotifyPolicy> notify_policy() = 0;
  // Claims, in one transaction, up to `limit` rows that are pending or held with their next
  // attempt at or before `now` and that no other owner holds a live lease on; the lease expires
  // `ttl` after the database's now (a killed deliverer's rows go to whoever comes next). Oldest
  // due first, each with its event and target name.
  virtual std::vector<OutboxItem> claim_notifications(const std::string& owner, TimePoint now,
                                                      Duration ttl, int limit) = 0;
  // Records the outcome of a delivery attempt on `row` (state, attempts, next attempt, sent_at,
  // last error, provider id, reason), drops its lease, and inserts `follow_ups` (a fallback
  // channel's rows; ids assigned) for the same target, in one transaction.
  virtual void finish_notification(const Notification& row,
                                   std::vector<Notification>& follow_ups) = 0;
  // Drops every lease `owner` still holds (rows it claimed and did not finish).
  virtual void release_notifications(const std::string& owner) = 0;
  // Newest first; of all targets when `target_id` is empty.
  virtual std::vector<OutboxItem> recent_notifications(const std::string& target_id,
                                                       int limit) = 0;
  // Per channel with rows: pending and held now, sent and failed since `since`, the last error.
  virtual std::vector<ChannelHealth> channel_health(TimePoint since) = 0;
  // Per target: when something bad was last said, and the last reminder (for repeat_every).
  virtual std::map<std::string, NoticeMarks> notice_marks() = 0;

  // --- Recovery (hb-recover) ---
  // hb-recover claims the targets it works on with claim_targets, like a pulse, so that neither
  // another hb-recover nor a pulse runs them meanwhile.

  // Records the start of a run of hb-recover and returns its id.
  virtual std::int64_t begin_recovery_run(const RecoveryRun& run) = 0;
  // Records its end and drops every claim its owner still holds, in one transaction; attempts of
  // the run still `running` become `interrupted` in the same transaction.
  virtual void finish_recovery_run(const RecoveryRun& run) = 0;
  // The most recently begun run, if any.
  virtual std::optional<RecoveryRun> last_recovery_run() = 0;
  // The counters of every target that has any, by target id.
  virtual std::map<std::string, RecoveryState> recovery_states() = 0;
  // Writes `write` in one transaction (see RecoveryWrite), assigning the ids of a new attempt,
  // a new escalation (and state->escalation_id) and the events.
  virtual void record_recovery(RecoveryWrite& write) = 0;
  // Newest first; all targets when `target_id` is empty. With steps.
  virtual std::vector<RecoveryAttempt> recent_recovery_attempts(const std::string& target_id,
                                                                int limit) = 0;
  // Attempts on `target_id` that started at or after `since`.
  virtual int count_recovery_attempts(const std::string& target_id, TimePoint since) = 0;
  // hb-recover attempts started since `since`, by result (running ones not counted).
  virtual RecoveryCounts recovery_counts(TimePoint since) = 0;
  // Escalations not resolved yet, oldest first.
  virtual std::vector<Escalation> open_escalations() = 0;
  // Newest first; all targets when `target_id` is empty (shared causes count for each of theirs).
  virtual std::vector<Escalation> recent_escalations(const std::string& target_id, int limit) = 0;
  // Claims the running of escalation `id`'s command for `owner` until `ttl` passes (by the
  // database's clock): true when the escalation is open, its command has no result yet and no
  // other owner holds a live claim on it. A run killed while the command runs leaves the claim
  // to expire; the next run claims it and runs the command again (at least once).
  virtual bool claim_escalation_command(std::int64_t id, const std::string& owner,
                                        Duration ttl) = 0;
  // Records what escalation.command did with escalation `id` and drops any claim on running it,
  // in one transaction.
  virtual void set_escalation_command_result(std::int64_t id, const std::string& result) = 0;
  // Per target, hb-recover attempts started since `since` by result.
  virtual std::map<std::string, RecoveryCounts> recovery_counts_by_target(TimePoint since) = 0;

  // --- Health figures and retention (SPEC §2 "Health score", §4.1 step 8) ---
  // Per target, what it was seen doing in [since, until) (hours rounded down): from the
  // roll-ups, which the writes of executions, beats and job runs keep in their transaction.
  virtual std::map<std::string, health::Tally> tallies(TimePoint since, TimePoint until) = 0;
  // Per target, its hourly roll-ups in [since, until), oldest first.
  virtual std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>>
  hourly_tallies(TimePoint since, TimePoint until) = 0;
  // The incidents that started in [since, now), of `target_id` only unless it is empty.
  virtual std::vector<health::IncidentTimeline> incidents(TimePoint since, TimePoint now,
                                                          const std::string& target_id = {}) = 0;
  // Deletes history past `retention` in short transactions until done or `budget` passes.
  // Not one transaction: each batch commits on its own (nothing it deletes is needed whole).
  virtual PruneReport prune(const Retention& retention, TimePoint now, Duration budget) = 0;
  // When the last complete prune started, std::nullopt before the first.
  virtual std::optional<TimePoint> last_prune() = 0;
  // Reads what DatabaseInfo holds, without writing; with CheckIntegrity::yes it also runs the
  // backend's integrity check (SQLite: PRAGMA quick_check, which reads the whole file).
  virtual DatabaseInfo database_info(TimePoint now, CheckIntegrity check) = 0;
};

enum class OpenMode {
  read_write,   // create the database if needed (a file: mode 0600) and apply migrations
  existing,     // open an existing database read-write (migrating it); fall back to read-only
  read_only,    // open an existing database read-only: never writes, not even a migration
};

// Opens the database at `location`, picking the backend by its scheme: a plain path
// ("/var/lib/heartbeat/heartbeat.db", "data/hb.db") or "sqlite:///absolute/path" is SQLite;
// "postgresql://user@host:5432/heartbeat" (or "postgres://...") is PostgreSQL, with libpq's
// environment and password file. Returns nullptr with OpenMode::existing or read_only when there
// is no database there yet ("no data yet" is the store's answer; callers never look for files).
// Throws hb::UsageError (exit 64: the location comes from --db, HB_DB or the config's
// `database`) for any other scheme, naming the location and the schemes served; hb::StoreError
// when the database cannot be opened or is newer than this binary; hb::TemporaryError when a
// database server cannot be reached now.
std::unique_ptr<Store> open_store(const std::string& location, OpenMode mode);

// The per-user default database path (SPEC §3): $XDG_STATE_HOME/heartbeat/heartbeat.db,
// ~/.local/state/heartbeat/heartbeat.db, or /var/lib/heartbeat/heartbeat.db for root.
std::string default_database_path();

} // namespace hb::store
