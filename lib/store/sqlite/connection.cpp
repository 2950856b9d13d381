// SPDX-License-Identifier: MIT
#include "store/sqlite/connection.hpp"

#include "store/sqlite/backoff.hpp"
#include "store/sqlite/vfs.hpp"

#include "core/errors.hpp"
#include "util/log.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::store::sqlite {

Connection::Connection(const DatabaseFile& file, OpenMode mode)
  : m_path(file.path), m_resolved(file.resolved), m_folder(file.folder)
{
  if (mode == OpenMode::read_write) {
    open(SQLite::OPEN_READWRITE);
    guarded("setup", [&] { set_up(mode); });
    switch_to_wal();
    return;
  }
  if (mode == OpenMode::read_only) {
    open(SQLite::OPEN_READONLY);
  } else {
    try {
      open(SQLite::OPEN_READWRITE);
    } catch (const StoreError&) {
      open(SQLite::OPEN_READONLY);
    }
  }
  // A reader's first statements are where SQLite maps the WAL index (-shm), which on a full disk
  // it cannot create or grow: "disk I/O error" for hb-status, which writes nothing.
  try {
    set_up(mode);
    m_db->execAndGet("PRAGMA user_version");
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (read_only() && (code == SQLITE_READONLY || code == SQLITE_CANTOPEN)) {
      read_checkpointed_file(e);
      return;
    }
    if (!disk_full(e) || read_only()) {
      fail("setup", e);
    }
    read_without_shared_memory();
  }
}

void Connection::read_checkpointed_file(const SQLite::Exception& e)
{
  // A user who may only read the database (group-readable, docs/operations.md) reads a WAL
  // database through its -wal and -shm files, which a writer leaves beside it (they persist, see
  // set_up); SQLite maps a -shm it cannot write read-only. Only when another program closed the
  // database last (the sqlite3 shell, a backup) are they gone, and this user may not create
  // them. Then everything committed is in the database file itself: read it as immutable, which
  // needs neither. A writer that starts meanwhile appends to a new WAL and leaves the file as it
  // is until a checkpoint, a thousand pages later.
  struct stat st {};
  if (::stat((m_resolved + "-wal").c_str(), &st) == 0) {
    // Committed pages may be in that WAL: reading past them would show the past.
    throw StoreError(fmt::format(
      "cannot read database {}: its -shm file is missing or unreadable, and this user may not "
      "create it in {} ({}; the next hb-pulse or hb-beat creates it, see \"Read-only users\" "
      "in docs/operations.md)",
      m_path, m_folder, e.what()));
  }
  std::string uri = "file:";
  for (const char c : m_resolved) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  m_db.reset();
  try {
    m_db = std::make_unique<SQLite::Database>(uri, SQLite::OPEN_READONLY | SQLite::OPEN_URI |
                                                     SQLite::OPEN_NOFOLLOW,
                                              static_cast<int>(k_busy_timeout.count()),
                                              heartbeat_vfs());
  } catch (const SQLite::Exception& again) {
    throw StoreError(fmt::format("cannot open database {}: {}", m_path, again.what()));
  }
  guarded("reading", [&] {
    set_up(OpenMode::existing);
    m_db->execAndGet("PRAGMA user_version");
  });
  util::log_debug(fmt::format("database {}: no -wal or -shm file and no right to create them "
                              "in {}: reading the database file as immutable",
                              m_path, m_folder));
}

void Connection::open(int flags)
{
  // The folders are resolved (files.cpp): NOFOLLOW refuses only a link in the file's own place,
  // put there since it was looked at. SQLiteCpp sets the busy timeout before any statement.
  try {
    m_db = std::make_unique<SQLite::Database>(m_resolved, flags | SQLite::OPEN_NOFOLLOW,
                                              static_cast<int>(k_busy_timeout.count()),
                                              heartbeat_vfs());
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot open database {}: {}", m_path, e.what()));
  }
}

void Connection::set_up(OpenMode mode)
{
  m_db->exec("PRAGMA foreign_keys = ON");
  // FULL: a lost "failing" row after a power cut would be a missed alert.
  m_db->exec("PRAGMA synchronous = FULL");
  if (mode == OpenMode::read_write) {
    m_db->exec("PRAGMA journal_size_limit = 67108864");
  }
  // Every tool is a short-lived process, usually the only connection: by default each one
  // would checkpoint the WAL into the database and delete it when it closes, three extra
  // fsyncs per beat. Leave that to SQLite's automatic checkpoint (every 1000 pages) and keep
  // the WAL file; committed data is in the WAL, synced, either way. A reader so never writes
  // when it closes.
  sqlite3_db_config(m_db->getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  int persist = 1;
  sqlite3_file_control(m_db->getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
}

void Connection::switch_to_wal()
{
  // Switching a new database to WAL needs it to itself for an instant, and SQLite answers
  // SQLITE_BUSY at once, without its busy handler, while another process has it open: tools
  // started together at a database that did not exist yet would fail. Retry with a backoff, as
  // the busy timeout would have.
  Backoff backoff;
  for (;;) {
    try {
      // The answer is the mode now in force: "wal", or the old mode on a filesystem where WAL
      // cannot work (left as it is, as before).
      m_db->execAndGet("PRAGMA journal_mode = WAL");
      return;
    } catch (const SQLite::Exception& e) {
      const int code = e.getErrorCode() & 0xff;
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || !backoff.wait()) {
        fail("switching to WAL", e);
      }
    }
  }
}

void Connection::read_without_shared_memory()
{
  // In exclusive locking mode SQLite keeps the WAL index in the process's own memory, so it
  // needs no -shm file; the connection then holds the database's lock until it closes, which
  // writers wait for (on a full disk they fail anyway). Taking that lock does not go through
  // the busy handler: retry while another connection has the database open.
  m_db.reset();
  open(SQLite::OPEN_READWRITE);
  Backoff backoff;
  for (;;) {
    try {
      m_db->exec("PRAGMA locking_mode = EXCLUSIVE");
      set_up(OpenMode::existing);
      m_db->execAndGet("PRAGMA user_version");
      util::log_debug(fmt::format("database {}: disk full, reading it without its -shm file",
                                  m_path));
      return;
    } catch (const SQLite::Exception& e) {
      const int code = e.getErrorCode() & 0xff;
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || !backoff.wait()) {
        fail("reading", e);
      }
    }
  }
}

bool Connection::disk_full(const SQLite::Exception& e) const
{
  const int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_FULL) {
    return true;
  }
  // SQLite reports a failed write of the -shm or the WAL as an I/O error; the errno tells.
  return (code == SQLITE_IOERR || code == SQLITE_CANTOPEN)
         && sqlite3_system_errno(m_db->getHandle()) == ENOSPC;
}

bool Connection::read_only() const
{
  return sqlite3_db_readonly(m_db->getHandle(), "main") == 1;
}

void Connection::fail(const char* operation, const SQLite::Exception& e) const
{
  const int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    throw TemporaryError(
      fmt::format("database {} is busy ({}: {}); try again", m_path, operation, e.what()));
  }
  if (disk_full(e)) {
    throw StoreError(fmt::format("{} ({} failed)", file_error(m_path, "write", ENOSPC),
                                 operation));
  }
  // SQLite's own words for a file it could not open or write are "unable to open database file"
  // or "disk I/O error" whatever the reason; the errno says which.
  const int os_error = code == SQLITE_IOERR || code == SQLITE_CANTOPEN
                         ? sqlite3_system_errno(m_db->getHandle())
                         : 0;
  if (os_error == EACCES || os_error == EPERM || os_error == EROFS) {
    const bool folder_writable = ::faccessat(AT_FDCWD, m_folder.c_str(), W_OK, AT_EACCESS) == 0;
    throw StoreError(fmt::format(
      "database {}: {} failed: {}{}", m_path, operation, errno_text(os_error),
      folder_writable ? ""
                      : fmt::format(" (its -wal and -shm files go beside it, in {}, which this "
                                    "user may not write)",
                                    m_folder)));
  }
  if (os_error == ELOOP) {
    throw StoreError(file_error(m_path, "open", os_error));
  }
  if (os_error != 0) {
    throw StoreError(fmt::format("database {}: {} failed: {} ({})", m_path, operation, e.what(),
                                 errno_text(os_error)));
  }
  throw StoreError(fmt::format("database {}: {} failed: {}", m_path, operation, e.what()));
}

} // namespace hb::store::sqlite
