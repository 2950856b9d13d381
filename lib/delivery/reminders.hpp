// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"
#include "core/model/event.hpp"
#include "store/store.hpp"

#include <vector>

namespace hb::delivery {

// Writes a still_failing event (routed like any other) for every live target that is failing at
// `now` and due a reminder by notify::reminder_due: repeat_every after it was last told, or at
// once when everything about its incident was suppressed or fell in its grace (the end of a
// maintenance window, of a failing dependency, of the grace). Targets in grace, in maintenance,
// behind a failing dependency or paused get none. Returns the events written.
std::vector<Event> write_reminders(const config::Config& config, store::Store& store,
                                   TimePoint now);

} // namespace hb::delivery
