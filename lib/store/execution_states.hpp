// SPDX-License-Identifier: MIT
#pragma once

// How the target and check states an execution leaves are read back, shared by every backend:
// both store the same columns, so which column holds what, the fallback for a name this binary
// does not know, and how the check states join their target are decided here once. Each backend
// hands its rows over through StoredRow (store/row_decoding.hpp); its SQL stays its own.

#include "core/model/target.hpp"
#include "store/row_decoding.hpp"

#include <map>
#include <string>

namespace hb::store {

// Returns the target state in the columns of `row`: target_id, health, since,
// consecutive_failures, consecutive_successes, last_execution_at, last_status, last_success_at,
// last_failure_at, last_message (without its check states).
TargetState decode_target_state(const StoredRow& row);

// Appends the check state in the columns of `row` (target_id, check_name, last_status,
// consecutive_failures, consecutive_successes, confirmed, bad_since, last_message,
// last_latency_ms) to its target's state in `states`; that of a target with no state there is
// left out.
void add_check_state(std::map<std::string, TargetState>& states, const StoredRow& row);

} // namespace hb::store
