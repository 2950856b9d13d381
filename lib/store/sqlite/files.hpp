// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace hb::store::sqlite {

// The database file as found on disk, before SQLite opens it. The path rules (docs/operations.md,
// "The database"): symlinked folders are followed; the file itself must be a regular file, never
// a symbolic link; folders heartbeat creates are 0700 and the file 0600, whatever the umask.
struct DatabaseFile {
  std::string path;     // as given (--db, HB_DB, the config): for messages
  std::string folder;   // its folder, every symbolic link resolved
  std::string resolved; // `folder` and the file name: what SQLite opens
  bool exists = false;
  bool empty = false; // exists with 0 bytes: being created, or its creator was killed
  std::vector<std::string> created_folders; // by locate_database, outermost first
};

enum class CreateFolders { no, yes };

// Returns the database at `path`, its folders resolved; with CreateFolders::yes missing folders
// are created (0700). Returns std::nullopt with CreateFolders::no when the file or a folder is
// missing. Throws hb::StoreError naming the path and why: a symbolic link in the file's place,
// not a regular file, a symlink loop, permission denied, a folder that cannot be created.
std::optional<DatabaseFile> locate_database(const std::string& path, CreateFolders create);

// Throws hb::StoreError ("permission denied", naming the owner and mode) when this process may
// not read the existing database, or with Access::write not write it.
enum class Access { read, write };
void check_access(const DatabaseFile& file, Access access);

// The mode of a new database in `folder`: 0640 when the folder's group may list and enter it and
// others may not (a monitoring group's folder, such as the package's /var/lib/heartbeat 0750),
// 0600 otherwise. SQLite gives the -wal and -shm files the database's mode.
mode_t new_database_mode(const std::string& folder);

// Serialises creating a database. A writer that finds the file missing or empty takes it before
// creating the file and holds it until the schema is complete, so that tools started together
// wait for one creator like any write, and a creation that fails can remove what it made without
// pulling the file from under another process. An advisory lock (flock) on the folder: SQLite's
// own locks are fcntl locks on the files, which this neither touches nor releases, and the kernel
// drops it when its holder dies.
class CreationLock {
public:
  // Waits for the lock, at most the busy timeout; throws hb::TemporaryError when it stays held.
  // Where the folder cannot be opened to lock it, goes on unlocked (the busy timeout and the
  // schema steps' own transactions still keep the database whole).
  explicit CreationLock(const DatabaseFile& file);
  // Releases the lock.
  ~CreationLock();
  CreationLock(const CreationLock&) = delete;
  CreationLock& operator=(const CreationLock&) = delete;

  // Creates the database file unless it exists: mode 0600, or 0640 in a folder only its owner
  // and its group may enter (new_database_mode); created by root in a folder another user owns,
  // it belongs to that user and the folder's group. Returns true when this call created
  // it. Throws hb::StoreError.
  bool create_file();
  // Removes what creating the database made: the file create_file() made with the -wal, -shm
  // and -journal files beside it, and the folders locate_database() made, when empty. Call after
  // closing every connection to it.
  void remove_created();

private:
  const DatabaseFile& m_file;
  int m_fd = -1;
  bool m_created = false;
};

// Logs one warning per process, with the chmod to run, when the database, its -wal or -shm are
// writable by others or readable by other users, or its folder is writable by others.
void warn_if_exposed(const DatabaseFile& file);

// What went wrong with the database file `path` while `doing` ("open", "create"), from errno:
// "cannot open database /x.db: permission denied (...)"; a full disk reads "disk full: no space
// left on device for /x.db".
std::string file_error(const std::string& path, const char* doing, int error);

// strerror in lowercase, as messages are: "permission denied".
std::string errno_text(int error);

} // namespace hb::store::sqlite
