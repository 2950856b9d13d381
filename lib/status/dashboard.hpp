// SPDX-License-Identifier: MIT
#pragma once

// hb-status --html: the overview of hb-status with what a page can show beside it: each target's
// hourly roll-ups of the last 7 days (its 24-hour timeline strip and latency trend), the open
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
  TimePoint trend_since;                          // now - k_trend_window, on an hour
  std::map<std::string, HourlyTallies> hours;     // by target id, over the trend window
  std::vector<OpenIncident> open_incidents;       // oldest first
  std::vector<OutboxItem> notifications;          // the last k_dashboard_notifications
};

inline constexpr Duration k_trend_window{7LL * 86'400'000};
inline constexpr int k_dashboard_notifications = 10;

// Reads the overview at `now` and what the page adds to it.
Dashboard collect_dashboard(store::Store& store, TimePoint now, std::string database);

} // namespace hb::status
