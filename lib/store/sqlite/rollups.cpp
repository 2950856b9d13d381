// SPDX-License-Identifier: MIT
#include "store/sqlite/rollups.hpp"

#include "store/rollup_tally.hpp"
#include "store/sqlite/codecs.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace hb::store::sqlite {
namespace {

health::Tally read_tally(SQLite::Statement& q, int first)
{
  return tally_from_columns([&](int i) { return q.getColumn(first + i).getInt64(); });
}

// One kind of history row to prune: the table, the condition on a row (?1 is the cutoff), and
// the column that orders the deletion.
struct PruneTarget {
  const char* table;
  const char* key;
  const char* condition;
  long long PruneReport::*count;
  Duration Retention::*keep;
};

const PruneTarget k_prune_targets[] = {
  // A target's last execution stays whatever its age (a paused target's last results).
  {"executions", "id",
   "started_at < ?1 AND (target_id, started_at) NOT IN "
   "(SELECT target_id, last_execution_at FROM target_states WHERE last_execution_at IS NOT NULL)",
   &PruneReport::executions, &Retention::raw},
  {"task_runs", "id", "started_at < ?1", &PruneReport::task_runs, &Retention::raw},
  {"job_runs", "id",
   "started_at < ?1 AND status <> 'running' AND id NOT IN "
   "(SELECT last_run_id FROM beat_states WHERE last_run_id IS NOT NULL)",
   &PruneReport::job_runs, &Retention::raw},
  {"beats", "id", "at < ?1", &PruneReport::beats, &Retention::beats},
  {"outbox", "id",
   "created_at < ?1 AND state IN ('sent', 'suppressed') AND id NOT IN "
   "(SELECT max(id) FROM outbox GROUP BY target_id, channel)",
   &PruneReport::notifications, &Retention::raw},
  {"pulses", "id",
   "started_at < ?1 AND id < (SELECT min(id) FROM (SELECT id FROM pulses ORDER BY id DESC "
   "LIMIT 100))",
   &PruneReport::pulses, &Retention::raw},
  {"rollups", "rowid", "", &PruneReport::hourly, &Retention::hourly},
  {"rollups", "rowid", "", &PruneReport::daily, &Retention::daily},
};

} // namespace

void add_to_rollups(SQLite::Database& db, const std::string& target_id, TimePoint at,
                    const health::Tally& tally)
{
  SQLite::Statement upsert(db, R"sql(
    INSERT INTO rollups (target_id, resolution, bucket, runs, down, load_sum, load_count,
                         latency_sum_ms, latency_max_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT (resolution, bucket, target_id) DO UPDATE SET
      runs = runs + excluded.runs, down = down + excluded.down,
      load_sum = load_sum + excluded.load_sum, load_count = load_count + excluded.load_count,
      latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,
      latency_max_ms = max(latency_max_ms, excluded.latency_max_ms))sql");
  for (const auto& [resolution, bucket] :
       {std::pair{"hour", hour_bucket(at)}, std::pair{"day", day_bucket(at)}}) {
    upsert.bind(1, target_id);
    upsert.bind(2, resolution);
    upsert.bind(3, static_cast<int64_t>(bucket));
    upsert.bind(4, static_cast<int64_t>(tally.runs));
    upsert.bind(5, static_cast<int64_t>(tally.down));
    upsert.bind(6, static_cast<int64_t>(tally.load_sum));
    upsert.bind(7, static_cast<int64_t>(tally.load_count));
    upsert.bind(8, static_cast<int64_t>(tally.latency_sum_ms));
    upsert.bind(9, static_cast<int64_t>(tally.latency_max_ms));
    upsert.exec();
    upsert.reset();
  }
}

std::map<std::string, health::Tally> Rollups::tallies(TimePoint since, TimePoint until)
{
  return m_connection.guarded("reading roll-ups", [&] {
    std::map<std::string, health::Tally> out;
    SQLite::Statement q(m_connection.db(), R"sql(
      SELECT target_id, sum(runs), sum(down), sum(load_sum), sum(load_count),
             sum(latency_sum_ms), max(latency_max_ms)
      FROM rollups WHERE resolution = ?1 AND bucket >= ?2 AND bucket < ?3
      GROUP BY target_id)sql");
    for (const RollupRange& range : tally_ranges(since, until)) {
      q.bind(1, range.resolution);
      q.bind(2, static_cast<int64_t>(range.from));
      q.bind(3, static_cast<int64_t>(range.to));
      while (q.executeStep()) {
        out[q.getColumn(0).getString()] += read_tally(q, 1);
      }
      q.reset();
    }
    return out;
  });
}

std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>>
Rollups::hourly(TimePoint since, TimePoint until)
{
  return m_connection.guarded("reading roll-ups", [&] {
    SQLite::Statement q(m_connection.db(), R"sql(
      SELECT target_id, bucket, runs, down, load_sum, load_count, latency_sum_ms, latency_max_ms
      FROM rollups WHERE resolution = 'hour' AND bucket >= ?1 AND bucket < ?2
      ORDER BY bucket)sql");
    q.bind(1, static_cast<int64_t>(hour_bucket(since)));
    q.bind(2, static_cast<int64_t>(util::to_unix_ms(until)));
    HourlySeries series;
    while (q.executeStep()) {
      const SQLite::Column id = q.getColumn(0);
      series.add(std::string_view(id.getText(), static_cast<std::size_t>(id.getBytes())),
                 util::from_unix_ms(q.getColumn(1).getInt64()), read_tally(q, 2));
    }
    return series.take();
  });
}

PruneReport Rollups::prune(const Retention& retention, TimePoint now, Duration budget)
{
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + budget;
  PruneReport report;
  report.started_at = now;
  SQLite::Database& db = m_connection.db();

  std::int64_t prune_id = 0;
  m_connection.guarded("recording a prune", [&] {
    SQLite::Statement q(db, "INSERT INTO prunes (started_at) VALUES (?1)");
    bind_time(q, 1, now);
    q.exec();
    prune_id = db.getLastInsertRowid();
  });

  // Each batch's commit would run SQLite's automatic checkpoint (copying the WAL into the
  // database and fsyncing it), timed as part of the batch although it holds no write lock: in
  // the bench that made a 50 ms batch read as a second. The checkpoints run between the batches
  // instead, so that a batch's time is its write lock's, and automatic ones resume afterwards.
  struct ManualCheckpoints {
    SQLite::Database& db;
    explicit ManualCheckpoints(SQLite::Database& d) : db(d) { db.exec("PRAGMA wal_autocheckpoint = 0"); }
    ~ManualCheckpoints()
    {
      try {
        db.exec("PRAGMA wal_autocheckpoint = 1000");
      } catch (const SQLite::Exception&) {
        // The connection keeps running without automatic checkpoints; the next one opened has them.
      }
    }
    ManualCheckpoints(const ManualCheckpoints&) = delete;
    ManualCheckpoints& operator=(const ManualCheckpoints&) = delete;
  };
  const ManualCheckpoints manual(db);
  auto checkpoint = [&] {
    const auto t0 = SteadyClock::now();
    // PASSIVE: copies what no reader still needs, never waits for or blocks anyone.
    m_connection.guarded("checkpointing the WAL", [&] { db.exec("PRAGMA wal_checkpoint(PASSIVE)"); });
    report.longest_checkpoint = std::max(
        report.longest_checkpoint, std::chrono::duration_cast<Duration>(SteadyClock::now() - t0));
  };

  report.complete = true;
  for (const PruneTarget& target : k_prune_targets) {
    const std::int64_t cutoff = util::to_unix_ms(now - retention.*(target.keep));
    std::string condition = target.condition;
    if (target.count == &PruneReport::hourly) {
      condition = "resolution = 'hour' AND bucket < ?1";
    } else if (target.count == &PruneReport::daily) {
      condition = "resolution = 'day' AND bucket < ?1";
    }
    // WITHOUT ROWID: the roll-ups are deleted by their primary key range instead.
    const std::string sql =
        std::string(target.table) == "rollups"
            ? fmt::format("DELETE FROM rollups WHERE (resolution, bucket, target_id) IN "
                          "(SELECT resolution, bucket, target_id FROM rollups WHERE {} LIMIT ?2)",
                          condition)
            : fmt::format("DELETE FROM {0} WHERE {1} IN (SELECT {1} FROM {0} WHERE {2} "
                          "ORDER BY {1} LIMIT ?2)",
                          target.table, target.key, condition);
    const auto delete_batch = [&](long long limit) {
      return m_connection.guarded("pruning history", [&] {
        SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement del(db, sql);
        del.bind(1, static_cast<int64_t>(cutoff));
        del.bind(2, static_cast<int64_t>(limit));
        const long long n = del.exec();
        txn.commit();
        return n;
      });
    };
    if (!delete_in_batches(report, target.count, deadline, delete_batch, checkpoint)) {
      report.complete = false;
      break;
    }
  }

  m_connection.guarded("recording a prune", [&] {
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(db, "UPDATE prunes SET finished_at = ?2, deleted = ?3, summary = ?4 "
                            "WHERE id = ?1");
    q.bind(1, static_cast<int64_t>(prune_id));
    if (report.complete) {
      bind_time(q, 2, now);
    } else {
      q.bind(2);
    }
    q.bind(3, static_cast<int64_t>(report.total()));
    // The checkpoints between the batches are SQLite's alone.
    q.bind(4, prune_summary(report) + fmt::format(", longest checkpoint {} ms",
                                                  report.longest_checkpoint.count()));
    q.exec();
    txn.commit();
  });
  return report;
}

std::optional<TimePoint> Rollups::last_prune()
{
  return m_connection.guarded("reading the last prune", [&]() -> std::optional<TimePoint> {
    SQLite::Statement q(m_connection.db(),
                        "SELECT max(started_at) FROM prunes WHERE finished_at IS NOT NULL");
    if (q.executeStep() && !q.getColumn(0).isNull()) {
      return util::from_unix_ms(q.getColumn(0).getInt64());
    }
    return std::nullopt;
  });
}

} // namespace hb::store::sqlite
