// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <functional>
#include <string>
#include <vector>

namespace hb::store {

// What copy_database() copied: rows per table, in copy order.
struct CopyReport {
  std::string from;  // locations as shown (no password)
  std::string to;
  struct Table {
    std::string name;
    long long rows = 0;
  };
  std::vector<Table> tables;
  int schema_version = 0;  // the target's
  Duration took{0};

  long long total() const;
};

// Copies everything heartbeat keeps (targets, states, history, roll-ups, the outbox, recovery,
// escalations, schedules, settings) from the SQLite database at `from` into the PostgreSQL
// database at `to`, so that a fleet moves without losing its uptime history. The source is
// migrated to this binary's schema first and only read; the target gets its schema created and
// must hold no heartbeat data yet. The copy is one transaction: whole or absent. The copied
// tables are then vacuumed and analysed, so the first reads have planner statistics. Claims
// (leases) are not copied: they belong to runs of the old database. `progress` is told each
// table once the copy has committed. Throws hb::UsageError for locations that are not SQLite then PostgreSQL,
// hb::DataError when the source does not exist or the target is not empty, hb::StoreError /
// hb::TemporaryError from either database.
CopyReport copy_database(const std::string& from, const std::string& to,
                         const std::function<void(const CopyReport::Table&)>& progress = {});

} // namespace hb::store
