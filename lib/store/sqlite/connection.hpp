// SPDX-License-Identifier: MIT
#pragma once

#include "store/sqlite/files.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>

namespace hb::store::sqlite {

// The database's own wall clock in Unix milliseconds, as an SQL expression: claims are judged
// by it rather than by the caller's clock (HB_NOW), so that every process sharing the file
// agrees on when a claim expires.
inline constexpr const char* k_db_now_ms =
  "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

// One open SQLite database with heartbeat's pragmas, shared by the per-aggregate parts of
// SqliteStore. Not thread-safe: one per thread, as SQLite connections are.
class Connection {
public:
  // Opens `file` (which must exist: see files.hpp) with the heartbeat VFS. OpenMode::read_write
  // is a writer: it switches the database to WAL, waiting like any write while other processes
  // do the same. OpenMode::existing is a reader, which never writes: it falls back to read-only
  // when it cannot open the file read-write, and on a full disk, where SQLite could not create
  // the shared-memory file a WAL reader needs, to reading with that index in its own memory;
  // a user who may only read the file, finding no -wal and -shm beside it (another program
  // checkpointed and removed them), reads the database file as immutable.
  // Throws hb::StoreError naming the path (hb::TemporaryError while another process holds it).
  Connection(const DatabaseFile& file, OpenMode mode);

  SQLite::Database& db() { return *m_db; }
  const std::string& path() const { return m_path; }
  // Whether the file was opened read-only.
  bool read_only() const;

  // Returns fn(), turning SQLite failures into hb::TemporaryError (busy or locked) or
  // hb::StoreError, each naming the database and `operation`.
  template <typename Fn>
  auto guarded(const char* operation, Fn&& fn) -> decltype(fn())
  {
    try {
      return fn();
    } catch (const SQLite::Exception& e) {
      fail(operation, e);
    }
  }

private:
  [[noreturn]] void fail(const char* operation, const SQLite::Exception& e) const;
  void open(int flags);
  void set_up(OpenMode mode);
  void switch_to_wal();
  void read_without_shared_memory();
  void read_checkpointed_file(const SQLite::Exception& e);
  bool disk_full(const SQLite::Exception& e) const;

  std::string m_path;
  std::string m_resolved;
  std::string m_folder;
  std::unique_ptr<SQLite::Database> m_db;
};

} // namespace hb::store::sqlite
