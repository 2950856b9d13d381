// SPDX-License-Identifier: MIT
#pragma once

#include "checks/registry.hpp"

namespace hb::checks {

// The "command" check type; see docs/configuration.md for its keys.
CheckType command_check_type();

} // namespace hb::checks
