// SPDX-License-Identifier: MIT
#pragma once

// Time windows a target's health and its notifications depend on: active hours (outside them a
// target is neither checked nor expected to beat), the new-target grace (checked and recorded,
// but no alert and no recovery), quiet hours (notifications held) and maintenance windows
// (notifications suppressed). Pure functions of their arguments; time zones come from tzdata,
// UTC when unknown.

#include "core/model/active_hours.hpp"
#include "core/model/notify.hpp"
#include "core/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::health {

// Returns true when `now`, seen in `timezone` (UTC when empty or unknown), falls inside `hours`.
bool within_active_hours(const ActiveHours& hours, std::string_view timezone, TimePoint now);

// Returns the start of the active-hours window `now` falls in (yesterday's start for the
// after-midnight part of a window that wraps; a start inside a DST gap maps to the transition
// instant), or std::nullopt when `now` is outside it. Returns `unbounded` without active hours or
// with a whole-day window.
std::optional<TimePoint> active_window_start(const std::optional<ActiveHours>& hours,
                                             std::string_view timezone, TimePoint now,
                                             TimePoint unbounded);

// Returns true while a target first seen at `first_seen` is inside its new-target grace: `grace`
// is positive and less than `grace` has passed. The end instant itself is outside, and so is a
// first_seen from the future (hb::from_the_future: clock skew).
bool in_grace(TimePoint first_seen, Duration grace, TimePoint now);

// Returns the instant the quiet window `now` falls in ends, or std::nullopt when `now` is outside
// it. The window is read in its timezone and wraps past midnight like active hours; an end inside
// a DST gap maps to the transition instant, and an end that occurs twice to the pass that is
// still ahead. A whole-day window (start == end, refused by the config) is never quiet.
std::optional<TimePoint> quiet_until(const QuietHours& quiet, TimePoint now);

// One occurrence of a maintenance window: [started, ends).
struct MaintenanceHit {
  std::string name;
  TimePoint started;
  TimePoint ends;
};

// Returns true when `window` applies to the target: its id matches one of the window's
// `targets` (ids or globs), or it has one of the window's `tags`; a window that names neither
// applies to every target.
bool applies_to(const MaintenanceWindow& window, const std::string& target_id,
                const std::vector<std::string>& tags);

// Returns the occurrence of a window that applies to the target and covers `now` (the one that
// ends last when several do), or std::nullopt. A one-off window covers [start, end). A recurring
// window covers [occurrence, occurrence + duration) for its latest cron occurrence at or before
// `now`, the cron read in the window's timezone (DST as schedule::CronExpr has it; the duration
// is elapsed time). A window whose cron does not parse (a stale database row) is ignored.
std::optional<MaintenanceHit> in_maintenance(const std::vector<MaintenanceWindow>& windows,
                                             const std::string& target_id,
                                             const std::vector<std::string>& tags,
                                             TimePoint now);

// Returns the most recent occurrence of a window that applies to the target and had ended at or
// before `now` (the one that ended last), or std::nullopt: for a one-off window its [start, end)
// once `end` has passed; for a recurring window the latest occurrence that ended by `now`. An
// occurrence still running is not reported (in_maintenance() is). Lets the caller restart the
// target's heartbeat timers from the end of the window rather than blame it for the silence.
std::optional<MaintenanceHit> last_maintenance_end(const std::vector<MaintenanceWindow>& windows,
                                                   const std::string& target_id,
                                                   const std::vector<std::string>& tags,
                                                   TimePoint now);

} // namespace hb::health
