// SPDX-License-Identifier: MIT
#include "store/sqlite/sqlite_store.hpp"

#include "store/sqlite/beats.hpp"
#include "store/sqlite/claims.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/executions.hpp"
#include "store/sqlite/database_info.hpp"
#include "store/sqlite/files.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/outbox.hpp"
#include "store/sqlite/pulses.hpp"
#include "store/sqlite/incidents.hpp"
#include "store/sqlite/recovery.hpp"
#include "store/sqlite/rollups.hpp"
#include "store/sqlite/schedules.hpp"
#include "store/sqlite/targets.hpp"

#include <optional>

namespace hb::store::sqlite {
namespace {

// Store on one SQLite connection: each call goes to the part that owns its aggregate. The only
// logic here is what joins two parts: a claim reads the state of what it claims inside its own
// transaction.
class SqliteStore final : public Store {
public:
  SqliteStore(const DatabaseFile& file, OpenMode mode)
    : m_connection(file, mode),
      m_targets(m_connection),
      m_claims(m_connection),
      m_pulses(m_connection),
      m_executions(m_connection),
      m_schedules(m_connection),
      m_beats(m_connection),
      m_outbox(m_connection),
      m_recovery(m_connection),
      m_rollups(m_connection)
  {
  }

  Connection& connection() { return m_connection; }

  void sync_targets(const std::vector<TargetInfo>& targets, TimePoint now) override
  {
    m_targets.sync(targets, now);
  }
  std::vector<TargetRecord> targets(IncludeRetired include_retired) override
  {
    return m_targets.list(include_retired);
  }

  ClaimResult claim_targets(const std::vector<std::string>& candidates, const std::string& owner,
                            Duration ttl, const DuePredicate& is_due) override
  {
    // The states are read inside the claim's transaction, so a target that an overlapping
    // pulse has just run is seen as not due.
    std::optional<std::map<std::string, TargetState>> states;
    return m_claims.claim("claiming targets", candidates, owner, ttl, target_claim,
                          [&](const std::string& id) {
                            if (!states) {
                              states = m_executions.read_states(&candidates);
                            }
                            TargetState state;
                            state.target_id = id;
                            if (auto it = states->find(id); it != states->end()) {
                              state = it->second;
                            }
                            return is_due(id, state);
                          });
  }
  void release_claims(const std::string& owner) override { m_claims.release_all(owner); }
  void release_target_claims(const std::string& owner,
                             const std::vector<std::string>& target_ids) override
  {
    std::vector<std::string> names;
    for (const auto& id : target_ids) {
      names.push_back(target_claim(id));
    }
    m_claims.release_names(owner, names);
  }

  std::int64_t begin_pulse(const PulseRecord& pulse) override { return m_pulses.begin(pulse); }
  void finish_pulse(const PulseRecord& pulse) override { m_pulses.finish(pulse); }
  std::optional<PulseRecord> last_pulse(PulseScope scope) override { return m_pulses.last(scope); }
  std::optional<PulseRecord> last_finished_pulse(PulseScope scope) override
  {
    return m_pulses.last_finished(scope);
  }
  void record_event(Event& event) override { m_executions.record_event(event); }

  void record_executions(std::vector<ExecutionWrite>& writes) override
  {
    m_executions.record(writes);
  }
  std::optional<TargetState> target_state(const std::string& target_id) override
  {
    return m_executions.state(target_id);
  }
  std::map<std::string, TargetState> target_states() override { return m_executions.states(); }
  std::vector<ExecutionStats> execution_stats(TimePoint since,
                                              const std::string& target_id = {}) override
  {
    return m_executions.stats(since, target_id);
  }
  std::vector<ExecutionRecord> recent_executions(const std::string& target_id, int limit,
                                                 WithResults with_results) override
  {
    return m_executions.recent(target_id, limit, with_results);
  }
  std::vector<CheckFailures> check_failures(const std::string& target_id, TimePoint since,
                                            int limit) override
  {
    return m_executions.check_failures(target_id, since, limit);
  }
  std::vector<Event> recent_events(const std::string& target_id, int limit) override
  {
    return m_executions.recent_events(target_id, limit);
  }
  std::map<std::string, int> count_events(TimePoint since,
                                          const std::vector<EventType>& types) override
  {
    return m_executions.count_events(since, types);
  }

  void sync_schedules(const std::vector<ScheduleInfo>& schedules, TimePoint now) override
  {
    m_schedules.sync(schedules, now);
  }
  std::vector<ScheduleRecord> schedules(IncludeRetired include_retired) override
  {
    return m_schedules.list(include_retired);
  }
  std::map<std::string, ScheduleState> schedule_states() override { return m_schedules.states(); }
  ClaimResult claim_tasks(const std::vector<std::string>& candidates, const std::string& owner,
                          Duration ttl, const TaskDuePredicate& is_due) override
  {
    std::optional<std::map<std::string, ScheduleState>> states;
    return m_claims.claim("claiming tasks", candidates, owner, ttl, task_claim,
                          [&](const std::string& name) {
                            if (!states) {
                              states = m_schedules.read_states();
                            }
                            ScheduleState state;
                            state.name = name;
                            if (auto it = states->find(name); it != states->end()) {
                              state = it->second;
                            }
                            return is_due(name, state);
                          });
  }
  void record_task_run(TaskRun& run, const ScheduleState& state,
                       const std::string& release_owner) override
  {
    m_schedules.record_run(run, state, release_owner);
  }
  std::vector<TaskRun> recent_task_runs(const std::string& schedule, int limit) override
  {
    return m_schedules.recent_runs(schedule, limit);
  }

  std::optional<BeatWrite> record_beat(const std::string& target_id,
                                       const std::optional<TargetInfo>& create, TimePoint now,
                                       const BeatDecider& decide) override
  {
    return m_beats.record(target_id, create, now, decide);
  }
  std::map<std::string, BeatContext> beat_contexts() override { return m_beats.contexts(); }
  std::vector<BeatWrite> refresh_beat_states(const RefreshDecider& decide) override
  {
    return m_beats.refresh(decide);
  }
  std::vector<Beat> recent_beats(const std::string& target_id, int limit) override
  {
    return m_beats.recent_beats(target_id, limit);
  }
  std::vector<JobRun> recent_job_runs(const std::string& target_id, int limit) override
  {
    return m_beats.recent_runs(target_id, limit);
  }

  void sync_notify_policy(const NotifyPolicy& policy) override { m_outbox.sync_policy(policy); }
  std::optional<NotifyPolicy> notify_policy() override { return m_outbox.policy(); }
  std::vector<OutboxItem> claim_notifications(const std::string& owner, TimePoint now,
                                              Duration ttl, int limit) override
  {
    return m_outbox.claim(owner, now, ttl, limit);
  }
  void finish_notification(const Notification& row,
                           std::vector<Notification>& follow_ups) override
  {
    m_outbox.finish(row, follow_ups);
  }
  void release_notifications(const std::string& owner) override { m_outbox.release(owner); }
  std::vector<OutboxItem> recent_notifications(const std::string& target_id, int limit) override
  {
    return m_outbox.recent(target_id, limit);
  }
  std::vector<ChannelHealth> channel_health(TimePoint since) override
  {
    return m_outbox.health(since);
  }
  std::map<std::string, NoticeMarks> notice_marks() override { return m_outbox.notice_marks(); }

  std::int64_t begin_recovery_run(const RecoveryRun& run) override
  {
    return m_recovery.begin_run(run);
  }
  void finish_recovery_run(const RecoveryRun& run) override { m_recovery.finish_run(run); }
  std::optional<RecoveryRun> last_recovery_run() override { return m_recovery.last_run(); }
  std::map<std::string, RecoveryState> recovery_states() override { return m_recovery.states(); }
  void record_recovery(RecoveryWrite& write) override { m_recovery.record(write); }
  std::vector<RecoveryAttempt> recent_recovery_attempts(const std::string& target_id,
                                                        int limit) override
  {
    return m_recovery.recent_attempts(target_id, limit);
  }
  int count_recovery_attempts(const std::string& target_id, TimePoint since) override
  {
    return m_recovery.count_attempts(target_id, since);
  }
  RecoveryCounts recovery_counts(TimePoint since) override { return m_recovery.counts(since); }
  std::map<std::string, RecoveryCounts> recovery_counts_by_target(TimePoint since) override
  {
    return m_recovery.counts_by_target(since);
  }
  std::map<std::string, health::Tally> tallies(TimePoint since, TimePoint until) override
  {
    return m_rollups.tallies(since, until);
  }
  std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>>
  hourly_tallies(TimePoint since, TimePoint until) override
  {
    return m_rollups.hourly(since, until);
  }
  std::vector<health::IncidentTimeline> incidents(TimePoint since, TimePoint now,
                                                  const std::string& target_id) override
  {
    return read_incidents(m_connection, since, now, target_id);
  }
  PruneReport prune(const Retention& retention, TimePoint now, Duration budget) override
  {
    return m_rollups.prune(retention, now, budget);
  }
  std::optional<TimePoint> last_prune() override { return m_rollups.last_prune(); }
  DatabaseInfo database_info(TimePoint now, CheckIntegrity check) override
  {
    DatabaseInfo info = read_database_info(m_connection, now, check);
    info.last_prune = m_rollups.last_prune();
    return info;
  }
  std::vector<Escalation> open_escalations() override { return m_recovery.open_escalations(); }
  std::vector<Escalation> recent_escalations(const std::string& target_id, int limit) override
  {
    return m_recovery.recent_escalations(target_id, limit);
  }
  bool claim_escalation_command(std::int64_t id, const std::string& owner, Duration ttl) override
  {
    const auto claim = m_claims.claim(
      "claiming an escalation command", {std::to_string(id)}, owner, ttl, escalation_claim,
      [&](const std::string&) {
        // Inside the claim's transaction: open, and the command has not run to its end.
        SQLite::Statement q(m_connection.db(),
                            "SELECT 1 FROM escalations WHERE id = ?1 AND resolved_at IS NULL "
                            "AND command_result = ''");
        q.bind(1, static_cast<int64_t>(id));
        return q.executeStep();
      });
    return !claim.claimed.empty();
  }
  void set_escalation_command_result(std::int64_t id, const std::string& result) override
  {
    m_recovery.set_command_result(id, result);
  }

private:
  Connection m_connection;
  Targets m_targets;
  Claims m_claims;
  Pulses m_pulses;
  Executions m_executions;
  Schedules m_schedules;
  Beats m_beats;
  Outbox m_outbox;
  Recovery m_recovery;
  Rollups m_rollups;
};

// A reader: never creates anything, and a file with nothing in it yet is "no database yet".
std::unique_ptr<Store> open_reader(const std::string& path, OpenMode mode)
{
  const auto file = locate_database(path, CreateFolders::no);
  if (!file) {
    return nullptr;
  }
  check_access(*file, Access::read);
  auto store = std::make_unique<SqliteStore>(*file, mode);
  if (is_blank(store->connection())) {
    return nullptr;
  }
  migrate(store->connection());
  warn_if_exposed(*file);
  return store;
}

// A writer: creates what is missing. A writer that finds no file, or an empty one, creates it
// under the creation lock and keeps the lock until the schema is complete; if that fails, it
// removes the files it made, so a failed creation leaves nothing behind.
std::unique_ptr<Store> open_writer(const std::string& path)
{
  const DatabaseFile file = *locate_database(path, CreateFolders::yes);
  std::optional<CreationLock> lock;
  try {
    if (file.exists) {
      check_access(file, Access::write);
    }
    if (!file.exists || file.empty) {
      lock.emplace(file);
      lock->create_file();
    }
    auto store = std::make_unique<SqliteStore>(file, OpenMode::read_write);
    migrate(store->connection());
    lock.reset();
    warn_if_exposed(file);
    return store;
  } catch (...) {
    // `store` is closed by now: nothing of SQLite's holds the files.
    if (lock) {
      lock->remove_created();
    }
    throw;
  }
}

} // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path, OpenMode mode)
{
  return mode == OpenMode::read_write ? open_writer(path) : open_reader(path, mode);
}

int sqlite_schema_version() { return schema_version(); }

} // namespace hb::store::sqlite
