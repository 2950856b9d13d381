// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <map>
#include <string>
#include <vector>

namespace hb::store::postgres {

// Scheduled tasks, where each stands and their runs (Store::sync_schedules, schedules,
// schedule_states, record_task_run, recent_task_runs).
class Schedules {
public:
  explicit Schedules(Connection& connection) : m_connection(connection) {}

  void sync(const std::vector<ScheduleInfo>& schedules, TimePoint now);
  std::vector<ScheduleRecord> list(IncludeRetired include_retired);
  std::map<std::string, ScheduleState> states();
  // Returns every schedule's state without opening a transaction or translating errors: for
  // use inside a caller's transaction. Throws PgError.
  std::map<std::string, ScheduleState> read_states();
  void record_run(TaskRun& run, const ScheduleState& state, const std::string& release_owner);
  std::vector<TaskRun> recent_runs(const std::string& schedule, int limit);

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
