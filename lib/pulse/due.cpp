// SPDX-License-Identifier: MIT
#include "pulse/due.hpp"

#include "util/duration.hpp"
#include "util/time.hpp"

#include <date/tz.h>
#include <fmt/format.h>

namespace hb::pulse {
namespace {

int local_minute_of_day(const std::string& timezone, TimePoint now)
{
  const auto* zone = date::locate_zone(timezone);
  const auto local = zone->to_local(now);
  const auto day = date::floor<date::days>(local);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
}

} // namespace

Duration interval_slack(Duration interval)
{
  return std::min(Duration(interval.count() / 10), Duration(30'000));
}

bool within_active_hours(const config::ActiveHours& hours, const std::string& timezone,
                         TimePoint now)
{
  return hours.contains(local_minute_of_day(timezone, now));
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
  if (target.active_hours && !within_active_hours(*target.active_hours, target.timezone, now)) {
    decision.reason =
      fmt::format("outside active hours {} {}", target.active_hours->text(), target.timezone);
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
