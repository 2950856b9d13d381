// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

namespace hb::store::postgres {

// Reads the size (pg_database_size), schema version, oldest execution and rows of the database
// on `connection`, writing nothing; wal_bytes is left empty (the server's WAL is not this
// database's alone). With CheckIntegrity::yes the integrity answer is PostgreSQL's own: the
// server checksums pages and verifies them on read, so this reads every table of heartbeat's
// once (a checksum failure or unreadable page comes back as the answer). last_prune is left to
// the caller (Rollups).
DatabaseInfo read_database_info(Connection& connection, TimePoint now, CheckIntegrity check);

} // namespace hb::store::postgres
