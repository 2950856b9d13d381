// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <vector>

namespace hb::store::postgres {

// Targets and their checks, as synced from the config (Store::sync_targets, Store::targets).
class Targets {
public:
  explicit Targets(Connection& connection) : m_connection(connection) {}

  void sync(const std::vector<TargetInfo>& targets, TimePoint now);
  std::vector<TargetRecord> list(IncludeRetired include_retired);

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
