// SPDX-License-Identifier: MIT
#pragma once

#include "util/time.hpp"

#include <memory>

namespace hb {

// Returns the clock every tool uses: an OffsetClock at $HB_NOW when that variable is set, else the
// system clock. Throws hb::UsageError when HB_NOW is set but not an RFC 3339 timestamp.
std::unique_ptr<util::Clock> clock_from_environment();

} // namespace hb
