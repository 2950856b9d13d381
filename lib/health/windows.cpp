// SPDX-License-Identifier: MIT
#include "health/windows.hpp"

#include "core/clock.hpp"

#include "schedule/zone.hpp"

#include <date/tz.h>

namespace hb::health {
namespace {

struct LocalTime {
  date::local_days day;
  int minute = 0;  // of the day, 0..1439
};

LocalTime local_time(const date::time_zone* zone, TimePoint now)
{
  const auto local = zone->to_local(now);
  const auto day = date::floor<date::days>(local);
  return {day, static_cast<int>(
                 std::chrono::duration_cast<std::chrono::minutes>(local - day).count())};
}

} // namespace

bool within_active_hours(const ActiveHours& hours, std::string_view timezone, TimePoint now)
{
  return hours.contains(local_time(schedule::locate_zone_or_utc(timezone), now).minute);
}

std::optional<TimePoint> active_window_start(const std::optional<ActiveHours>& hours,
                                             std::string_view timezone, TimePoint now,
                                             TimePoint unbounded)
{
  if (!hours || hours->start_minute == hours->end_minute) {
    return unbounded;
  }
  const auto* zone = schedule::locate_zone_or_utc(timezone);
  const LocalTime local = local_time(zone, now);
  if (!hours->contains(local.minute)) {
    return std::nullopt;
  }
  // A window that wraps past midnight and is in its after-midnight part began yesterday.
  const bool began_yesterday = local.minute < hours->start_minute;
  const auto start_local = (began_yesterday ? local.day - date::days(1) : local.day)
                           + std::chrono::minutes(hours->start_minute);
  // A start inside a DST gap maps to the transition instant.
  const auto start = zone->to_sys(start_local, date::choose::earliest);
  return std::chrono::time_point_cast<Duration>(start);
}

bool in_grace(TimePoint first_seen, Duration grace, TimePoint now)
{
  // First seen "in the future" is clock skew: not trusted to keep alerts quiet.
  return grace.count() > 0 && !from_the_future(first_seen, now) && now - first_seen < grace;
}

} // namespace hb::health
