// SPDX-License-Identifier: MIT
#pragma once

// Reading `retention` (SPEC §4.1 step 8): how long raw history, beats and roll-ups are kept.
// Internal to the loader; the result lands in Config::retention.

#include "config/config.hpp"

namespace hb::config {

// Parses the top-level `retention` object (null: the defaults, docs/configuration.md). The
// hourly roll-ups must cover at least two days (the 24-hour uptime reads them) and the daily
// ones at least as long as the hourly. Throws hb::ConfigError naming the file and JSON path.
Retention parse_retention(const ConfigNode& node);

} // namespace hb::config
