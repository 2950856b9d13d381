// SPDX-License-Identifier: MIT
#pragma once

#include "checks/registry.hpp"

namespace hb::checks {

// The "file" check type; see docs/configuration.md for its keys.
CheckType file_check_type();

} // namespace hb::checks
