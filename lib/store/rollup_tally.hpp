// SPDX-License-Identifier: MIT
#pragma once

// The roll-up arithmetic and the prune bookkeeping, shared by every backend so that both put an
// observation in the same buckets, read the same rows for a span, and pace and report a prune
// the same way: only the SQL that reads and deletes the rows differs between them.

#include "core/model/retention.hpp"
#include "health/figures.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hb::store {

// Returns the start (Unix ms) of the hour of `at`: the bucket of its hourly roll-up row.
std::int64_t hour_bucket(TimePoint at);
// Returns the start (Unix ms) of the UTC day of `at`: the bucket of its daily roll-up row.
std::int64_t day_bucket(TimePoint at);

// One run of roll-up rows to sum: those of `resolution` ("hour" or "day") with a bucket in
// [from, to), in Unix ms.
struct RollupRange {
  const char* resolution;
  std::int64_t from;
  std::int64_t to;
};

// Returns the rows that hold the observations in [since, until), `since` and `until` rounded
// down to the hour: the whole UTC days inside from the daily rows, the hours before the first of
// them and after the last from the hourly rows, so that a month costs some fifty rows per target.
// Empty ranges are left out.
std::vector<RollupRange> tally_ranges(TimePoint since, TimePoint until);

// Returns the tally of a roll-up row whose six counts are read by `column(0)` to `column(5)`,
// in the order every backend selects them: runs, down, load_sum, load_count, latency_sum_ms,
// latency_max_ms. A template so that the per-row read of the hourly series stays inline.
template <class Column>
health::Tally tally_from_columns(Column column)
{
  health::Tally t;
  t.runs = column(0);
  t.down = column(1);
  t.load_sum = column(2);
  t.load_count = column(3);
  t.latency_sum_ms = column(4);
  t.latency_max_ms = column(5);
  return t;
}

// Gathers hourly roll-up rows, read in bucket order with the targets interleaved, into each
// target's series, oldest first.
class HourlySeries {
public:
  using Series = std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>>;

  // Appends the row of `target_id` for the hour starting at `bucket`.
  void add(std::string_view target_id, TimePoint bucket, const health::Tally& tally);

  // Returns the series gathered; the object is left empty.
  Series take() { return std::move(m_series); }

private:
  Series m_series;
  // The target's series is looked up with this reused key: no allocation per row.
  std::string m_key;
};

// Deletes one kind of history in batches until a batch comes back short (none left) or
// `deadline` passes. `delete_batch(limit)` deletes at most `limit` rows in one transaction and
// returns how many it deleted; the limit starts at 500 and follows the time each batch took, so
// that a transaction holds the write lock for about 50 ms. `after_batch`, when given, runs after
// each batch, outside its time (SQLite's WAL checkpoint). Adds the rows deleted to
// `report.*count` and the batches and their times to `report`. Returns false when the deadline
// cut it short.
bool delete_in_batches(PruneReport& report, long long PruneReport::*count,
                       std::chrono::steady_clock::time_point deadline,
                       const std::function<long long(long long limit)>& delete_batch,
                       const std::function<void()>& after_batch = {});

// Returns the summary a prune records: the rows deleted per kind and the batches.
std::string prune_summary(const PruneReport& report);

} // namespace hb::store
