// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>

namespace hb::store::postgres {

// Runs of hb-pulse (Store::begin_pulse, finish_pulse, last_pulse, last_finished_pulse).
class Pulses {
public:
  explicit Pulses(Connection& connection) : m_connection(connection) {}

  std::int64_t begin(const PulseRecord& pulse);
  // Records the end and drops the claims of pulse.owner, in one transaction.
  void finish(const PulseRecord& pulse);
  std::optional<PulseRecord> last(PulseScope scope);
  std::optional<PulseRecord> last_finished(PulseScope scope);

private:
  std::optional<PulseRecord> read_last(const char* where_clause);

  Connection& m_connection;
};

} // namespace hb::store::postgres
