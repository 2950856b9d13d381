// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"

namespace hb::config {

// Parses one entry of `schedules` (everything but cross-references, which the loader checks).
// Throws hb::ConfigError naming the file and JSON path.
Schedule parse_schedule(const ConfigNode& node, const TargetDefaults& defaults);

} // namespace hb::config
