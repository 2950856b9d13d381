// SPDX-License-Identifier: MIT
#pragma once

#include "health/figures.hpp"
#include "store/postgres/connection.hpp"

#include <string>
#include <vector>

namespace hb::store::postgres {

// Reads back the incidents that started in [since, now): each from its first failing result to
// the event that ended it, with its first notification sent and its first recovery action
// (docs/health.md). An incident starts with a bad event (store's notify::is_bad) of a target
// that was not already in one and ends with its next recovery event; reminders, escalations
// and clock-skew events neither start nor end one. Only `target_id`'s when it is not empty.
// Throws hb::StoreError or hb::TemporaryError.
std::vector<health::IncidentTimeline> read_incidents(Connection& connection, TimePoint since,
                                                     TimePoint now, const std::string& target_id);

} // namespace hb::store::postgres
