// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/retention.hpp"
#include "health/figures.hpp"
#include "store/postgres/connection.hpp"

#include <map>
#include <string>

namespace hb::store::postgres {

// Adds `tally` (one observation of `target_id` at `at`) to its hour's and its UTC day's roll-up
// rows. Called inside the transaction that writes the raw row, so both commit or neither.
void add_to_rollups(Connection& db, const std::string& target_id, TimePoint at,
                    const health::Tally& tally);

// The roll-ups: what uptime and the health score read, and the pruning of history (retention).
// Every call throws hb::StoreError or hb::TemporaryError.
class Rollups {
public:
  explicit Rollups(Connection& connection) : m_connection(connection) {}

  // Per target, the observations in [since, until): whole UTC days from the daily rows, the
  // hours at either end from the hourly rows, so that a month costs some fifty rows per target.
  // `since` and `until` are rounded down to the hour.
  std::map<std::string, health::Tally> tallies(TimePoint since, TimePoint until);

  // Per target, its hourly rows in [since, until), oldest first: the timeline strips and trends.
  std::map<std::string, std::vector<std::pair<TimePoint, health::Tally>>> hourly(TimePoint since,
                                                                                  TimePoint until);

  // Deletes history past `retention` as of `now`, in short transactions of a bounded number of
  // rows (sized so that each holds the write lock for about 50 ms), until done or until
  // `budget` has passed. Never deletes pending or held notifications, the newest notification
  // per target and channel (what each channel was last told), a job's last run, the latest
  // pulses, events, escalations or recovery records. Records the prune and, when complete, its
  // time (last_prune).
  PruneReport prune(const Retention& retention, TimePoint now, Duration budget);

  // When the last complete prune started; std::nullopt before the first.
  std::optional<TimePoint> last_prune();

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
