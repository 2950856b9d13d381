// SPDX-License-Identifier: MIT
#pragma once

#include "util/time.hpp"

#include <memory>
#include <optional>
#include <string>

namespace hb {

// Clock skew (SPEC §2): a stored time more than this ahead of the clock was written by a clock
// that was wrong, or this one is now (a VM snapshot restored, the RTC drifted, NTP stepped it
// back). Such a time is reported and never trusted: a last run "in the future" does not make a
// target not due, a pulse "in the future" is not alive. The tolerance covers the few seconds
// by which the clocks of a fleet's hosts disagree.
inline constexpr Duration k_clock_skew_tolerance{60'000};

// Whether `stored` is ahead of `now` by more than k_clock_skew_tolerance.
bool from_the_future(TimePoint stored, TimePoint now);
bool from_the_future(const std::optional<TimePoint>& stored, TimePoint now);

// "dated 181d ahead of this clock (clock skew?)": how a stored time from the future is reported.
std::string skew_text(TimePoint stored, TimePoint now);

// Returns the clock every tool uses: an OffsetClock at $HB_NOW when that variable is set, else the
// system clock. Throws hb::UsageError when HB_NOW is set but not an RFC 3339 timestamp.
std::unique_ptr<util::Clock> clock_from_environment();

} // namespace hb
