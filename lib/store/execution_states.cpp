// SPDX-License-Identifier: MIT
#include "store/execution_states.hpp"

#include <utility>

namespace hb::store {

TargetState decode_target_state(const StoredRow& row)
{
  TargetState s;
  s.target_id = row.text(0);
  s.health = parse_or(parse_health(row.text(1)), Health::unknown);
  s.since = row.optional_time(2);
  s.consecutive_failures = row.integer(3);
  s.consecutive_successes = row.integer(4);
  s.last_execution_at = row.optional_time(5);
  if (!row.is_null(6)) {
    s.last_status = parse_exec_status(row.text(6));
  }
  s.last_success_at = row.optional_time(7);
  s.last_failure_at = row.optional_time(8);
  s.last_message = row.text(9);
  return s;
}

void add_check_state(std::map<std::string, TargetState>& states, const StoredRow& row)
{
  auto it = states.find(row.text(0));
  if (it == states.end()) {
    return;
  }
  CheckState cs;
  cs.check_name = row.text(1);
  cs.last_status = parse_or(parse_check_status(row.text(2)), CheckStatus::error);
  cs.consecutive_failures = row.integer(3);
  cs.consecutive_successes = row.integer(4);
  cs.confirmed = parse_or(parse_check_status(row.text(5)), CheckStatus::ok);
  cs.bad_since = row.optional_time(6);
  cs.last_message = row.text(7);
  cs.last_latency = Duration(row.int64(8));
  it->second.checks.push_back(std::move(cs));
}

} // namespace hb::store
