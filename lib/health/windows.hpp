// SPDX-License-Identifier: MIT
#pragma once

// Time windows a target's health depends on: active hours (outside them a target is neither
// checked nor expected to beat) and the new-target grace (checked and recorded, but no alert and
// no recovery). Pure functions of their arguments; time zones come from tzdata, UTC when unknown.

#include "core/model/active_hours.hpp"
#include "core/types.hpp"

#include <optional>
#include <string_view>

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

} // namespace hb::health
