// SPDX-License-Identifier: MIT
#include "store/sqlite/migrations.hpp"

#include "core/errors.hpp"

#include <fmt/format.h>

namespace hb::store::sqlite {

const std::vector<std::string_view>& sqlite_migrations()
{
  // Times are integer milliseconds since the Unix epoch (UTC); statuses are the lowercase names
  // of the enums in core/types.hpp.
  static const std::vector<std::string_view> k_steps{
    // 1: the foundation schema.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE targets (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  kind        TEXT NOT NULL,
  tags        TEXT NOT NULL DEFAULT '[]',
  paused      INTEGER NOT NULL DEFAULT 0,
  interval_ms INTEGER NOT NULL,
  stale_after_ms INTEGER NOT NULL DEFAULT 0,
  first_seen  INTEGER NOT NULL,
  retired_at  INTEGER
) STRICT;

CREATE TABLE checks (
  target_id   TEXT NOT NULL REFERENCES targets(id),
  name        TEXT NOT NULL,
  type        TEXT NOT NULL,
  severity    TEXT NOT NULL,
  description TEXT NOT NULL,
  position    INTEGER NOT NULL,
  PRIMARY KEY (target_id, name)
) STRICT;

CREATE TABLE executions (
  id           INTEGER PRIMARY KEY,
  target_id    TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  trigger      TEXT NOT NULL,
  forced       INTEGER NOT NULL,
  status       TEXT NOT NULL,
  pulse_id     INTEGER
) STRICT;
CREATE INDEX executions_by_target ON executions(target_id, started_at);
CREATE INDEX executions_by_time ON executions(started_at);

CREATE TABLE check_results (
  execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  check_name   TEXT NOT NULL,
  status       TEXT NOT NULL,
  message      TEXT NOT NULL,
  latency_ms   INTEGER NOT NULL,
  phase        TEXT NOT NULL,
  metrics      TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (execution_id, check_name)
) STRICT;

CREATE TABLE target_states (
  target_id             TEXT PRIMARY KEY,
  health                TEXT NOT NULL,
  since                 INTEGER,
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  consecutive_successes INTEGER NOT NULL DEFAULT 0,
  last_execution_at     INTEGER,
  last_status           TEXT,
  last_success_at       INTEGER,
  last_failure_at       INTEGER,
  last_message          TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE check_states (
  target_id             TEXT NOT NULL,
  check_name            TEXT NOT NULL,
  last_status           TEXT NOT NULL,
  consecutive_failures  INTEGER NOT NULL,
  consecutive_successes INTEGER NOT NULL,
  confirmed             TEXT NOT NULL,
  bad_since             INTEGER,
  last_message          TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (target_id, check_name)
) STRICT;

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  target_id TEXT NOT NULL,
  at        INTEGER NOT NULL,
  type      TEXT NOT NULL,
  old_state TEXT NOT NULL,
  new_state TEXT NOT NULL,
  message   TEXT NOT NULL,
  in_grace  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX events_by_target ON events(target_id, at);
CREATE INDEX events_by_time ON events(at);

CREATE TABLE pulses (
  id            INTEGER PRIMARY KEY,
  owner         TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  completed_at  INTEGER,
  status        TEXT NOT NULL,
  interval_ms   INTEGER NOT NULL,
  deadline_ms   INTEGER NOT NULL,
  targets_total INTEGER NOT NULL DEFAULT 0,
  targets_due   INTEGER NOT NULL DEFAULT 0,
  targets_run   INTEGER NOT NULL DEFAULT 0,
  targets_held  INTEGER NOT NULL DEFAULT 0,
  checks_run    INTEGER NOT NULL DEFAULT 0,
  errors        INTEGER NOT NULL DEFAULT 0,
  message       TEXT NOT NULL DEFAULT '',
  next_expected INTEGER NOT NULL
) STRICT;
CREATE INDEX pulses_by_time ON pulses(started_at);

-- Claims on work with an expiry, e.g. "target:api" held by a running pulse.
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;
)sql",
    // 2: scheduled tasks.
    R"sql(
CREATE TABLE schedules (
  name        TEXT PRIMARY KEY,
  cron        TEXT NOT NULL,
  timezone    TEXT NOT NULL,
  target_id   TEXT NOT NULL DEFAULT '',
  enabled     INTEGER NOT NULL,
  description TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER
) STRICT;

-- Where each schedule stands: the latest fire time it has dealt with (run, given up or skipped),
-- and a fire time whose failed run waits for a retry.
CREATE TABLE schedule_states (
  name           TEXT PRIMARY KEY,
  covered_fire   INTEGER,
  pending_fire   INTEGER,
  attempts       INTEGER NOT NULL DEFAULT 0,
  retry_at       INTEGER,
  last_run_at    INTEGER,
  last_status    TEXT NOT NULL DEFAULT '',
  last_exit_code INTEGER,
  last_message   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE task_runs (
  id           INTEGER PRIMARY KEY,
  schedule     TEXT NOT NULL,
  fire_at      INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  status       TEXT NOT NULL,
  exit_code    INTEGER,
  attempt      INTEGER NOT NULL,
  message      TEXT NOT NULL DEFAULT '',
  output_tail  TEXT NOT NULL DEFAULT '',
  pulse_id     INTEGER
) STRICT;
CREATE INDEX task_runs_by_schedule ON task_runs(schedule, started_at);

ALTER TABLE pulses ADD COLUMN tasks_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pulses ADD COLUMN tasks_failed INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: push beats (agents and jobs).
    R"sql(
-- How a target that pushes beats is watched (JSON, NULL when it does not), and whether it came
-- from the config or from hb-beat --create (which a config sync never retires).
ALTER TABLE targets ADD COLUMN heartbeat TEXT;
ALTER TABLE targets ADD COLUMN origin TEXT NOT NULL DEFAULT 'config';

CREATE TABLE beat_states (
  target_id           TEXT PRIMARY KEY,
  state               TEXT NOT NULL,
  since               INTEGER,
  last_seen           INTEGER,
  last_status         TEXT,
  last_message        TEXT NOT NULL DEFAULT '',
  last_metrics        TEXT NOT NULL DEFAULT '[]',
  consecutive_healthy INTEGER NOT NULL DEFAULT 0,
  beats               INTEGER NOT NULL DEFAULT 0,
  last_run_id         INTEGER
) STRICT;

CREATE TABLE beats (
  id        INTEGER PRIMARY KEY,
  target_id TEXT NOT NULL,
  at        INTEGER NOT NULL,
  status    TEXT NOT NULL,
  message   TEXT NOT NULL,
  metrics   TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX beats_by_target ON beats(target_id, at);

CREATE TABLE job_runs (
  id           INTEGER PRIMARY KEY,
  target_id    TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  status       TEXT NOT NULL,
  exit_code    INTEGER,
  message      TEXT NOT NULL DEFAULT '',
  output_tail  TEXT NOT NULL DEFAULT '',
  command      TEXT NOT NULL DEFAULT '',
  host         TEXT NOT NULL DEFAULT '',
  pid          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX job_runs_by_target ON job_runs(target_id, started_at);
)sql",
    // 4: hb-status counts the last 24 hours of executions per target. A covering index on the
    // time lets it read only those rows (57,600 for 200 targets every 5 minutes), whatever the
    // length of the history; executions_by_time(started_at) is a prefix of it.
    R"sql(
CREATE INDEX executions_by_time_covering ON executions(started_at, target_id, status);
DROP INDEX executions_by_time;
)sql",
    // 5: whether a pulse was the scheduler's full pulse, or one narrowed by --target/--tag or
    // forced with --force: only full scheduled pulses say whether the scheduler still runs us.
    // Pulses recorded before this step count as scheduled.
    R"sql(
ALTER TABLE pulses ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 1;
)sql",
    // 6: a check result's place within its execution (the check order), read back in that order
    // rather than by rowid, which no other backend has. Existing rows were inserted in check
    // order, so their rowid order gives their position.
    R"sql(
ALTER TABLE check_results ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE check_results SET position = (
  SELECT count(*) FROM check_results earlier
  WHERE earlier.execution_id = check_results.execution_id AND earlier.rowid < check_results.rowid);
)sql",
    // 7: the notification outbox, filled by the event writer in the event's transaction, and
    // what routing said of each event (notice: routed, unrouted, suppressed, grace; '' for
    // events written before notifications existed). Rows carry their target so that "what was
    // this channel last told about this target" reads one index range.
    R"sql(
ALTER TABLE events ADD COLUMN notice TEXT NOT NULL DEFAULT '';
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  event_id        INTEGER NOT NULL,
  target_id       TEXT NOT NULL,
  channel         TEXT NOT NULL,
  state           TEXT NOT NULL,
  level           TEXT NOT NULL,
  incident_id     INTEGER NOT NULL DEFAULT 0,
  reason          TEXT NOT NULL DEFAULT '',
  flapping        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER,
  sent_at         INTEGER,
  last_error      TEXT NOT NULL DEFAULT '',
  last_error_at   INTEGER,
  provider_id     TEXT NOT NULL DEFAULT '',
  fallback_of     INTEGER NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  lease_until     INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state IN ('pending', 'held');
CREATE INDEX outbox_by_target ON outbox(target_id, channel, id);
CREATE INDEX outbox_by_event ON outbox(event_id);
CREATE INDEX outbox_by_time ON outbox(created_at);
)sql",
    // 8: hb-recover. Its runs; each attempt on a target, with its steps as a JSON array of
    // {kind, what, exit_code (null for none), output, duration_ms, result}; the counters of each
    // target that has any (backoff, the restart budget, its open escalation: 0 for none); and
    // escalations, whose `targets` is a JSON array of ids (several for a shared cause, whose
    // target_id is '').
    R"sql(
CREATE TABLE recovery_runs (
  id           INTEGER PRIMARY KEY,
  owner        TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  status       TEXT NOT NULL,
  interval_ms  INTEGER NOT NULL,
  assessed     INTEGER NOT NULL DEFAULT 0,
  unhealthy    INTEGER NOT NULL DEFAULT 0,
  attempted    INTEGER NOT NULL DEFAULT 0,
  recovered    INTEGER NOT NULL DEFAULT 0,
  failed       INTEGER NOT NULL DEFAULT 0,
  escalated    INTEGER NOT NULL DEFAULT 0,
  message      TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE recovery_attempts (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL,
  target_id    TEXT NOT NULL,
  issue        TEXT NOT NULL,
  check_name   TEXT NOT NULL DEFAULT '',
  phase        TEXT NOT NULL DEFAULT '',
  action       TEXT NOT NULL DEFAULT '',
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  result       TEXT NOT NULL,
  message      TEXT NOT NULL DEFAULT '',
  steps        TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX recovery_attempts_by_target ON recovery_attempts(target_id, started_at);
CREATE INDEX recovery_attempts_by_time ON recovery_attempts(started_at);
-- What finishing a run turns into `interrupted`.
CREATE INDEX recovery_attempts_running ON recovery_attempts(run_id) WHERE result = 'running';

CREATE TABLE recovery_state (
  target_id       TEXT PRIMARY KEY,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  next_attempt_at INTEGER,
  suspended_at    INTEGER,
  reset_at        INTEGER,
  escalation_id   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE escalations (
  id              INTEGER PRIMARY KEY,
  target_id       TEXT NOT NULL,
  cause           TEXT NOT NULL DEFAULT '',
  targets         TEXT NOT NULL DEFAULT '[]',
  opened_at       INTEGER NOT NULL,
  resolved_at     INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  summary         TEXT NOT NULL DEFAULT '',
  command_result  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX escalations_open ON escalations(opened_at) WHERE resolved_at IS NULL;
CREATE INDEX escalations_by_time ON escalations(opened_at);
)sql",
    // 9: hourly and daily roll-ups of what each target was seen doing (executions, beats,
    // finished job runs), kept up to date in the transaction that writes the raw row, so that
    // uptime and scores read a few rows per target whatever the history's length, and survive
    // the pruning of the raw rows (docs/health.md). `bucket` is the hour's or the UTC day's
    // start; `down` counts the failed observations; `load_*` the slowest check's latency over
    // its timeout in per mille. Filled here from the history already kept. `prunes` records
    // each pruning (retention) and what it deleted.
    R"sql(
CREATE TABLE rollups (
  target_id      TEXT NOT NULL,
  resolution     TEXT NOT NULL,
  bucket         INTEGER NOT NULL,
  runs           INTEGER NOT NULL DEFAULT 0,
  down           INTEGER NOT NULL DEFAULT 0,
  load_sum       INTEGER NOT NULL DEFAULT 0,
  load_count     INTEGER NOT NULL DEFAULT 0,
  latency_sum_ms INTEGER NOT NULL DEFAULT 0,
  latency_max_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (resolution, bucket, target_id)
) STRICT, WITHOUT ROWID;

INSERT INTO rollups (target_id, resolution, bucket, runs, down, latency_sum_ms, latency_max_ms)
SELECT target_id, r.resolution, started_at - started_at % r.width, count(*),
       sum(status IN ('alert', 'error')), sum(max(completed_at - started_at, 0)),
       max(max(completed_at - started_at, 0))
FROM executions, (SELECT 'hour' AS resolution, 3600000 AS width
                  UNION ALL SELECT 'day', 86400000) AS r
WHERE true
GROUP BY target_id, r.resolution, started_at - started_at % r.width
ON CONFLICT DO NOTHING;

INSERT INTO rollups (target_id, resolution, bucket, runs, down)
SELECT target_id, r.resolution, at - at % r.width, count(*), sum(status = 'failing')
FROM beats, (SELECT 'hour' AS resolution, 3600000 AS width
             UNION ALL SELECT 'day', 86400000) AS r
WHERE target_id NOT IN (SELECT id FROM targets WHERE kind = 'job')
GROUP BY target_id, r.resolution, at - at % r.width
ON CONFLICT DO UPDATE SET runs = runs + excluded.runs, down = down + excluded.down;

INSERT INTO rollups (target_id, resolution, bucket, runs, down)
SELECT target_id, r.resolution, completed_at - completed_at % r.width, count(*),
       sum(status IN ('failed', 'timed_out'))
FROM job_runs, (SELECT 'hour' AS resolution, 3600000 AS width
                UNION ALL SELECT 'day', 86400000) AS r
WHERE completed_at IS NOT NULL AND status <> 'running'
GROUP BY target_id, r.resolution, completed_at - completed_at % r.width
ON CONFLICT DO UPDATE SET runs = runs + excluded.runs, down = down + excluded.down;

-- Notifications given up on are never pruned: hb_notifications_failed_total counts them.
CREATE INDEX outbox_failed ON outbox(channel) WHERE state = 'failed';
-- A bad event's incident start (its first failing observation), for MTTD and MTTR.
ALTER TABLE events ADD COLUMN since INTEGER;
-- A check's last latency, for hb_check_latency_seconds.
ALTER TABLE check_states ADD COLUMN last_latency_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN active_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE targets ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE prunes (
  id          INTEGER PRIMARY KEY,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  deleted     INTEGER NOT NULL DEFAULT 0,
  summary     TEXT NOT NULL DEFAULT ''
) STRICT;
)sql",
    // 10: at most one open escalation per target and per shared cause, whoever opens it (two
    // hb-recover runs that overlap open it once); and each escalation's `escalated` event, whose
    // incident (PagerDuty's dedup key) its resolution ends.
    R"sql(
-- Escalations opened twice by runs that overlapped: the oldest stays open, the others are closed
-- at their own opening and the counters that named them name the one that stays.
UPDATE recovery_state SET escalation_id = (
  SELECT min(k.id) FROM escalations d JOIN escalations k
    ON k.target_id = d.target_id AND k.cause = d.cause AND k.resolved_at IS NULL
  WHERE d.id = recovery_state.escalation_id AND d.resolved_at IS NULL)
WHERE escalation_id IN (SELECT id FROM escalations WHERE resolved_at IS NULL);
UPDATE escalations SET resolved_at = opened_at
WHERE resolved_at IS NULL AND EXISTS (
  SELECT 1 FROM escalations k
  WHERE k.target_id = escalations.target_id AND k.cause = escalations.cause
    AND k.resolved_at IS NULL AND k.id < escalations.id);
CREATE UNIQUE INDEX escalations_one_open ON escalations(target_id, cause)
  WHERE resolved_at IS NULL;
ALTER TABLE escalations ADD COLUMN event_id INTEGER NOT NULL DEFAULT 0;
-- The `escalated` event of those already recorded: the n-th escalated event of the target at
-- the escalation's opening instant is the n-th escalation it opened then.
UPDATE escalations AS x SET event_id = m.event_id FROM (
  SELECT s.id, e.id AS event_id
  FROM (SELECT id, target_id, opened_at,
               row_number() OVER (PARTITION BY target_id, opened_at ORDER BY id) AS n
        FROM escalations) AS s
  JOIN (SELECT id, target_id, at,
               row_number() OVER (PARTITION BY target_id, at ORDER BY id) AS n
        FROM events WHERE type = 'escalated') AS e
    ON e.target_id = s.target_id AND e.at = s.opened_at AND e.n = s.n) AS m
WHERE x.id = m.id;
)sql",
  };
  return k_steps;
}

int schema_version() { return static_cast<int>(sqlite_migrations().size()); }

namespace {

// Throws hb::StoreError unless `found` is a schema version this binary can open: 0 (nothing yet)
// to schema_version(). A negative one was never written by heartbeat (user_version is any 32-bit
// integer another program may have set); a newer one is refused rather than damaged.
void check_version(const std::string& path, int found, int target)
{
  if (found < 0) {
    throw StoreError(fmt::format(
      "database {} has schema version {}, which is not one heartbeat wrote (it writes 1 to {}): "
      "is it heartbeat's database? point --db at another file",
      path, found, target));
  }
  if (found > target) {
    throw StoreError(fmt::format(
      "database {} has schema version {}, newer than this heartbeat understands ({}); "
      "upgrade heartbeat or point --db at another file",
      path, found, target));
  }
}

struct StoredSchema {
  int version = 0;
  int objects = 0;  // tables, indexes, ... in sqlite_master
};

// The version and the number of schema objects, read in one statement so that both come from
// the same snapshot even while another process applies a step.
StoredSchema stored_schema(Connection& connection)
{
  return connection.guarded("reading the schema version", [&] {
    SQLite::Statement query(connection.db(),
                            "SELECT (SELECT user_version FROM pragma_user_version), "
                            "(SELECT count(*) FROM sqlite_master)");
    query.executeStep();
    return StoredSchema{query.getColumn(0).getInt(), query.getColumn(1).getInt()};
  });
}

} // namespace

bool is_blank(Connection& connection)
{
  const StoredSchema schema = stored_schema(connection);
  return schema.version == 0 && schema.objects == 0;
}

void migrate(Connection& connection)
{
  const auto& steps = sqlite_migrations();
  const int target = schema_version();
  SQLite::Database& db = connection.db();
  const std::string& path = connection.path();
  auto current = [&] { return db.execAndGet("PRAGMA user_version").getInt(); };
  const StoredSchema stored = stored_schema(connection);
  const int found = stored.version;
  check_version(path, found, target);
  if (found == target) {
    return;
  }
  if (found == 0 && stored.objects != 0) {
    throw StoreError(fmt::format(
      "database {} holds tables but no heartbeat schema version: it is not heartbeat's "
      "database; point --db at another file",
      path));
  }
  if (connection.read_only()) {
    throw StoreError(fmt::format(
      "database {} needs a schema upgrade (version {} to {}) but is read-only here", path, found,
      target));
  }
  const bool migrated = connection.guarded("migrating the schema", [&] {
    // Each step in its own IMMEDIATE transaction; re-read the version once it holds the write
    // lock, because another process may have migrated meanwhile: only one applies each step.
    bool any = false;
    for (;;) {
      SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
      const int version = current();
      check_version(path, version, target);
      if (version == target) {
        return any;
      }
      db.exec(std::string(steps[static_cast<std::size_t>(version)]));
      db.exec(fmt::format("PRAGMA user_version = {}", version + 1));
      txn.commit();
      any = true;
    }
  });
  if (migrated) {
    // A step that builds an index over a long history leaves tens of megabytes in the WAL, and
    // every later process (each is the first connection, so it rebuilds the WAL index) would
    // read all of it until the next write resets the log. Best effort: a reader may block it.
    try {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const SQLite::Exception&) {
    }
  }
}

} // namespace hb::store::sqlite
