// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>
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
  // A bad event of a target with checks: the first failing observation of its streak (the
  // incident's start, for MTTD and MTTR); none where the failure is a silence.
  std::optional<TimePoint> since;
  // `escalated` and `escalation_resolved`: the escalation opened or resolved, whose PagerDuty
  // incident the event belongs to (set by the store's recovery write; not kept with the event).
  std::int64_t escalation_id = 0;
};

} // namespace hb
