// SPDX-License-Identifier: MIT
#pragma once

#include "checks/registry.hpp"

namespace hb::checks {

// The "http" check type; see docs/configuration.md for its keys.
CheckType http_check_type();

} // namespace hb::checks
