// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/recovery.hpp"
#include "store/postgres/connection.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// What hb-recover keeps: its runs, its attempts with their steps, the per-target counters and
// escalations. A decision of hb-recover (RecoveryWrite) is written in one transaction with its
// events, through the EventWriter, so an escalation and the notification saying so commit
// together. Every call throws hb::StoreError or hb::TemporaryError.
class Recovery {
public:
  explicit Recovery(Connection& connection) : m_connection(connection) {}

  std::int64_t begin_run(const RecoveryRun& run);
  void finish_run(const RecoveryRun& run);
  std::optional<RecoveryRun> last_run();
  std::map<std::string, RecoveryState> states();
  void record(RecoveryWrite& write);
  std::vector<RecoveryAttempt> recent_attempts(const std::string& target_id, int limit);
  int count_attempts(const std::string& target_id, TimePoint since);
  RecoveryCounts counts(TimePoint since);
  std::map<std::string, RecoveryCounts> counts_by_target(TimePoint since);
  std::vector<Escalation> open_escalations();
  std::vector<Escalation> recent_escalations(const std::string& target_id, int limit);
  void set_command_result(std::int64_t id, const std::string& result);

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
