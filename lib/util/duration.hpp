// SPDX-License-Identifier: MIT
#pragma once

#include "util/chrono.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hb::util {

// Parses a duration such as "500ms", "30s", "5m", "24h", "7d" or a sum like "1h30m".
// Returns std::nullopt for anything else, including negative numbers, missing units and
// values that overflow.
std::optional<Duration> parse_duration(std::string_view text);

// The one place that formats durations for people: "500ms", "1.2s", "42s", "5m 3s", "2h 5m",
// "3d 4h". At most two units are shown; below a minute tenths of a second are kept.
std::string format_duration(Duration d);

// A config-style duration that parse_duration reads back exactly: "30m", "1h30m", "500ms".
std::string format_duration_spec(Duration d);

// "42s ago", "just now", "in 5m" relative to `now`.
std::string format_age(TimePoint then, TimePoint now);

} // namespace hb::util
