// SPDX-License-Identifier: MIT
#pragma once

// Reading `recovery` (SPEC §4.3): the top-level object and a target's own. Internal to the loader;
// the result lands in Config::recovery, Config::notify.escalation_channels and Target::recovery.

#include "config/config.hpp"

namespace hb::config {

// Parses the top-level `recovery` object (null: the defaults); escalation channels must be
// among `config.channels`. Throws hb::ConfigError naming the file and JSON path.
RecoverySettings parse_recovery(const ConfigNode& node, const Config& config);

// Parses a target's `recovery` object (null: enabled, nothing overridden). Throws hb::ConfigError.
TargetRecovery parse_target_recovery(const ConfigNode& node);

} // namespace hb::config
