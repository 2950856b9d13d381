// SPDX-License-Identifier: MIT
#include "store/sqlite/connection.hpp"

#include "store/sqlite/vfs.hpp"

#include "core/errors.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::store::sqlite {
namespace {

constexpr int k_busy_timeout_ms = 30'000;

// Creates the database file with mode 0600 before SQLite opens it, so that SQLite's -wal and -shm
// files (which copy the main file's mode) are private too. Missing parent folders are created
// with mode 0700.
void create_private_file(const std::string& path)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) {
      throw StoreError(fmt::format("cannot create folder {} for the database: {}", parent.string(),
                                   ec.message()));
    }
    ::chmod(parent.c_str(), 0700);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST) {
    throw StoreError(fmt::format("cannot create database {}: {}", path, std::strerror(errno)));
  }
}

} // namespace

Connection::Connection(std::string path, OpenMode mode) : m_path(std::move(path))
{
  if (mode == OpenMode::read_write) {
    create_private_file(m_path);
  } else if (!std::filesystem::exists(m_path)) {
    throw StoreError(fmt::format("database {} does not exist", m_path));
  }
  try {
    m_db = std::make_unique<SQLite::Database>(
      m_path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOFOLLOW, k_busy_timeout_ms, heartbeat_vfs());
  } catch (const SQLite::Exception& e) {
    if (mode != OpenMode::existing) {
      throw StoreError(fmt::format("cannot open database {}: {}", m_path, e.what()));
    }
    try {
      m_db = std::make_unique<SQLite::Database>(
        m_path, SQLite::OPEN_READONLY | SQLite::OPEN_NOFOLLOW, k_busy_timeout_ms, heartbeat_vfs());
    } catch (const SQLite::Exception& e2) {
      throw StoreError(fmt::format("cannot open database {}: {}", m_path, e2.what()));
    }
  }
  guarded("setup", [&] {
    m_db->exec("PRAGMA foreign_keys = ON");
    // FULL: a lost "failing" row after a power cut would be a missed alert.
    m_db->exec("PRAGMA synchronous = FULL");
    if (!read_only()) {
      m_db->exec("PRAGMA journal_mode = WAL");
      m_db->exec("PRAGMA journal_size_limit = 67108864");
    }
    // Every tool is a short-lived process, usually the only connection: by default each one
    // would checkpoint the WAL into the database and delete it when it closes, three extra
    // fsyncs per beat. Leave that to SQLite's automatic checkpoint (every 1000 pages) and keep
    // the WAL file; committed data is in the WAL, synced, either way.
    sqlite3_db_config(m_db->getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    int persist = 1;
    sqlite3_file_control(m_db->getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  });
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
  throw StoreError(fmt::format("database {}: {} failed: {}", m_path, operation, e.what()));
}

} // namespace hb::store::sqlite
