// SPDX-License-Identifier: MIT
#include "store/sqlite/vfs.hpp"

#include <sqlite3.h>

#include <sys/stat.h>

namespace hb::store::sqlite {
namespace {

// The default VFS with one change. SQLite fsyncs the folder on a process's first commit
// whenever it opened the WAL with SQLITE_OPEN_CREATE, which it always does, so that a newly
// created WAL's directory entry is durable. The WAL persists between our short-lived processes
// (SQLITE_FCNTL_PERSIST_WAL). A WAL that holds frames was written by a commit, and that commit
// synced the folder (the WAL was new to its process, or an earlier commit had synced it): such
// a WAL is opened without CREATE, which spares every tool run one fsync under the write lock,
// half the cost of a beat. A missing or empty WAL (created by a reader that never committed, or
// truncated by a checkpoint) is opened as usual, so the next commit syncs the folder.
int open_existing_wal_without_create(sqlite3_vfs* vfs, const char* name, sqlite3_file* file,
                                     int flags, int* out_flags)
{
  auto* base = static_cast<sqlite3_vfs*>(vfs->pAppData);
  struct stat st {};
  if ((flags & SQLITE_OPEN_WAL) != 0 && (flags & SQLITE_OPEN_CREATE) != 0 && name != nullptr &&
      ::stat(name, &st) == 0 && st.st_size > 0) {
    const int rc = base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
    if (rc != SQLITE_CANTOPEN) {
      return rc;
    }
    // Removed meanwhile (say by the sqlite3 shell closing the database): create it after all.
  }
  return base->xOpen(base, name, file, flags, out_flags);
}

constexpr const char* k_vfs_name = "heartbeat-unix";

} // namespace

std::string heartbeat_vfs()
{
  static const std::string name = [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) {
      return std::string();
    }
    static sqlite3_vfs vfs = *base;
    vfs.pNext = nullptr;
    vfs.zName = k_vfs_name;
    vfs.pAppData = base;
    vfs.xOpen = open_existing_wal_without_create;
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? std::string(k_vfs_name) : std::string();
  }();
  return name;
}

} // namespace hb::store::sqlite
