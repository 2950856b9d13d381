// SPDX-License-Identifier: MIT
#include "store/migrations.hpp"
#include "store/store.hpp"

#include "checks/metric_json.hpp"

#include "core/errors.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::store {
namespace {

constexpr int k_busy_timeout_ms = 30'000;

using util::from_unix_ms;
using util::to_unix_ms;

std::optional<TimePoint> optional_time(const SQLite::Column& column)
{
  if (column.isNull()) {
    return std::nullopt;
  }
  return from_unix_ms(column.getInt64());
}

void bind_optional_time(SQLite::Statement& statement, int index, const std::optional<TimePoint>& t)
{
  if (t) {
    statement.bind(index, static_cast<int64_t>(to_unix_ms(*t)));
  } else {
    statement.bind(index);
  }
}

std::string dump_json(const nlohmann::json& value)
{
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// FNV-1a: a stable fingerprint of the synced config, to skip rewriting unchanged targets.
std::string fingerprint(const std::string& text)
{
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", hash);
}

template <typename E>
E parse_or(std::optional<E> value, E fallback)
{
  return value ? *value : fallback;
}

nlohmann::json heartbeat_to_json(const HeartbeatInfo& h)
{
  return {{"every_ms", h.every.count()},
          {"grace_ms", h.grace.count()},
          {"degraded_after", h.degraded_after},
          {"offline_after", h.offline_after},
          {"recover_after", h.recover_after},
          {"extended_offline_after_ms", h.extended_offline_after.count()},
          {"flapping_transitions", h.flapping_transitions},
          {"flapping_window_ms", h.flapping_window.count()},
          {"schedule", h.schedule},
          {"timezone", h.timezone},
          {"max_runtime_ms", h.max_runtime.count()},
          {"active_hours", h.active_hours},
          {"new_target_grace_ms", h.new_target_grace.count()}};
}

std::optional<HeartbeatInfo> heartbeat_from_column(const SQLite::Column& column)
{
  if (column.isNull()) {
    return std::nullopt;
  }
  const auto j = nlohmann::json::parse(column.getString(), nullptr, false);
  if (!j.is_object()) {
    return std::nullopt;
  }
  HeartbeatInfo h;
  auto ms = [&](const char* key, Duration& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
      out = Duration(it->get<std::int64_t>());
    }
  };
  auto integer = [&](const char* key, int& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
      out = it->get<int>();
    }
  };
  auto text = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) {
      out = it->get<std::string>();
    }
  };
  ms("every_ms", h.every);
  ms("grace_ms", h.grace);
  integer("degraded_after", h.degraded_after);
  integer("offline_after", h.offline_after);
  integer("recover_after", h.recover_after);
  ms("extended_offline_after_ms", h.extended_offline_after);
  integer("flapping_transitions", h.flapping_transitions);
  ms("flapping_window_ms", h.flapping_window);
  text("schedule", h.schedule);
  text("timezone", h.timezone);
  ms("max_runtime_ms", h.max_runtime);
  text("active_hours", h.active_hours);
  ms("new_target_grace_ms", h.new_target_grace);
  return h;
}

void bind_optional_int(SQLite::Statement& statement, int index, const std::optional<int>& value)
{
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

constexpr const char* k_insert_event_sql = R"sql(
  INSERT INTO events (target_id, at, type, old_state, new_state, message, in_grace)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql";

// Runs `insert` (prepared from k_insert_event_sql) for `event` and assigns its id.
void insert_event(SQLite::Database& db, SQLite::Statement& insert, Event& event)
{
  insert.bind(1, event.target_id);
  insert.bind(2, static_cast<int64_t>(to_unix_ms(event.at)));
  insert.bind(3, std::string(to_string(event.type)));
  insert.bind(4, event.old_state);
  insert.bind(5, event.new_state);
  insert.bind(6, event.message);
  insert.bind(7, event.in_grace ? 1 : 0);
  insert.exec();
  insert.reset();
  event.id = db.getLastInsertRowid();
}

// The columns of `targets` read_target() expects, each prefixed with `table` ("t." in joins).
std::string target_columns(const std::string& table)
{
  std::string out;
  for (const char* column : {"id", "name", "kind", "tags", "paused", "interval_ms", "first_seen",
                             "retired_at", "stale_after_ms", "heartbeat", "origin"}) {
    out += (out.empty() ? "" : ", ") + table + column;
  }
  return out;
}
constexpr int k_target_column_count = 11;

// A target (without its checks) from the target_columns() starting at `first`.
TargetRecord read_target(SQLite::Statement& q, int first)
{
  TargetRecord r;
  r.info.id = q.getColumn(first).getString();
  r.info.name = q.getColumn(first + 1).getString();
  r.info.kind = parse_or(parse_target_kind(q.getColumn(first + 2).getString()), TargetKind::service);
  auto tags = nlohmann::json::parse(q.getColumn(first + 3).getString(), nullptr, false);
  if (tags.is_array()) {
    for (const auto& tag : tags) {
      if (tag.is_string()) {
        r.info.tags.push_back(tag.get<std::string>());
      }
    }
  }
  r.info.paused = q.getColumn(first + 4).getInt() != 0;
  r.info.interval = Duration(q.getColumn(first + 5).getInt64());
  r.first_seen = from_unix_ms(q.getColumn(first + 6).getInt64());
  r.retired_at = optional_time(q.getColumn(first + 7));
  r.info.stale_after = Duration(q.getColumn(first + 8).getInt64());
  r.info.heartbeat = heartbeat_from_column(q.getColumn(first + 9));
  r.origin = q.getColumn(first + 10).getString() == "beat" ? Origin::beat : Origin::config;
  return r;
}

class SqliteStore final : public Store {
public:
  SqliteStore(std::string path, OpenMode mode);

  void sync_targets(const std::vector<TargetInfo>& targets, TimePoint now) override;
  std::vector<TargetRecord> targets(IncludeRetired include_retired) override;
  ClaimResult claim_targets(const std::vector<std::string>& candidates, const std::string& owner,
                            TimePoint now, TimePoint expires, const DuePredicate& is_due) override;
  void release_claims(const std::string& owner) override;
  std::int64_t begin_pulse(const PulseRecord& pulse) override;
  void finish_pulse(const PulseRecord& pulse) override;
  std::optional<PulseRecord> last_pulse(PulseScope scope) override;
  std::optional<PulseRecord> last_finished_pulse(PulseScope scope) override;
  void record_event(Event& event) override;
  void record_executions(std::vector<ExecutionWrite>& writes) override;
  std::optional<TargetState> target_state(const std::string& target_id) override;
  std::map<std::string, TargetState> target_states() override;
  std::vector<ExecutionStats> execution_stats(TimePoint since) override;
  std::vector<ExecutionRecord> recent_executions(const std::string& target_id, int limit,
                                                 WithResults with_results) override;
  std::vector<Event> recent_events(const std::string& target_id, int limit) override;
  void sync_schedules(const std::vector<ScheduleInfo>& schedules, TimePoint now) override;
  std::vector<ScheduleRecord> schedules(IncludeRetired include_retired) override;
  std::map<std::string, ScheduleState> schedule_states() override;
  ClaimResult claim_tasks(const std::vector<std::string>& candidates, const std::string& owner,
                          TimePoint now, TimePoint expires,
                          const TaskDuePredicate& is_due) override;
  void record_task_run(TaskRun& run, const ScheduleState& state,
                       const std::string& release_owner) override;
  std::vector<TaskRun> recent_task_runs(const std::string& schedule, int limit) override;
  std::optional<BeatWrite> record_beat(const std::string& target_id,
                                       const std::optional<TargetInfo>& create, TimePoint now,
                                       const BeatDecider& decide) override;
  std::map<std::string, BeatContext> beat_contexts() override;
  std::vector<BeatWrite> refresh_beat_states(const RefreshDecider& decide) override;
  std::vector<Beat> recent_beats(const std::string& target_id, int limit) override;
  std::vector<JobRun> recent_job_runs(const std::string& target_id, int limit) override;
  std::map<std::string, int> count_events(TimePoint since, const std::vector<EventType>& types) override;

private:
  // Runs `fn`, turning SQLite failures into hb errors that name the database and the operation.
  template <typename Fn>
  auto guarded(const char* operation, Fn&& fn) -> decltype(fn());

  void migrate();
  std::map<std::string, TargetState> load_states(const std::string* only_target);
  std::map<std::string, ScheduleState> load_schedule_states();
  ClaimResult claim(const char* operation, const std::string& prefix,
                    const std::vector<std::string>& candidates, const std::string& owner,
                    TimePoint now, TimePoint expires,
                    const std::function<bool(const std::string&)>& is_due);
  std::optional<PulseRecord> read_pulse(const char* where_clause);
  // Live targets that push beats with their state and last run; only `only` when set (then also
  // a live target without heartbeat settings, so the caller can say why it takes no beats).
  std::map<std::string, BeatContext> load_beat_contexts(const std::string* only);
  void create_beat_target(const TargetInfo& info, TimePoint now);
  void write_beat(BeatWrite& write);

  std::string m_path;
  std::unique_ptr<SQLite::Database> m_db;
};

template <typename Fn>
auto SqliteStore::guarded(const char* operation, Fn&& fn) -> decltype(fn())
{
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      throw TemporaryError(fmt::format("database {} is busy ({}: {}); try again", m_path,
                                       operation, e.what()));
    }
    throw StoreError(fmt::format("database {}: {} failed: {}", m_path, operation, e.what()));
  }
}

// Creates the database file with mode 0600 before SQLite opens it, so that SQLite's -wal and -shm
// files (which copy the main file's mode) are private too. Missing parent folders are created
// with mode 0700.
void create_private_file(const std::string& path)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) {
      throw StoreError(fmt::format("cannot create folder {} for the database: {}", parent.string(),
                                   ec.message()));
    }
    ::chmod(parent.c_str(), 0700);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST) {
    throw StoreError(fmt::format("cannot create database {}: {}", path, std::strerror(errno)));
  }
}

// The default VFS with one change. SQLite fsyncs the folder on a process's first commit
// whenever it opened the WAL with SQLITE_OPEN_CREATE, which it always does, so that a newly
// created WAL's directory entry is durable. The WAL persists between our short-lived processes
// (SQLITE_FCNTL_PERSIST_WAL). A WAL that holds frames was written by a commit, and that commit
// synced the folder (the WAL was new to its process, or an earlier commit had synced it): such
// a WAL is opened without CREATE, which spares every tool run one fsync under the write lock,
// half the cost of a beat. A missing or empty WAL (created by a reader that never committed, or
// truncated by a checkpoint) is opened as usual, so the next commit syncs the folder.
int open_existing_wal_without_create(sqlite3_vfs* vfs, const char* name, sqlite3_file* file,
                                     int flags, int* out_flags)
{
  auto* base = static_cast<sqlite3_vfs*>(vfs->pAppData);
  struct stat st {};
  if ((flags & SQLITE_OPEN_WAL) != 0 && (flags & SQLITE_OPEN_CREATE) != 0 && name != nullptr &&
      ::stat(name, &st) == 0 && st.st_size > 0) {
    const int rc = base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
    if (rc != SQLITE_CANTOPEN) {
      return rc;
    }
    // Removed meanwhile (say by the sqlite3 shell closing the database): create it after all.
  }
  return base->xOpen(base, name, file, flags, out_flags);
}

constexpr const char* k_vfs_name = "heartbeat-unix";

// Registers the VFS above once per process; returns its name, or "" (SQLite's default) when the
// default VFS cannot be found.
std::string heartbeat_vfs()
{
  static const std::string name = [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) {
      return std::string();
    }
    static sqlite3_vfs vfs = *base;
    vfs.pNext = nullptr;
    vfs.zName = k_vfs_name;
    vfs.pAppData = base;
    vfs.xOpen = open_existing_wal_without_create;
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? std::string(k_vfs_name) : std::string();
  }();
  return name;
}

SqliteStore::SqliteStore(std::string path, OpenMode mode) : m_path(std::move(path))
{
  if (mode == OpenMode::read_write) {
    create_private_file(m_path);
  } else if (!std::filesystem::exists(m_path)) {
    throw StoreError(fmt::format("database {} does not exist", m_path));
  }
  try {
    m_db = std::make_unique<SQLite::Database>(
      m_path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOFOLLOW, k_busy_timeout_ms, heartbeat_vfs());
  } catch (const SQLite::Exception& e) {
    if (mode != OpenMode::existing) {
      throw StoreError(fmt::format("cannot open database {}: {}", m_path, e.what()));
    }
    try {
      m_db = std::make_unique<SQLite::Database>(
        m_path, SQLite::OPEN_READONLY | SQLite::OPEN_NOFOLLOW, k_busy_timeout_ms, heartbeat_vfs());
    } catch (const SQLite::Exception& e2) {
      throw StoreError(fmt::format("cannot open database {}: {}", m_path, e2.what()));
    }
  }
  guarded("setup", [&] {
    m_db->exec("PRAGMA foreign_keys = ON");
    // FULL: a lost "failing" row after a power cut would be a missed alert.
    m_db->exec("PRAGMA synchronous = FULL");
    if (!m_db->getHandle() || sqlite3_db_readonly(m_db->getHandle(), "main") == 0) {
      m_db->exec("PRAGMA journal_mode = WAL");
      m_db->exec("PRAGMA journal_size_limit = 67108864");
    }
    // Every tool is a short-lived process, usually the only connection: by default each one
    // would checkpoint the WAL into the database and delete it when it closes, three extra
    // fsyncs per beat. Leave that to SQLite's automatic checkpoint (every 1000 pages) and keep
    // the WAL file; committed data is in the WAL, synced, either way.
    sqlite3_db_config(m_db->getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    int persist = 1;
    sqlite3_file_control(m_db->getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  });
  migrate();
}

void SqliteStore::migrate()
{
  const auto& steps = sqlite_migrations();
  const int target = static_cast<int>(steps.size());
  auto current = [&] { return m_db->execAndGet("PRAGMA user_version").getInt(); };
  const int found = guarded("reading the schema version", current);
  if (found > target) {
    throw StoreError(fmt::format(
      "database {} has schema version {}, newer than this heartbeat understands ({}); "
      "upgrade heartbeat or point --db at another file",
      m_path, found, target));
  }
  if (found == target) {
    return;
  }
  if (sqlite3_db_readonly(m_db->getHandle(), "main") == 1) {
    throw StoreError(fmt::format(
      "database {} needs a schema upgrade (version {} to {}) but is read-only here", m_path, found,
      target));
  }
  const bool migrated = guarded("migrating the schema", [&] {
    // Each step in its own IMMEDIATE transaction; re-read the version inside it because another
    // process may have migrated meanwhile.
    bool any = false;
    for (;;) {
      SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
      const int version = current();
      if (version >= target) {
        return any;
      }
      m_db->exec(std::string(steps[static_cast<std::size_t>(version)]));
      m_db->exec(fmt::format("PRAGMA user_version = {}", version + 1));
      txn.commit();
      any = true;
    }
  });
  if (migrated) {
    // A step that builds an index over a long history leaves tens of megabytes in the WAL, and
    // every later process (each is the first connection, so it rebuilds the WAL index) would
    // read all of it until the next write resets the log. Best effort: a reader may block it.
    try {
      m_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const SQLite::Exception&) {
    }
  }
}

void SqliteStore::sync_targets(const std::vector<TargetInfo>& targets, TimePoint now)
{
  nlohmann::json snapshot = nlohmann::json::array();
  for (const auto& t : targets) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : t.checks) {
      checks.push_back({c.name, c.type, to_string(c.severity), c.description});
    }
    snapshot.push_back({t.id, t.name, to_string(t.kind), t.tags, t.paused, t.interval.count(),
                        t.stale_after.count(), std::move(checks),
                        t.heartbeat ? heartbeat_to_json(*t.heartbeat) : nlohmann::json()});
  }
  const std::string hash = fingerprint(dump_json(snapshot));

  guarded("syncing targets", [&] {
    {
      SQLite::Statement read(*m_db, "SELECT value FROM meta WHERE key = 'targets_fingerprint'");
      if (read.executeStep() && read.getColumn(0).getString() == hash) {
        return;
      }
    }
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(*m_db, R"sql(
      INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                           stale_after_ms, heartbeat, origin)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, 'config')
      ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, tags = ?4, paused = ?5,
        interval_ms = ?6, retired_at = NULL, stale_after_ms = ?8, heartbeat = ?9,
        origin = 'config')sql");
    SQLite::Statement drop_checks(*m_db, "DELETE FROM checks WHERE target_id = ?1");
    // A target that comes back (re-added after retirement, or resumed after a pause) starts its
    // beats afresh: silence while it was gone or paused is not missed beats.
    SQLite::Statement restart_beats(*m_db, R"sql(
      DELETE FROM beat_states WHERE target_id = ?1 AND EXISTS (
        SELECT 1 FROM targets WHERE id = ?1 AND (retired_at IS NOT NULL OR (paused = 1 AND ?2 = 0))))sql");
    SQLite::Statement insert_check(*m_db, R"sql(
      INSERT INTO checks (target_id, name, type, severity, description, position)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
    std::set<std::string> ids;
    for (const auto& t : targets) {
      ids.insert(t.id);
      restart_beats.bind(1, t.id);
      restart_beats.bind(2, t.paused ? 1 : 0);
      restart_beats.exec();
      restart_beats.reset();
      upsert.bind(1, t.id);
      upsert.bind(2, t.name);
      upsert.bind(3, std::string(to_string(t.kind)));
      upsert.bind(4, dump_json(t.tags));
      upsert.bind(5, t.paused ? 1 : 0);
      upsert.bind(6, static_cast<int64_t>(t.interval.count()));
      upsert.bind(7, static_cast<int64_t>(to_unix_ms(now)));
      upsert.bind(8, static_cast<int64_t>(t.stale_after.count()));
      if (t.heartbeat) {
        upsert.bind(9, dump_json(heartbeat_to_json(*t.heartbeat)));
      } else {
        upsert.bind(9);
      }
      upsert.exec();
      upsert.reset();
      drop_checks.bind(1, t.id);
      drop_checks.exec();
      drop_checks.reset();
      int position = 0;
      for (const auto& c : t.checks) {
        insert_check.bind(1, t.id);
        insert_check.bind(2, c.name);
        insert_check.bind(3, c.type);
        insert_check.bind(4, std::string(to_string(c.severity)));
        insert_check.bind(5, c.description);
        insert_check.bind(6, position++);
        insert_check.exec();
        insert_check.reset();
      }
    }
    // Retire what left the config; its history stays. Targets hb-beat created are not the
    // config's to retire.
    std::vector<std::string> retired;
    {
      SQLite::Statement live(
        *m_db, "SELECT id FROM targets WHERE retired_at IS NULL AND origin = 'config'");
      while (live.executeStep()) {
        std::string id = live.getColumn(0).getString();
        if (!ids.count(id)) {
          retired.push_back(std::move(id));
        }
      }
    }
    SQLite::Statement retire(*m_db, "UPDATE targets SET retired_at = ?2 WHERE id = ?1");
    for (const auto& id : retired) {
      retire.bind(1, id);
      retire.bind(2, static_cast<int64_t>(to_unix_ms(now)));
      retire.exec();
      retire.reset();
    }
    SQLite::Statement save(*m_db, R"sql(
      INSERT INTO meta (key, value) VALUES ('targets_fingerprint', ?1)
      ON CONFLICT(key) DO UPDATE SET value = ?1)sql");
    save.bind(1, hash);
    save.exec();
    txn.commit();
  });
}

std::vector<TargetRecord> SqliteStore::targets(IncludeRetired include_retired)
{
  return guarded("reading targets", [&] {
    std::map<std::string, TargetRecord> by_id;
    std::vector<std::string> order;
    SQLite::Statement q(*m_db, "SELECT " + target_columns("") + " FROM targets"
                                 + (include_retired == IncludeRetired::yes
                                      ? ""
                                      : " WHERE retired_at IS NULL")
                                 + " ORDER BY id");
    while (q.executeStep()) {
      TargetRecord r = read_target(q, 0);
      order.push_back(r.info.id);
      by_id.emplace(r.info.id, std::move(r));
    }
    SQLite::Statement checks(*m_db, "SELECT target_id, name, type, severity, description "
                                    "FROM checks ORDER BY target_id, position");
    while (checks.executeStep()) {
      auto it = by_id.find(checks.getColumn(0).getString());
      if (it == by_id.end()) {
        continue;
      }
      CheckInfo c;
      c.name = checks.getColumn(1).getString();
      c.type = checks.getColumn(2).getString();
      c.severity = parse_or(parse_severity(checks.getColumn(3).getString()), Severity::alert);
      c.description = checks.getColumn(4).getString();
      it->second.info.checks.push_back(std::move(c));
    }
    std::vector<TargetRecord> out;
    out.reserve(order.size());
    for (const auto& id : order) {
      out.push_back(std::move(by_id.at(id)));
    }
    return out;
  });
}

ClaimResult SqliteStore::claim(const char* operation, const std::string& prefix,
                               const std::vector<std::string>& candidates,
                               const std::string& owner, TimePoint now, TimePoint expires,
                               const std::function<bool(const std::string&)>& is_due)
{
  return guarded(operation, [&] {
    ClaimResult result;
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    // Expired claims belong to runs that died; they no longer hold anything.
    SQLite::Statement expire(*m_db, "DELETE FROM leases WHERE expires_at <= ?1");
    expire.bind(1, static_cast<int64_t>(to_unix_ms(now)));
    expire.exec();

    std::set<std::string> held;
    {
      SQLite::Statement q(*m_db, "SELECT name FROM leases WHERE owner != ?1");
      q.bind(1, owner);
      while (q.executeStep()) {
        held.insert(q.getColumn(0).getString());
      }
    }
    SQLite::Statement take(*m_db, R"sql(
      INSERT INTO leases (name, owner, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)
      ON CONFLICT(name) DO UPDATE SET owner = ?2, acquired_at = ?3, expires_at = ?4)sql");
    for (const auto& id : candidates) {
      if (!is_due(id)) {
        continue;
      }
      const std::string lease = prefix + id;
      if (held.count(lease)) {
        result.held.push_back(id);
        continue;
      }
      take.bind(1, lease);
      take.bind(2, owner);
      take.bind(3, static_cast<int64_t>(to_unix_ms(now)));
      take.bind(4, static_cast<int64_t>(to_unix_ms(expires)));
      take.exec();
      take.reset();
      result.claimed.push_back(id);
    }
    txn.commit();
    return result;
  });
}

ClaimResult SqliteStore::claim_targets(const std::vector<std::string>& candidates,
                                       const std::string& owner, TimePoint now, TimePoint expires,
                                       const DuePredicate& is_due)
{
  // The states are read inside the claim's transaction (claim() opens it first), so a target
  // that an overlapping pulse has just run is seen as not due.
  std::map<std::string, TargetState> states;
  bool loaded = false;
  return claim("claiming targets", "target:", candidates, owner, now, expires,
               [&](const std::string& id) {
                 if (!loaded) {
                   states = load_states(nullptr);
                   loaded = true;
                 }
                 TargetState state;
                 state.target_id = id;
                 if (auto it = states.find(id); it != states.end()) {
                   state = it->second;
                 }
                 return is_due(id, state);
               });
}

ClaimResult SqliteStore::claim_tasks(const std::vector<std::string>& candidates,
                                     const std::string& owner, TimePoint now, TimePoint expires,
                                     const TaskDuePredicate& is_due)
{
  std::map<std::string, ScheduleState> states;
  bool loaded = false;
  return claim("claiming tasks", "task:", candidates, owner, now, expires,
               [&](const std::string& name) {
                 if (!loaded) {
                   states = load_schedule_states();
                   loaded = true;
                 }
                 ScheduleState state;
                 state.name = name;
                 if (auto it = states.find(name); it != states.end()) {
                   state = it->second;
                 }
                 return is_due(name, state);
               });
}

void SqliteStore::release_claims(const std::string& owner)
{
  guarded("releasing claims", [&] {
    SQLite::Statement q(*m_db, "DELETE FROM leases WHERE owner = ?1");
    q.bind(1, owner);
    q.exec();
  });
}

std::int64_t SqliteStore::begin_pulse(const PulseRecord& pulse)
{
  return guarded("recording the pulse start", [&] {
    SQLite::Statement q(*m_db, R"sql(
      INSERT INTO pulses (owner, started_at, status, interval_ms, deadline_ms, next_expected,
                          scheduled)
      VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6))sql");
    q.bind(1, pulse.owner);
    q.bind(2, static_cast<int64_t>(to_unix_ms(pulse.started_at)));
    q.bind(3, static_cast<int64_t>(pulse.interval.count()));
    q.bind(4, static_cast<int64_t>(pulse.deadline.count()));
    q.bind(5, static_cast<int64_t>(to_unix_ms(pulse.next_expected)));
    q.bind(6, pulse.scheduled ? 1 : 0);
    q.exec();
    return static_cast<std::int64_t>(m_db->getLastInsertRowid());
  });
}

void SqliteStore::finish_pulse(const PulseRecord& pulse)
{
  guarded("recording the pulse", [&] {
    // One commit (one fsync) for both: the pulse's end and the release of whatever it still
    // holds claimed.
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement release(*m_db, "DELETE FROM leases WHERE owner = ?1");
    release.bind(1, pulse.owner);
    release.exec();
    SQLite::Statement q(*m_db, R"sql(
      UPDATE pulses SET completed_at = ?2, status = ?3, targets_total = ?4, targets_due = ?5,
        targets_run = ?6, targets_held = ?7, checks_run = ?8, errors = ?9, message = ?10,
        next_expected = ?11, tasks_run = ?12, tasks_failed = ?13
      WHERE id = ?1)sql");
    q.bind(1, static_cast<int64_t>(pulse.id));
    bind_optional_time(q, 2, pulse.completed_at);
    q.bind(3, std::string(to_string(pulse.status)));
    q.bind(4, pulse.targets_total);
    q.bind(5, pulse.targets_due);
    q.bind(6, pulse.targets_run);
    q.bind(7, pulse.targets_held);
    q.bind(8, pulse.checks_run);
    q.bind(9, pulse.errors);
    q.bind(10, pulse.message);
    q.bind(11, static_cast<int64_t>(to_unix_ms(pulse.next_expected)));
    q.bind(12, pulse.tasks_run);
    q.bind(13, pulse.tasks_failed);
    q.exec();
    txn.commit();
  });
}

std::optional<PulseRecord> SqliteStore::read_pulse(const char* where_clause)
{
  return guarded("reading pulses", [&]() -> std::optional<PulseRecord> {
    SQLite::Statement q(*m_db, fmt::format(R"sql(
      SELECT id, owner, started_at, completed_at, status, interval_ms, deadline_ms, targets_total,
             targets_due, targets_run, targets_held, checks_run, errors, message, next_expected,
             tasks_run, tasks_failed, scheduled
      FROM pulses {} ORDER BY started_at DESC, id DESC LIMIT 1)sql",
                                           where_clause));
    if (!q.executeStep()) {
      return std::nullopt;
    }
    PulseRecord p;
    p.id = q.getColumn(0).getInt64();
    p.owner = q.getColumn(1).getString();
    p.started_at = from_unix_ms(q.getColumn(2).getInt64());
    p.completed_at = optional_time(q.getColumn(3));
    p.status = parse_or(parse_pulse_status(q.getColumn(4).getString()), PulseStatus::error);
    p.interval = Duration(q.getColumn(5).getInt64());
    p.deadline = Duration(q.getColumn(6).getInt64());
    p.targets_total = q.getColumn(7).getInt();
    p.targets_due = q.getColumn(8).getInt();
    p.targets_run = q.getColumn(9).getInt();
    p.targets_held = q.getColumn(10).getInt();
    p.checks_run = q.getColumn(11).getInt();
    p.errors = q.getColumn(12).getInt();
    p.message = q.getColumn(13).getString();
    p.next_expected = from_unix_ms(q.getColumn(14).getInt64());
    p.tasks_run = q.getColumn(15).getInt();
    p.tasks_failed = q.getColumn(16).getInt();
    p.scheduled = q.getColumn(17).getInt() != 0;
    return p;
  });
}

std::optional<PulseRecord> SqliteStore::last_pulse(PulseScope scope)
{
  return read_pulse(scope == PulseScope::scheduled ? "WHERE scheduled = 1" : "");
}

std::optional<PulseRecord> SqliteStore::last_finished_pulse(PulseScope scope)
{
  return read_pulse(scope == PulseScope::scheduled
                      ? "WHERE completed_at IS NOT NULL AND scheduled = 1"
                      : "WHERE completed_at IS NOT NULL");
}

void SqliteStore::record_event(Event& event)
{
  guarded("recording an event", [&] {
    SQLite::Statement insert(*m_db, k_insert_event_sql);
    insert_event(*m_db, insert, event);
  });
}

void SqliteStore::record_executions(std::vector<ExecutionWrite>& writes)
{
  if (writes.empty()) {
    return;
  }
  guarded("recording executions", [&] {
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert_execution(*m_db, R"sql(
      INSERT INTO executions (target_id, started_at, completed_at, trigger, forced, status, pulse_id)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql");
    SQLite::Statement insert_result(*m_db, R"sql(
      INSERT INTO check_results (execution_id, check_name, status, message, latency_ms, phase, metrics)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql");
    SQLite::Statement upsert_state(*m_db, R"sql(
      INSERT INTO target_states (target_id, health, since, consecutive_failures,
        consecutive_successes, last_execution_at, last_status, last_success_at, last_failure_at,
        last_message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
      ON CONFLICT(target_id) DO UPDATE SET health = ?2, since = ?3, consecutive_failures = ?4,
        consecutive_successes = ?5, last_execution_at = ?6, last_status = ?7,
        last_success_at = ?8, last_failure_at = ?9, last_message = ?10)sql");
    SQLite::Statement upsert_check(*m_db, R"sql(
      INSERT INTO check_states (target_id, check_name, last_status, consecutive_failures,
        consecutive_successes, confirmed, bad_since, last_message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
      ON CONFLICT(target_id, check_name) DO UPDATE SET last_status = ?3,
        consecutive_failures = ?4, consecutive_successes = ?5, confirmed = ?6, bad_since = ?7,
        last_message = ?8)sql");
    SQLite::Statement insert_events(*m_db, k_insert_event_sql);
    SQLite::Statement release(*m_db, "DELETE FROM leases WHERE name = ?1 AND owner = ?2");
    // A check removed from the config leaves no state behind.
    SQLite::Statement drop_check_states(*m_db, "DELETE FROM check_states WHERE target_id = ?1");

    for (auto& w : writes) {
      auto& e = w.execution;
      insert_execution.bind(1, e.target_id);
      insert_execution.bind(2, static_cast<int64_t>(to_unix_ms(e.started_at)));
      insert_execution.bind(3, static_cast<int64_t>(to_unix_ms(e.completed_at)));
      insert_execution.bind(4, std::string(to_string(e.trigger)));
      insert_execution.bind(5, e.forced ? 1 : 0);
      insert_execution.bind(6, std::string(to_string(e.status)));
      if (e.pulse_id) {
        insert_execution.bind(7, static_cast<int64_t>(*e.pulse_id));
      } else {
        insert_execution.bind(7);
      }
      insert_execution.exec();
      insert_execution.reset();
      e.id = m_db->getLastInsertRowid();

      for (const auto& r : e.results) {
        insert_result.bind(1, static_cast<int64_t>(e.id));
        insert_result.bind(2, r.check_name);
        insert_result.bind(3, std::string(to_string(r.status)));
        insert_result.bind(4, r.message);
        insert_result.bind(5, static_cast<int64_t>(r.latency.count()));
        insert_result.bind(6, r.phase);
        insert_result.bind(7, dump_json(checks::metrics_to_json(r.metrics)));
        insert_result.exec();
        insert_result.reset();
      }

      const auto& s = w.state;
      upsert_state.bind(1, s.target_id);
      upsert_state.bind(2, std::string(to_string(s.health)));
      bind_optional_time(upsert_state, 3, s.since);
      upsert_state.bind(4, s.consecutive_failures);
      upsert_state.bind(5, s.consecutive_successes);
      bind_optional_time(upsert_state, 6, s.last_execution_at);
      if (s.last_status) {
        upsert_state.bind(7, std::string(to_string(*s.last_status)));
      } else {
        upsert_state.bind(7);
      }
      bind_optional_time(upsert_state, 8, s.last_success_at);
      bind_optional_time(upsert_state, 9, s.last_failure_at);
      upsert_state.bind(10, s.last_message);
      upsert_state.exec();
      upsert_state.reset();

      drop_check_states.bind(1, s.target_id);
      drop_check_states.exec();
      drop_check_states.reset();
      for (const auto& c : s.checks) {
        upsert_check.bind(1, s.target_id);
        upsert_check.bind(2, c.check_name);
        upsert_check.bind(3, std::string(to_string(c.last_status)));
        upsert_check.bind(4, c.consecutive_failures);
        upsert_check.bind(5, c.consecutive_successes);
        upsert_check.bind(6, std::string(to_string(c.confirmed)));
        bind_optional_time(upsert_check, 7, c.bad_since);
        upsert_check.bind(8, c.last_message);
        upsert_check.exec();
        upsert_check.reset();
      }

      for (auto& ev : w.events) {
        insert_event(*m_db, insert_events, ev);
      }

      if (!w.release_owner.empty()) {
        release.bind(1, "target:" + e.target_id);
        release.bind(2, w.release_owner);
        release.exec();
        release.reset();
      }
    }
    txn.commit();
  });
}

std::map<std::string, TargetState> SqliteStore::load_states(const std::string* only_target)
{
  std::map<std::string, TargetState> out;
  const char* filter = only_target ? " WHERE target_id = ?1" : "";
  SQLite::Statement q(*m_db, std::string(R"sql(
    SELECT target_id, health, since, consecutive_failures, consecutive_successes,
           last_execution_at, last_status, last_success_at, last_failure_at, last_message
    FROM target_states)sql") + filter);
  if (only_target) {
    q.bind(1, *only_target);
  }
  while (q.executeStep()) {
    TargetState s;
    s.target_id = q.getColumn(0).getString();
    s.health = parse_or(parse_health(q.getColumn(1).getString()), Health::unknown);
    s.since = optional_time(q.getColumn(2));
    s.consecutive_failures = q.getColumn(3).getInt();
    s.consecutive_successes = q.getColumn(4).getInt();
    s.last_execution_at = optional_time(q.getColumn(5));
    if (!q.getColumn(6).isNull()) {
      s.last_status = parse_exec_status(q.getColumn(6).getString());
    }
    s.last_success_at = optional_time(q.getColumn(7));
    s.last_failure_at = optional_time(q.getColumn(8));
    s.last_message = q.getColumn(9).getString();
    out.emplace(s.target_id, std::move(s));
  }
  SQLite::Statement c(*m_db, std::string(R"sql(
    SELECT target_id, check_name, last_status, consecutive_failures, consecutive_successes,
           confirmed, bad_since, last_message
    FROM check_states)sql") + filter + " ORDER BY target_id, check_name");
  if (only_target) {
    c.bind(1, *only_target);
  }
  while (c.executeStep()) {
    auto it = out.find(c.getColumn(0).getString());
    if (it == out.end()) {
      continue;
    }
    CheckState cs;
    cs.check_name = c.getColumn(1).getString();
    cs.last_status = parse_or(parse_check_status(c.getColumn(2).getString()), CheckStatus::error);
    cs.consecutive_failures = c.getColumn(3).getInt();
    cs.consecutive_successes = c.getColumn(4).getInt();
    cs.confirmed = parse_or(parse_check_status(c.getColumn(5).getString()), CheckStatus::ok);
    cs.bad_since = optional_time(c.getColumn(6));
    cs.last_message = c.getColumn(7).getString();
    it->second.checks.push_back(std::move(cs));
  }
  return out;
}

std::optional<TargetState> SqliteStore::target_state(const std::string& target_id)
{
  return guarded("reading target state", [&]() -> std::optional<TargetState> {
    auto states = load_states(&target_id);
    if (states.empty()) {
      return std::nullopt;
    }
    return std::move(states.begin()->second);
  });
}

std::map<std::string, TargetState> SqliteStore::target_states()
{
  return guarded("reading target states", [&] { return load_states(nullptr); });
}

std::vector<ExecutionStats> SqliteStore::execution_stats(TimePoint since)
{
  return guarded("reading execution counts", [&] {
    std::vector<ExecutionStats> out;
    // "+target_id" keeps the grouping from steering SQLite to executions_by_target, which reads
    // the whole history in target order; executions_by_time_covering reads only the window.
    SQLite::Statement q(*m_db, R"sql(
      SELECT target_id, count(*), sum(status != 'all_clear')
      FROM executions WHERE started_at >= ?1 GROUP BY +target_id)sql");
    q.bind(1, static_cast<int64_t>(to_unix_ms(since)));
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt(), q.getColumn(2).getInt()});
    }
    return out;
  });
}

std::vector<ExecutionRecord> SqliteStore::recent_executions(const std::string& target_id,
                                                            int limit, WithResults with_results)
{
  return guarded("reading executions", [&] {
    std::vector<ExecutionRecord> out;
    SQLite::Statement q(*m_db, R"sql(
      SELECT id, target_id, started_at, completed_at, trigger, forced, status, pulse_id
      FROM executions WHERE target_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)sql");
    q.bind(1, target_id);
    q.bind(2, limit);
    while (q.executeStep()) {
      ExecutionRecord e;
      e.id = q.getColumn(0).getInt64();
      e.target_id = q.getColumn(1).getString();
      e.started_at = from_unix_ms(q.getColumn(2).getInt64());
      e.completed_at = from_unix_ms(q.getColumn(3).getInt64());
      e.trigger = parse_or(parse_trigger(q.getColumn(4).getString()), Trigger::pulse);
      e.forced = q.getColumn(5).getInt() != 0;
      e.status = parse_or(parse_exec_status(q.getColumn(6).getString()), ExecStatus::error);
      if (!q.getColumn(7).isNull()) {
        e.pulse_id = q.getColumn(7).getInt64();
      }
      out.push_back(std::move(e));
    }
    if (with_results == WithResults::yes) {
      SQLite::Statement r(*m_db, R"sql(
        SELECT check_name, status, message, latency_ms, phase, metrics
        FROM check_results WHERE execution_id = ?1 ORDER BY rowid)sql");
      for (auto& e : out) {
        r.bind(1, static_cast<int64_t>(e.id));
        while (r.executeStep()) {
          CheckResultRecord c;
          c.check_name = r.getColumn(0).getString();
          c.status = parse_or(parse_check_status(r.getColumn(1).getString()), CheckStatus::error);
          c.message = r.getColumn(2).getString();
          c.latency = Duration(r.getColumn(3).getInt64());
          c.phase = r.getColumn(4).getString();
          c.metrics = checks::metrics_from_json(nlohmann::json::parse(r.getColumn(5).getString(), nullptr, false));
          e.results.push_back(std::move(c));
        }
        r.reset();
      }
    }
    return out;
  });
}

std::vector<Event> SqliteStore::recent_events(const std::string& target_id, int limit)
{
  return guarded("reading events", [&] {
    std::vector<Event> out;
    SQLite::Statement q(*m_db, std::string(R"sql(
      SELECT id, target_id, at, type, old_state, new_state, message, in_grace FROM events)sql")
                                 + (target_id.empty() ? "" : " WHERE target_id = ?1")
                                 + " ORDER BY at DESC, id DESC LIMIT ?2");
    if (!target_id.empty()) {
      q.bind(1, target_id);
    }
    q.bind(2, limit);
    while (q.executeStep()) {
      Event e;
      e.id = q.getColumn(0).getInt64();
      e.target_id = q.getColumn(1).getString();
      e.at = from_unix_ms(q.getColumn(2).getInt64());
      e.type = parse_or(parse_event_type(q.getColumn(3).getString()), EventType::warning);
      e.old_state = q.getColumn(4).getString();
      e.new_state = q.getColumn(5).getString();
      e.message = q.getColumn(6).getString();
      e.in_grace = q.getColumn(7).getInt() != 0;
      out.push_back(std::move(e));
    }
    return out;
  });
}

void SqliteStore::sync_schedules(const std::vector<ScheduleInfo>& schedules, TimePoint now)
{
  nlohmann::json snapshot = nlohmann::json::array();
  for (const auto& sc : schedules) {
    snapshot.push_back({sc.name, sc.cron, sc.timezone, sc.target_id, sc.enabled, sc.description});
  }
  const std::string hash = fingerprint(dump_json(snapshot));
  guarded("syncing schedules", [&] {
    {
      SQLite::Statement read(*m_db, "SELECT value FROM meta WHERE key = 'schedules_fingerprint'");
      if (read.executeStep() && read.getColumn(0).getString() == hash) {
        return;
      }
    }
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(*m_db, R"sql(
      INSERT INTO schedules (name, cron, timezone, target_id, enabled, description, created_at,
                             retired_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
      ON CONFLICT(name) DO UPDATE SET cron = ?2, timezone = ?3, target_id = ?4, enabled = ?5,
        description = ?6, retired_at = NULL,
        -- A schedule that comes back or changes its timing starts afresh: fire times from
        -- before (or from the old expression) are not run.
        created_at = CASE WHEN schedules.retired_at IS NOT NULL OR schedules.cron != ?2
                            OR schedules.timezone != ?3 THEN ?7 ELSE schedules.created_at END)sql");
    std::set<std::string> names;
    for (const auto& s : schedules) {
      names.insert(s.name);
      upsert.bind(1, s.name);
      upsert.bind(2, s.cron);
      upsert.bind(3, s.timezone);
      upsert.bind(4, s.target_id);
      upsert.bind(5, s.enabled ? 1 : 0);
      upsert.bind(6, s.description);
      upsert.bind(7, static_cast<int64_t>(to_unix_ms(now)));
      upsert.exec();
      upsert.reset();
    }
    std::vector<std::string> retired;
    {
      SQLite::Statement live(*m_db, "SELECT name FROM schedules WHERE retired_at IS NULL");
      while (live.executeStep()) {
        std::string name = live.getColumn(0).getString();
        if (!names.count(name)) {
          retired.push_back(std::move(name));
        }
      }
    }
    SQLite::Statement retire(*m_db, "UPDATE schedules SET retired_at = ?2 WHERE name = ?1");
    for (const auto& name : retired) {
      retire.bind(1, name);
      retire.bind(2, static_cast<int64_t>(to_unix_ms(now)));
      retire.exec();
      retire.reset();
    }
    SQLite::Statement save(*m_db, R"sql(
      INSERT INTO meta (key, value) VALUES ('schedules_fingerprint', ?1)
      ON CONFLICT(key) DO UPDATE SET value = ?1)sql");
    save.bind(1, hash);
    save.exec();
    txn.commit();
  });
}

std::vector<ScheduleRecord> SqliteStore::schedules(IncludeRetired include_retired)
{
  return guarded("reading schedules", [&] {
    std::vector<ScheduleRecord> out;
    SQLite::Statement q(*m_db, std::string("SELECT name, cron, timezone, target_id, enabled, "
                                           "description, created_at, retired_at FROM schedules")
                                 + (include_retired == IncludeRetired::yes
                                      ? ""
                                      : " WHERE retired_at IS NULL")
                                 + " ORDER BY name");
    while (q.executeStep()) {
      ScheduleRecord r;
      r.info.name = q.getColumn(0).getString();
      r.info.cron = q.getColumn(1).getString();
      r.info.timezone = q.getColumn(2).getString();
      r.info.target_id = q.getColumn(3).getString();
      r.info.enabled = q.getColumn(4).getInt() != 0;
      r.info.description = q.getColumn(5).getString();
      r.created_at = from_unix_ms(q.getColumn(6).getInt64());
      r.retired_at = optional_time(q.getColumn(7));
      out.push_back(std::move(r));
    }
    return out;
  });
}

std::map<std::string, ScheduleState> SqliteStore::load_schedule_states()
{
  std::map<std::string, ScheduleState> out;
  SQLite::Statement q(*m_db, R"sql(
    SELECT name, covered_fire, pending_fire, attempts, retry_at, last_run_at, last_status,
           last_exit_code, last_message
    FROM schedule_states)sql");
  while (q.executeStep()) {
    ScheduleState s;
    s.name = q.getColumn(0).getString();
    s.covered_fire = optional_time(q.getColumn(1));
    s.pending_fire = optional_time(q.getColumn(2));
    s.attempts = q.getColumn(3).getInt();
    s.retry_at = optional_time(q.getColumn(4));
    s.last_run_at = optional_time(q.getColumn(5));
    s.last_status = parse_task_run_status(q.getColumn(6).getString());
    if (!q.getColumn(7).isNull()) {
      s.last_exit_code = q.getColumn(7).getInt();
    }
    s.last_message = q.getColumn(8).getString();
    out.emplace(s.name, std::move(s));
  }
  return out;
}

std::map<std::string, ScheduleState> SqliteStore::schedule_states()
{
  return guarded("reading schedule states", [&] { return load_schedule_states(); });
}

void SqliteStore::record_task_run(TaskRun& run, const ScheduleState& state,
                                  const std::string& release_owner)
{
  guarded("recording a task run", [&] {
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(*m_db, R"sql(
      INSERT INTO task_runs (schedule, fire_at, started_at, completed_at, status, exit_code,
                             attempt, message, output_tail, pulse_id)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10))sql");
    insert.bind(1, run.schedule);
    insert.bind(2, static_cast<int64_t>(to_unix_ms(run.fire_at)));
    insert.bind(3, static_cast<int64_t>(to_unix_ms(run.started_at)));
    insert.bind(4, static_cast<int64_t>(to_unix_ms(run.completed_at)));
    insert.bind(5, std::string(to_string(run.status)));
    if (run.exit_code) {
      insert.bind(6, *run.exit_code);
    } else {
      insert.bind(6);
    }
    insert.bind(7, run.attempt);
    insert.bind(8, run.message);
    insert.bind(9, run.output_tail);
    if (run.pulse_id) {
      insert.bind(10, static_cast<int64_t>(*run.pulse_id));
    } else {
      insert.bind(10);
    }
    insert.exec();
    run.id = m_db->getLastInsertRowid();

    SQLite::Statement upsert(*m_db, R"sql(
      INSERT INTO schedule_states (name, covered_fire, pending_fire, attempts, retry_at,
        last_run_at, last_status, last_exit_code, last_message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
      ON CONFLICT(name) DO UPDATE SET covered_fire = ?2, pending_fire = ?3, attempts = ?4,
        retry_at = ?5, last_run_at = ?6, last_status = ?7, last_exit_code = ?8,
        last_message = ?9)sql");
    upsert.bind(1, state.name);
    bind_optional_time(upsert, 2, state.covered_fire);
    bind_optional_time(upsert, 3, state.pending_fire);
    upsert.bind(4, state.attempts);
    bind_optional_time(upsert, 5, state.retry_at);
    bind_optional_time(upsert, 6, state.last_run_at);
    upsert.bind(7, state.last_status ? std::string(to_string(*state.last_status)) : std::string());
    if (state.last_exit_code) {
      upsert.bind(8, *state.last_exit_code);
    } else {
      upsert.bind(8);
    }
    upsert.bind(9, state.last_message);
    upsert.exec();

    if (!release_owner.empty()) {
      SQLite::Statement release(*m_db, "DELETE FROM leases WHERE name = ?1 AND owner = ?2");
      release.bind(1, "task:" + run.schedule);
      release.bind(2, release_owner);
      release.exec();
    }
    txn.commit();
  });
}

std::vector<TaskRun> SqliteStore::recent_task_runs(const std::string& schedule, int limit)
{
  return guarded("reading task runs", [&] {
    std::vector<TaskRun> out;
    SQLite::Statement q(*m_db, R"sql(
      SELECT id, schedule, fire_at, started_at, completed_at, status, exit_code, attempt, message,
             output_tail, pulse_id
      FROM task_runs WHERE schedule = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)sql");
    q.bind(1, schedule);
    q.bind(2, limit);
    while (q.executeStep()) {
      TaskRun r;
      r.id = q.getColumn(0).getInt64();
      r.schedule = q.getColumn(1).getString();
      r.fire_at = from_unix_ms(q.getColumn(2).getInt64());
      r.started_at = from_unix_ms(q.getColumn(3).getInt64());
      r.completed_at = from_unix_ms(q.getColumn(4).getInt64());
      r.status = parse_or(parse_task_run_status(q.getColumn(5).getString()), TaskRunStatus::failed);
      if (!q.getColumn(6).isNull()) {
        r.exit_code = q.getColumn(6).getInt();
      }
      r.attempt = q.getColumn(7).getInt();
      r.message = q.getColumn(8).getString();
      r.output_tail = q.getColumn(9).getString();
      if (!q.getColumn(10).isNull()) {
        r.pulse_id = q.getColumn(10).getInt64();
      }
      out.push_back(std::move(r));
    }
    return out;
  });
}

// The columns of job_runs read_job_run() expects, each prefixed with `table` ("r." in joins).
std::string job_run_columns(const std::string& table)
{
  std::string out;
  for (const char* column : {"id", "target_id", "started_at", "completed_at", "status", "exit_code",
                             "message", "output_tail", "command", "host", "pid"}) {
    out += (out.empty() ? "" : ", ") + table + column;
  }
  return out;
}

JobRun read_job_run(SQLite::Statement& q, int first)
{
  JobRun r;
  r.id = q.getColumn(first).getInt64();
  r.target_id = q.getColumn(first + 1).getString();
  r.started_at = from_unix_ms(q.getColumn(first + 2).getInt64());
  r.completed_at = optional_time(q.getColumn(first + 3));
  r.status = parse_or(parse_job_run_status(q.getColumn(first + 4).getString()), JobRunStatus::failed);
  if (!q.getColumn(first + 5).isNull()) {
    r.exit_code = q.getColumn(first + 5).getInt();
  }
  r.message = q.getColumn(first + 6).getString();
  r.output_tail = q.getColumn(first + 7).getString();
  r.command = q.getColumn(first + 8).getString();
  r.host = q.getColumn(first + 9).getString();
  r.pid = q.getColumn(first + 10).getInt();
  return r;
}

std::map<std::string, BeatContext> SqliteStore::load_beat_contexts(const std::string* only)
{
  std::map<std::string, BeatContext> out;
  // Columns: the target, then its beat state (from `k_state_at`), then its last run (`k_run_at`).
  constexpr int k_state_at = k_target_column_count;
  constexpr int k_run_at = k_state_at + 10;
  SQLite::Statement q(*m_db, fmt::format(R"sql(
    SELECT {},
           s.target_id, s.state, s.since, s.last_seen, s.last_status, s.last_message,
           s.last_metrics, s.consecutive_healthy, s.beats, s.last_run_id,
           {}
    FROM targets t
    LEFT JOIN beat_states s ON s.target_id = t.id
    LEFT JOIN job_runs r ON r.id = s.last_run_id
    WHERE t.retired_at IS NULL AND {})sql",
                                         target_columns("t."), job_run_columns("r."),
                                         only ? "t.id = ?1" : "t.heartbeat IS NOT NULL"));
  if (only) {
    q.bind(1, *only);
  }
  while (q.executeStep()) {
    BeatContext c;
    c.target = read_target(q, 0);
    const auto& info = c.target.info;
    c.state.target_id = info.id;
    if (!q.getColumn(k_state_at).isNull()) {
      c.state.state = parse_beat_phase(info.kind, q.getColumn(k_state_at + 1).getString());
      c.state.since = optional_time(q.getColumn(k_state_at + 2));
      c.state.last_seen = optional_time(q.getColumn(k_state_at + 3));
      if (!q.getColumn(k_state_at + 4).isNull()) {
        c.state.last_status = parse_beat_status(q.getColumn(k_state_at + 4).getString());
      }
      c.state.last_message = q.getColumn(k_state_at + 5).getString();
      c.state.last_metrics = checks::metrics_from_json(
        nlohmann::json::parse(q.getColumn(k_state_at + 6).getString(), nullptr, false));
      c.state.consecutive_healthy = q.getColumn(k_state_at + 7).getInt();
      c.state.beats = q.getColumn(k_state_at + 8).getInt64();
      if (!q.getColumn(k_state_at + 9).isNull()) {
        c.state.last_run_id = q.getColumn(k_state_at + 9).getInt64();
      }
    }
    if (!q.getColumn(20).isNull()) {
      c.last_run = read_job_run(q, k_run_at);
    }
    out.emplace(info.id, std::move(c));
  }
  return out;
}

void SqliteStore::create_beat_target(const TargetInfo& info, TimePoint now)
{
  // Only ever called for a target that is unknown or retired: a revived one starts afresh.
  SQLite::Statement restart(*m_db, "DELETE FROM beat_states WHERE target_id = ?1");
  restart.bind(1, info.id);
  restart.exec();
  SQLite::Statement q(*m_db, R"sql(
    INSERT INTO targets (id, name, kind, tags, paused, interval_ms, first_seen, retired_at,
                         stale_after_ms, heartbeat, origin)
    VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, NULL, 0, ?6, 'beat')
    ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, tags = ?4, paused = 0, retired_at = NULL,
      heartbeat = ?6, origin = 'beat')sql");
  q.bind(1, info.id);
  q.bind(2, info.name);
  q.bind(3, std::string(to_string(info.kind)));
  q.bind(4, dump_json(info.tags));
  q.bind(5, static_cast<int64_t>(to_unix_ms(now)));
  if (info.heartbeat) {
    q.bind(6, dump_json(heartbeat_to_json(*info.heartbeat)));
  } else {
    q.bind(6);
  }
  q.exec();
  SQLite::Statement drop_checks(*m_db, "DELETE FROM checks WHERE target_id = ?1");
  drop_checks.bind(1, info.id);
  drop_checks.exec();
}

void SqliteStore::write_beat(BeatWrite& write)
{
  const std::string& id = write.state.target_id;
  if (write.run) {
    JobRun& run = *write.run;
    if (run.id == 0) {
      SQLite::Statement insert(*m_db, R"sql(
        INSERT INTO job_runs (target_id, started_at, completed_at, status, exit_code, message,
                              output_tail, command, host, pid)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10))sql");
      insert.bind(1, id);
      insert.bind(2, static_cast<int64_t>(to_unix_ms(run.started_at)));
      bind_optional_time(insert, 3, run.completed_at);
      insert.bind(4, std::string(to_string(run.status)));
      bind_optional_int(insert, 5, run.exit_code);
      insert.bind(6, run.message);
      insert.bind(7, run.output_tail);
      insert.bind(8, run.command);
      insert.bind(9, run.host);
      insert.bind(10, run.pid);
      insert.exec();
      run.id = m_db->getLastInsertRowid();
      run.target_id = id;
      write.state.last_run_id = run.id;
    } else {
      SQLite::Statement update(*m_db, R"sql(
        UPDATE job_runs SET completed_at = ?2, status = ?3, exit_code = ?4, message = ?5,
          output_tail = ?6
        WHERE id = ?1 AND target_id = ?7)sql");
      update.bind(1, static_cast<int64_t>(run.id));
      bind_optional_time(update, 2, run.completed_at);
      update.bind(3, std::string(to_string(run.status)));
      bind_optional_int(update, 4, run.exit_code);
      update.bind(5, run.message);
      update.bind(6, run.output_tail);
      update.bind(7, id);
      update.exec();
    }
  }
  if (write.beat) {
    Beat& beat = *write.beat;
    SQLite::Statement insert(*m_db, R"sql(
      INSERT INTO beats (target_id, at, status, message, metrics) VALUES (?1, ?2, ?3, ?4, ?5))sql");
    insert.bind(1, id);
    insert.bind(2, static_cast<int64_t>(to_unix_ms(beat.at)));
    insert.bind(3, std::string(to_string(beat.status)));
    insert.bind(4, beat.message);
    insert.bind(5, dump_json(checks::metrics_to_json(beat.metrics)));
    insert.exec();
    beat.id = m_db->getLastInsertRowid();
    beat.target_id = id;
  }
  const BeatState& st = write.state;
  SQLite::Statement upsert(*m_db, R"sql(
    INSERT INTO beat_states (target_id, state, since, last_seen, last_status, last_message,
      last_metrics, consecutive_healthy, beats, last_run_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT(target_id) DO UPDATE SET state = ?2, since = ?3, last_seen = ?4,
      last_status = ?5, last_message = ?6, last_metrics = ?7, consecutive_healthy = ?8,
      beats = ?9, last_run_id = ?10)sql");
  upsert.bind(1, id);
  upsert.bind(2, std::string(to_string(st.state)));
  bind_optional_time(upsert, 3, st.since);
  bind_optional_time(upsert, 4, st.last_seen);
  if (st.last_status) {
    upsert.bind(5, std::string(to_string(*st.last_status)));
  } else {
    upsert.bind(5);
  }
  upsert.bind(6, st.last_message);
  upsert.bind(7, dump_json(checks::metrics_to_json(st.last_metrics)));
  upsert.bind(8, st.consecutive_healthy);
  upsert.bind(9, static_cast<int64_t>(st.beats));
  if (st.last_run_id) {
    upsert.bind(10, static_cast<int64_t>(*st.last_run_id));
  } else {
    upsert.bind(10);
  }
  upsert.exec();
  SQLite::Statement insert_events(*m_db, k_insert_event_sql);
  for (auto& event : write.events) {
    event.target_id = id;
    insert_event(*m_db, insert_events, event);
  }
}

std::optional<BeatWrite> SqliteStore::record_beat(const std::string& target_id,
                                                  const std::optional<TargetInfo>& create,
                                                  TimePoint now, const BeatDecider& decide)
{
  return guarded("recording a beat", [&]() -> std::optional<BeatWrite> {
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    auto contexts = load_beat_contexts(&target_id);
    if (contexts.empty()) {
      if (!create) {
        return std::nullopt;
      }
      create_beat_target(*create, now);
      contexts = load_beat_contexts(&target_id);
      if (contexts.empty()) {
        throw StoreError(fmt::format("database {}: target \"{}\" vanished after it was created",
                                     m_path, target_id));
      }
    }
    BeatWrite write = decide(contexts.begin()->second);
    write.state.target_id = target_id;
    write_beat(write);
    txn.commit();
    return write;
  });
}

std::map<std::string, BeatContext> SqliteStore::beat_contexts()
{
  return guarded("reading beat states", [&] { return load_beat_contexts(nullptr); });
}

std::vector<BeatWrite> SqliteStore::refresh_beat_states(const RefreshDecider& decide)
{
  return guarded("refreshing beat states", [&] {
    std::vector<BeatWrite> writes;
    // Look first without a write lock: most of the time nothing has changed.
    bool any = false;
    for (const auto& [id, context] : load_beat_contexts(nullptr)) {
      if (decide(context)) {
        any = true;
        break;
      }
    }
    if (!any) {
      return writes;
    }
    SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& [id, context] : load_beat_contexts(nullptr)) {
      if (auto write = decide(context)) {
        write->state.target_id = id;
        write_beat(*write);
        writes.push_back(std::move(*write));
      }
    }
    txn.commit();
    return writes;
  });
}

std::vector<Beat> SqliteStore::recent_beats(const std::string& target_id, int limit)
{
  return guarded("reading beats", [&] {
    std::vector<Beat> out;
    SQLite::Statement q(*m_db, R"sql(
      SELECT id, target_id, at, status, message, metrics FROM beats
      WHERE target_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2)sql");
    q.bind(1, target_id);
    q.bind(2, limit);
    while (q.executeStep()) {
      Beat b;
      b.id = q.getColumn(0).getInt64();
      b.target_id = q.getColumn(1).getString();
      b.at = from_unix_ms(q.getColumn(2).getInt64());
      b.status = parse_or(parse_beat_status(q.getColumn(3).getString()), BeatStatus::healthy);
      b.message = q.getColumn(4).getString();
      b.metrics = checks::metrics_from_json(
        nlohmann::json::parse(q.getColumn(5).getString(), nullptr, false));
      out.push_back(std::move(b));
    }
    return out;
  });
}

std::vector<JobRun> SqliteStore::recent_job_runs(const std::string& target_id, int limit)
{
  return guarded("reading job runs", [&] {
    std::vector<JobRun> out;
    SQLite::Statement q(*m_db, fmt::format(R"sql(
      SELECT {} FROM job_runs WHERE target_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)sql",
                                           job_run_columns("")));
    q.bind(1, target_id);
    q.bind(2, limit);
    while (q.executeStep()) {
      out.push_back(read_job_run(q, 0));
    }
    return out;
  });
}

std::map<std::string, int> SqliteStore::count_events(TimePoint since,
                                                     const std::vector<EventType>& types)
{
  return guarded("counting events", [&] {
    std::map<std::string, int> out;
    // "+target_id", as in execution_stats: read the window through events_by_time rather than
    // the whole history through events_by_target.
    SQLite::Statement q(*m_db, R"sql(
      SELECT target_id, count(*) FROM events
      WHERE at >= ?1 AND type IN (SELECT value FROM json_each(?2)) AND old_state <> 'unknown'
      GROUP BY +target_id)sql");
    q.bind(1, static_cast<int64_t>(to_unix_ms(since)));
    nlohmann::json names = nlohmann::json::array();
    for (const EventType type : types) {
      names.push_back(to_string(type));
    }
    q.bind(2, names.dump());
    while (q.executeStep()) {
      out[q.getColumn(0).getString()] = q.getColumn(1).getInt();
    }
    return out;
  });
}

} // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path, OpenMode mode)
{
  return std::make_unique<SqliteStore>(path, mode);
}

int sqlite_schema_version() { return static_cast<int>(sqlite_migrations().size()); }

std::string default_database_path()
{
  if (::geteuid() == 0) {
    return "/var/lib/heartbeat/heartbeat.db";
  }
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    return std::string(state) + "/heartbeat/heartbeat.db";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/state/heartbeat/heartbeat.db";
  }
  return "heartbeat.db";
}

} // namespace hb::store
