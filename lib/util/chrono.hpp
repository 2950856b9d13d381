// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>

// In namespace hb rather than hb::util: these are the vocabulary every layer speaks, and util
// (the bottom layer) needs them too, so they live here and core/types.hpp re-exports them.
namespace hb {

// All instants are UTC with millisecond precision; all durations are milliseconds.
using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

} // namespace hb
