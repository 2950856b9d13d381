// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>
#include <vector>

namespace hb::store {

// Numbered schema steps. Step N (1-based) moves a database from user_version N-1 to N; each step
// runs in its own transaction. Never edit a released step: add a new one.
const std::vector<std::string_view>& sqlite_migrations();

} // namespace hb::store
