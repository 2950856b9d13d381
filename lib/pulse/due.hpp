// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"
#include "core/types.hpp"

#include <optional>
#include <string>

namespace hb::pulse {

enum class Force { no, yes };

struct DueDecision {
  bool due = false;
  std::string reason;                // why not due: "paused", "outside active hours ...", ...
  std::optional<TimePoint> next_run; // when it will next be due, when known
  // The last execution's start when it lies in the future (clock skew): not trusted, the
  // target is due.
  std::optional<TimePoint> skewed;
};

// Decides whether `target` is due at `now` given the start of its last execution (SPEC §4.1
// step 3). Paused targets are never due, nor targets outside their active hours
// (health::within_active_hours). With Force::yes active hours and the interval are ignored. An
// interval counts as elapsed a little early (a tenth of it, at most 30 s), so that a 5-minute
// target run by a 5-minute cron is not pushed to every 10 minutes by start-up jitter. A last
// execution from the future (hb::from_the_future: clock skew) is not trusted: the target is due.
DueDecision check_due(const config::Target& target, std::optional<TimePoint> last_execution,
                      TimePoint now, Force force);

// The slack granted on an interval (see check_due).
Duration interval_slack(Duration interval);

} // namespace hb::pulse
