// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hb {

// One run of hb-pulse (SPEC §2 "Pulse").
struct PulseRecord {
  std::int64_t id = 0;
  std::string owner;  // "host:pid:random", also the owner of its claims
  TimePoint started_at;
  std::optional<TimePoint> completed_at;
  PulseStatus status = PulseStatus::running;
  Duration interval{0};  // pulse.interval when it ran: staleness is derived from it
  Duration deadline{0};
  int targets_total = 0;
  int targets_due = 0;
  int targets_run = 0;
  int targets_held = 0;  // due but claimed by an overlapping pulse
  int checks_run = 0;
  int tasks_run = 0;
  int tasks_failed = 0;
  int errors = 0;
  std::string message;  // what went wrong, when status is error or interrupted
  // A full pulse as the scheduler runs it: false when narrowed (--target/--tag) or forced
  // (--force). Only scheduled pulses decide whether the system pulse is alive or stale.
  bool scheduled = true;
  TimePoint next_expected;
};

} // namespace hb
