// SPDX-License-Identifier: MIT
#pragma once

#include "store/store.hpp"

#include <memory>
#include <string>

namespace hb::store::postgres {

// Opens (and migrates, per `mode`) the PostgreSQL database at `location`
// ("postgresql://user@host:5432/heartbeat"). Returns nullptr with OpenMode::existing or read_only
// when the database, or heartbeat's schema in it, does not exist yet. Throws hb::StoreError
// naming the location (without its password), e.g. when the schema is newer than this binary;
// hb::TemporaryError when the server cannot be reached.
std::unique_ptr<Store> open_postgres(const std::string& location, OpenMode mode);

// The schema version this binary writes (meta's schema_version).
int postgres_schema_version();

} // namespace hb::store::postgres
