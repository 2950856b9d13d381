// SPDX-License-Identifier: MIT
#pragma once

// hb-status --html: the overview of hb-status with what a page can show beside it: each target's
// hourly roll-ups of the last 24 hours (its timeline strip and latency trend), the open
// incidents and the last notifications. Read-only, like collect().

#include "status/status.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hb::status {

// The hours of one target, oldest first; hours without an observation are absent.
using HourlyTallies = std::vector<std::pair<TimePoint, health::Tally>>;

// A target that is failing now: since when and why.
struct OpenIncident {
  std::string target_id;
  std::string target_name;
  std::string state;                   // "failing", "stale", "offline", "late", ...
  std::optional<TimePoint> since;      // when it went bad, when known
  std::string cause;                   // the failing check's or the beat's message
};

struct Dashboard {
  StatusReport report;
  TimePoint hours_since;                          // the first of the k_dashboard_hours, on an hour
  std::map<std::string, HourlyTallies> hours;     // by target id, from hours_since to now
  std::vector<OpenIncident> open_incidents;       // oldest first
  std::vector<OutboxItem> notifications;          // the last k_dashboard_notifications
};

// The hours of the strip and of the latency trend, the current one included (a day: a few rows
// per target, the same whatever the history's length).
inline constexpr int k_dashboard_hours = 24;
inline constexpr int k_dashboard_notifications = 10;

// Reads the overview at `now` and what the page adds to it.
Dashboard collect_dashboard(store::Store& store, TimePoint now, std::string database);

} // namespace hb::status
