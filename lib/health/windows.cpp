// SPDX-License-Identifier: MIT
#include "health/windows.hpp"

#include "core/clock.hpp"

#include "schedule/cron.hpp"
#include "schedule/zone.hpp"
#include "util/text.hpp"

#include <date/tz.h>

#include <algorithm>

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

// Keeps the hit that ends last (the first of those that end together).
void keep_latest(std::optional<MaintenanceHit>& best, std::optional<MaintenanceHit> hit)
{
  if (hit && (!best || hit->ends > best->ends)) {
    best = std::move(hit);
  }
}

// The cron of a recurring window, or std::nullopt for a one-off window, a window without a
// positive duration, or a cron that does not parse (a stale database row).
std::optional<schedule::CronExpr> recurrence(const MaintenanceWindow& window)
{
  if (window.cron.empty() || window.duration <= Duration(0)) {
    return std::nullopt;
  }
  std::string error;
  return schedule::CronExpr::parse(window.cron, error);
}

MaintenanceHit hit_of(const MaintenanceWindow& window, TimePoint started, TimePoint ends)
{
  return MaintenanceHit{window.name, started, ends};
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

std::optional<TimePoint> quiet_until(const QuietHours& quiet, TimePoint now)
{
  const ActiveHours& hours = quiet.hours;
  if (hours.start_minute == hours.end_minute % (24 * 60)) {
    return std::nullopt;
  }
  const auto* zone = schedule::locate_zone_or_utc(quiet.timezone);
  const LocalTime local = local_time(zone, now);
  if (!hours.contains(local.minute)) {
    return std::nullopt;
  }
  // A window that wraps past midnight and is in its before-midnight part ends tomorrow.
  const bool ends_tomorrow =
    hours.start_minute > hours.end_minute && local.minute >= hours.start_minute;
  const auto end_local = (ends_tomorrow ? local.day + date::days(1) : local.day)
                         + std::chrono::minutes(hours.end_minute);
  // An end inside a DST gap maps to the transition instant; one in a repeated hour is the first
  // pass unless `now` is already past it (in the second pass).
  auto end = std::chrono::time_point_cast<Duration>(zone->to_sys(end_local, date::choose::earliest));
  if (end <= now) {
    end = std::chrono::time_point_cast<Duration>(zone->to_sys(end_local, date::choose::latest));
  }
  return end;
}

bool applies_to(const MaintenanceWindow& window, const std::string& target_id,
                const std::vector<std::string>& tags)
{
  if (window.targets.empty() && window.tags.empty()) {
    return true;
  }
  const bool named = std::any_of(window.targets.begin(), window.targets.end(),
                                 [&](const std::string& p) { return util::glob_match(p, target_id); });
  const bool tagged = std::any_of(window.tags.begin(), window.tags.end(), [&](const std::string& t) {
    return std::find(tags.begin(), tags.end(), t) != tags.end();
  });
  return named || tagged;
}

std::optional<MaintenanceHit> in_maintenance(const std::vector<MaintenanceWindow>& windows,
                                             const std::string& target_id,
                                             const std::vector<std::string>& tags, TimePoint now)
{
  std::optional<MaintenanceHit> best;
  for (const auto& window : windows) {
    if (!applies_to(window, target_id, tags)) {
      continue;
    }
    if (window.cron.empty()) {
      if (window.start && window.end && *window.start <= now && now < *window.end) {
        keep_latest(best, hit_of(window, *window.start, *window.end));
      }
      continue;
    }
    const auto cron = recurrence(window);
    if (!cron) {
      continue;
    }
    const auto occurrence =
      cron->last_at_or_before(now, schedule::locate_zone_or_utc(window.timezone));
    if (occurrence && now < *occurrence + window.duration) {
      keep_latest(best, hit_of(window, *occurrence, *occurrence + window.duration));
    }
  }
  return best;
}

std::optional<MaintenanceHit> last_maintenance_end(const std::vector<MaintenanceWindow>& windows,
                                                   const std::string& target_id,
                                                   const std::vector<std::string>& tags,
                                                   TimePoint now)
{
  std::optional<MaintenanceHit> best;
  for (const auto& window : windows) {
    if (!applies_to(window, target_id, tags)) {
      continue;
    }
    if (window.cron.empty()) {
      if (window.start && window.end && *window.end <= now) {
        keep_latest(best, hit_of(window, *window.start, *window.end));
      }
      continue;
    }
    const auto cron = recurrence(window);
    if (!cron) {
      continue;
    }
    // The latest occurrence that had ended by now started at least `duration` ago.
    const auto occurrence = cron->last_at_or_before(
      now - window.duration, schedule::locate_zone_or_utc(window.timezone));
    if (occurrence) {
      keep_latest(best, hit_of(window, *occurrence, *occurrence + window.duration));
    }
  }
  return best;
}

bool in_grace(TimePoint first_seen, Duration grace, TimePoint now)
{
  // First seen "in the future" is clock skew: not trusted to keep alerts quiet.
  return grace.count() > 0 && !from_the_future(first_seen, now) && now - first_seen < grace;
}

} // namespace hb::health
