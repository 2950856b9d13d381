// SPDX-License-Identifier: MIT
#include "pulse/due.hpp"

#include "core/clock.hpp"
#include "health/windows.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::pulse {

Duration interval_slack(Duration interval)
{
  return std::min(Duration(interval.count() / 10), Duration(30'000));
}

DueDecision check_due(const config::Target& target, std::optional<TimePoint> last_execution,
                      TimePoint now, Force force)
{
  DueDecision decision;
  if (target.paused) {
    decision.reason = "paused";
    return decision;
  }
  if (force == Force::yes) {
    decision.due = true;
    decision.reason = "forced";
    return decision;
  }
  if (target.active_hours
      && !health::within_active_hours(*target.active_hours, target.timezone, now)) {
    decision.reason =
      fmt::format("outside active hours {} {}", target.active_hours->text(), target.timezone);
    return decision;
  }
  if (from_the_future(last_execution, now)) {
    decision.due = true;
    decision.skewed = last_execution;
    decision.reason = "last run " + skew_text(*last_execution, now);
    return decision;
  }
  if (last_execution) {
    const TimePoint next = *last_execution + target.interval;
    if (now + interval_slack(target.interval) < next) {
      decision.reason = fmt::format("ran {}, interval {}", util::format_age(*last_execution, now),
                                    util::format_duration(target.interval));
      decision.next_run = next;
      return decision;
    }
  }
  decision.due = true;
  decision.reason = last_execution ? "interval elapsed" : "never ran";
  return decision;
}

} // namespace hb::pulse
