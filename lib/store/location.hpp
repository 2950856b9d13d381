// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace hb::store {

// `location` as it may be shown (logs, hb-status, hb-diagnose, errors): a PostgreSQL location
// without its password ("postgresql://hb@db/heartbeat" for "postgresql://hb:pw@db/heartbeat",
// and no password=... parameter); any other location as it is.
std::string display_location(const std::string& location);

} // namespace hb::store
