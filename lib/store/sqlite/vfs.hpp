// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace hb::store::sqlite {

// Registers, once per process, the default VFS with one change (see vfs.cpp: an existing WAL
// that holds frames is opened without SQLITE_OPEN_CREATE, which spares each short-lived tool
// run one fsync of the folder). Returns its name, or "" (SQLite's default VFS) when the default
// VFS cannot be found.
std::string heartbeat_vfs();

} // namespace hb::store::sqlite
