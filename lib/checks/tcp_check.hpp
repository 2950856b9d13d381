// SPDX-License-Identifier: MIT
#pragma once

#include "checks/registry.hpp"

namespace hb::checks {

// The "tcp" check type; see docs/configuration.md for its keys.
CheckType tcp_check_type();

} // namespace hb::checks
