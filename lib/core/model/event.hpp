// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <string>

namespace hb {

// A change of state, what notifications are sent for (SPEC §2).
struct Event {
  std::int64_t id = 0;  // assigned by the store
  std::string target_id;
  TimePoint at;
  EventType type = EventType::failing;
  std::string old_state;  // a Health, AgentState or JobState name
  std::string new_state;
  std::string message;
  bool in_grace = false;  // the target was inside new_target_grace: recorded, never notified
};

} // namespace hb
