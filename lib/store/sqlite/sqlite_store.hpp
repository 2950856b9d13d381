// SPDX-License-Identifier: MIT
#pragma once

#include "store/store.hpp"

#include <memory>
#include <string>

namespace hb::store::sqlite {

// Opens (and creates/migrates, per `mode`) the SQLite database at `path`. Returns nullptr with
// OpenMode::existing when there is no file at `path`. Throws hb::StoreError naming the path,
// e.g. when the file is newer than this binary understands.
std::unique_ptr<Store> open_sqlite(const std::string& path, OpenMode mode);

// The schema version this binary writes (PRAGMA user_version).
int sqlite_schema_version();

} // namespace hb::store::sqlite
