// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// Executions with their check results, the target and check states they leave, and the events
// (Store::record_executions, target_state(s), execution_stats, recent_executions,
// record_event, recent_events, count_events, check_failures).
class Executions {
public:
  explicit Executions(Connection& connection) : m_connection(connection) {}

  void record(std::vector<ExecutionWrite>& writes);
  std::optional<TargetState> state(const std::string& target_id);
  std::map<std::string, TargetState> states();
  // Returns the states of every target (or only of those in `*only`) without opening a
  // transaction or translating errors: for use inside a caller's transaction. Throws PgError.
  std::map<std::string, TargetState> read_states(const std::vector<std::string>* only);
  std::vector<ExecutionStats> stats(TimePoint since, const std::string& target_id);
  std::vector<ExecutionRecord> recent(const std::string& target_id, int limit,
                                      WithResults with_results);
  // Records an event no execution caused (discovery_failed), in its own transaction.
  void record_event(Event& event);
  std::vector<Event> recent_events(const std::string& target_id, int limit);
  std::vector<CheckFailures> check_failures(const std::string& target_id, TimePoint since,
                                            int limit);
  std::map<std::string, int> count_events(TimePoint since, const std::vector<EventType>& types);

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
