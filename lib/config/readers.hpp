// SPDX-License-Identifier: MIT
#pragma once

// Readers shared by the config loader's files (not part of the public config interface).

#include "core/config_node.hpp"
#include "core/model/active_hours.hpp"

#include <optional>

#include <string>
#include <string_view>

namespace hb::config {

// The duration at `parent[key]`, or `fallback` when absent; throws unless it is positive
// ("expected a positive duration like \"<example>\"").
Duration positive_duration(const ConfigNode& parent, std::string_view key, Duration fallback,
                           std::string_view example);

// An IANA timezone name known to tzdata; throws otherwise.
std::string parse_timezone(const ConfigNode& node);

// A daily window {"start": "HH:MM", "end": "HH:MM"}; throws "expected <expected>" unless `node`
// is an object, and names the bad or missing time otherwise.
ActiveHours parse_daily_window(const ConfigNode& node, std::string_view expected);

// An `active_hours` value: std::nullopt for "always", else the window.
std::optional<ActiveHours> parse_active_hours(const ConfigNode& node);

} // namespace hb::config
