// SPDX-License-Identifier: MIT
#include "store/postgres/rollups.hpp"

#include "store/rollup_tally.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <chrono>

namespace hb::store::postgres {
namespace {

health::Tally read_tally(const Result& r, int row, int first)
{
  return tally_from_columns([&](int i) { return r.int64(row, first + i); });
}

// One kind of history row to prune: the table, the condition on a row ($1 is the cutoff), and
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
   "started_at < $1 AND (target_id, started_at) NOT IN "
   "(SELECT target_id, last_execution_at FROM target_states WHERE last_execution_at IS NOT NULL)",
   &PruneReport::executions, &Retention::raw},
  {"task_runs", "id", "started_at < $1", &PruneReport::task_runs, &Retention::raw},
  {"job_runs", "id",
   "started_at < $1 AND status <> 'running' AND id NOT IN "
   "(SELECT last_run_id FROM beat_states WHERE last_run_id IS NOT NULL)",
   &PruneReport::job_runs, &Retention::raw},
  {"beats", "id", "at < $1", &PruneReport::beats, &Retention::beats},
  {"outbox", "id",
   "created_at < $1 AND state IN ('sent', 'suppressed') AND id NOT IN "
   "(SELECT max(id) FROM outbox GROUP BY target_id, channel)",
   &PruneReport::notifications, &Retention::raw},
  {"pulses", "id",
   "started_at < $1 AND id < (SELECT min(id) FROM (SELECT id FROM pulses ORDER BY id DESC "
   "LIMIT 100) AS newest)",
   &PruneReport::pulses, &Retention::raw},
  {"rollups", "", "resolution = 'hour' AND bucket < $1", &PruneReport::hourly,
   &Retention::hourly},
  {"rollups", "", "resolution = 'day' AND bucket < $1", &PruneReport::daily, &Retention::daily},
};

} // namespace

void add_to_rollups(Connection& db, const std::string& target_id, TimePoint at,
                    const health::Tally& tally)
{
  // The hour's row and the day's in one statement.
  db.exec(R"sql(
    INSERT INTO rollups (target_id, resolution, bucket, runs, down, load_sum, load_count,
                         latency_sum_ms, latency_max_ms)
    VALUES ($1, 'hour', $2, $4, $5, $6, $7, $8, $9), ($1, 'day', $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (resolution, bucket, target_id) DO UPDATE SET
      runs = rollups.runs + excluded.runs, down = rollups.down + excluded.down,
      load_sum = rollups.load_sum + excluded.load_sum,
      load_count = rollups.load_count + excluded.load_count,
      latency_sum_ms = rollups.latency_sum_ms + excluded.latency_sum_ms,
      latency_max_ms = greatest(rollups.latency_max_ms, excluded.latency_max_ms))sql",
          Params(target_id, hour_bucket(at), day_bucket(at),
                 static_cast<std::int64_t>(tally.runs), static_cast<std::int64_t>(tally.down),
                 static_cast<std::int64_t>(tally.load_sum),
                 static_cast<std::int64_t>(tally.load_count),
                 static_cast<std::int64_t>(tally.latency_sum_ms),
                 static_cast<std::int64_t>(tally.latency_max_ms)));
}

std::map<std::string, health::Tally> Rollups::tallies(TimePoint since, TimePoint until)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading roll-ups", [&] {
    std::map<std::string, health::Tally> out;
    for (const RollupRange& range : tally_ranges(since, until)) {
      const Result q = db.exec(R"sql(
        SELECT target_id, sum(runs)::bigint, sum(down)::bigint, sum(load_sum)::bigint,
               sum(load_count)::bigint, sum(latency_sum_ms)::bigint, max(latency_max_ms)
        FROM rollups WHERE resolution = $1 AND bucket >= $2 AND bucket < $3
        GROUP BY target_id)sql",
                               Params(range.resolution, range.from, range.to));
      for (int i = 0; i < q.rows(); ++i) {
        out[q.text(i, 0)] += read_tally(q, i, 1);
      }
    }
    return out;
  });
}

std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>>
Rollups::hourly(TimePoint since, TimePoint until)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading roll-ups", [&] {
    const Result q = db.exec(R"sql(
      SELECT target_id, bucket, runs, down, load_sum, load_count, latency_sum_ms, latency_max_ms
      FROM rollups WHERE resolution = 'hour' AND bucket >= $1 AND bucket < $2
      ORDER BY bucket)sql",
                             Params(hour_bucket(since), until));
    HourlySeries series;
    for (int i = 0; i < q.rows(); ++i) {
      series.add(q.view(i, 0), q.time(i, 1), read_tally(q, i, 2));
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
  Connection& db = m_connection;

  const std::int64_t prune_id = m_connection.transaction("recording a prune", [&] {
    return db.exec("INSERT INTO prunes (started_at) VALUES ($1) RETURNING id", Params(now))
      .int64(0, 0);
  });

  report.complete = true;
  for (const PruneTarget& target : k_prune_targets) {
    const std::int64_t cutoff = util::to_unix_ms(now - retention.*(target.keep));
    // The roll-ups have no id: they are deleted by their primary key instead.
    const std::string sql =
      std::string(target.table) == "rollups"
        ? fmt::format("DELETE FROM rollups WHERE (resolution, bucket, target_id) IN "
                      "(SELECT resolution, bucket, target_id FROM rollups WHERE {} LIMIT $2)",
                      target.condition)
        : fmt::format("DELETE FROM {0} WHERE {1} IN (SELECT {1} FROM {0} WHERE {2} "
                      "ORDER BY {1} LIMIT $2)",
                      target.table, target.key, target.condition);
    const auto delete_batch = [&](long long limit) {
      return m_connection.transaction("pruning history", [&] {
        return db.exec(sql, Params(cutoff, static_cast<std::int64_t>(limit))).affected();
      });
    };
    if (!delete_in_batches(report, target.count, deadline, delete_batch)) {
      report.complete = false;
      break;
    }
  }

  m_connection.transaction("recording a prune", [&] {
    db.exec("UPDATE prunes SET finished_at = $2, deleted = $3, summary = $4 WHERE id = $1",
            Params(prune_id, report.complete ? std::optional(now) : std::nullopt,
                   static_cast<std::int64_t>(report.total()), prune_summary(report)));
  });
  return report;
}

std::optional<TimePoint> Rollups::last_prune()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading the last prune", [&]() -> std::optional<TimePoint> {
    const Result q =
      db.exec("SELECT max(started_at) FROM prunes WHERE finished_at IS NOT NULL");
    return q.rows() > 0 ? q.optional_time(0, 0) : std::nullopt;
  });
}

} // namespace hb::store::postgres
