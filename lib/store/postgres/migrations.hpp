// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace hb::store::postgres {

// Numbered schema steps, PostgreSQL's own (independent of SQLite's). Step N (1-based) moves a
// database from version N-1 to N; the version is meta's schema_version. Never edit a released
// step: add a new one.
const std::vector<std::string_view>& postgres_migrations();

// The schema version this binary writes (the number of steps).
int schema_version();

// The version found in the database: std::nullopt when it holds no heartbeat schema at all (and
// no other tables). Throws hb::StoreError when it holds other tables but no heartbeat schema.
std::optional<int> stored_version(Connection& connection);

// Applies the missing steps in one transaction under an advisory lock, so that tools started at
// once migrate once. Throws hb::StoreError naming the database when it is newer than this binary
// or needs steps but was opened read-only.
void migrate(Connection& connection);

} // namespace hb::store::postgres
