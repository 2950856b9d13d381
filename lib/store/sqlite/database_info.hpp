// SPDX-License-Identifier: MIT
#pragma once

#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

namespace hb::store::sqlite {

// Reads the size, WAL, schema version, oldest execution and rows of the database on
// `connection`, writing nothing; with CheckIntegrity::yes also runs PRAGMA quick_check (it
// reads every page: about a second per 400 MB). last_prune is left to the caller (Rollups).
DatabaseInfo read_database_info(Connection& connection, TimePoint now, CheckIntegrity check);

} // namespace hb::store::sqlite
