// SPDX-License-Identifier: MIT
#pragma once

// hb-status --report: what happened over a window (7 days by default), per target and for the
// fleet: uptime, incidents with their start, duration and cause, MTTD, MTTR, recovery success,
// false positives, and notifications sent and failed per channel. Read-only; the definitions
// are those of docs/health.md, over the report's window instead of the fixed ones.

#include "core/model/notify.hpp"
#include "health/figures.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hb::status {

struct ReportTarget {
  TargetInfo info;
  std::optional<double> uptime;  // over the window
  long long observations = 0;
  long long down = 0;
  health::IncidentFigures figures;
  std::vector<health::IncidentTimeline> incidents;  // oldest first
};

struct Report {
  TimePoint now;
  TimePoint since;  // now - window
  Duration window{0};
  std::vector<ReportTarget> targets;  // live targets, config order
  std::optional<double> uptime;       // over every live target's observations
  health::IncidentFigures figures;    // over every incident
  std::vector<ChannelHealth> channels;  // sent and failed within the window
};

// Reads the report of the window that ends at `now`. Throws hb::UsageError for a window that is
// not positive.
Report collect_report(store::Store& store, TimePoint now, Duration window);

} // namespace hb::status
