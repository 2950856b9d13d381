// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace hb::util {

// "1 target", "3 targets", "0 checks": a count with its noun, never "target(s)". `noun` is the
// singular; the plural adds an "s" (every noun we count does).
std::string plural(long long n, std::string_view noun);

} // namespace hb::util
