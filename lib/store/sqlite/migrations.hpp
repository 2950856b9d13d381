// SPDX-License-Identifier: MIT
#pragma once

#include "store/sqlite/connection.hpp"

#include <string_view>
#include <vector>

namespace hb::store::sqlite {

// Numbered schema steps. Step N (1-based) moves a database from user_version N-1 to N; each step
// runs in its own transaction. Never edit a released step: add a new one.
const std::vector<std::string_view>& sqlite_migrations();

// The schema version this binary writes (the number of steps).
int schema_version();

// Applies the missing steps to `connection`, each in its own IMMEDIATE transaction. Throws
// hb::StoreError naming the path and the version found when the database is newer than this
// binary, has a version heartbeat never writes (negative), holds tables but no version, or
// needs steps but is read-only.
void migrate(Connection& connection);

// Returns true when the database holds nothing yet: schema version 0 and no tables (a file whose
// creator has not finished, or was killed before the first step). Throws hb::StoreError.
bool is_blank(Connection& connection);

} // namespace hb::store::sqlite
