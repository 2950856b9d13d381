// SPDX-License-Identifier: MIT
#include "store/sqlite/files.hpp"

#include "store/sqlite/backoff.hpp"

#include "core/errors.hpp"
#include "util/log.hpp"
#include "util/shell_quote.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Group or others may write, or others may read: a database (or its WAL, which holds the newest
// rows) that other users can change or read. Group read is allowed, for a monitoring group.
constexpr mode_t k_exposed_file_bits = S_IWGRP | S_IWOTH | S_IROTH;
// Group or others may write the folder: they could replace the database or plant a -wal file in
// it. A folder others may list is fine (systemd's StateDirectory= makes 0755 ones).
constexpr mode_t k_exposed_folder_bits = S_IWGRP | S_IWOTH;

std::string owner_name(uid_t uid)
{
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16'384);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return fmt::format("uid {}", uid);
}

std::string mode_text(mode_t mode)
{
  return fmt::format("{:04o}", mode & 07777);
}

// For "permission denied": who owns the file, or the deepest folder on its way this process can
// see (the one it may not search), and its mode.
std::string permission_detail(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return fmt::format(" (it belongs to {}, mode {}): run heartbeat as that user, or change the "
                       "owner or mode",
                       owner_name(st.st_uid), mode_text(st.st_mode));
  }
  for (fs::path folder = fs::path(path).parent_path(); !folder.empty();
       folder = folder.parent_path()) {
    if (::stat(folder.c_str(), &st) == 0) {
      return fmt::format(" (folder {} belongs to {}, mode {}): run heartbeat as that user, or "
                         "change the owner or mode",
                         folder.string(), owner_name(st.st_uid), mode_text(st.st_mode));
    }
    if (folder == folder.parent_path()) {
      break;
    }
  }
  return "";
}

void remove_folders(const std::vector<std::string>& folders)
{
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    ::rmdir(it->c_str()); // only when empty: another process may be using it by now
  }
}

// Creates the missing folders of `folder` one by one, each 0700 (mkdir's mode passes through the
// umask, so each folder this call made is chmod-ed after), and returns them, outermost first. A
// folder another process creates meanwhile is left as it is. On failure removes what it made.
std::vector<std::string> create_folders(const fs::path& folder, const std::string& database)
{
  std::vector<std::string> created;
  fs::path prefix;
  for (const auto& part : folder) {
    prefix /= part;
    struct stat st {};
    if (::stat(prefix.c_str(), &st) == 0) {
      continue;
    }
    int error = errno;
    if (error == ENOENT) {
      if (::mkdir(prefix.c_str(), 0700) == 0) {
        ::chmod(prefix.c_str(), 0700);
        created.push_back(prefix.string());
        continue;
      }
      error = errno;
      if (error == EEXIST) {
        continue;
      }
    }
    remove_folders(created);
    if (error == ENOSPC || error == ELOOP) {
      throw StoreError(file_error(database, "create", error));
    }
    throw StoreError(fmt::format("cannot create folder {} for database {}: {}", prefix.string(),
                                 database, errno_text(error)));
  }
  return created;
}

// The folder of `path` with its symbolic links resolved, or std::nullopt when it is missing.
std::optional<std::string> resolve_folder(const fs::path& folder, const std::string& database)
{
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(folder.c_str(), nullptr), &std::free);
  if (real) {
    return std::string(real.get());
  }
  if (errno == ENOENT || errno == ENOTDIR) {
    return std::nullopt;
  }
  throw StoreError(file_error(database, "open", errno));
}

[[noreturn]] void refuse_symlink(const std::string& path, const fs::path& resolved)
{
  std::string target;
  std::error_code ec;
  const fs::path link = fs::read_symlink(resolved, ec);
  if (!ec) {
    target =
        (link.is_absolute() ? link : (resolved.parent_path() / link).lexically_normal()).string();
  }
  throw StoreError(fmt::format(
      "database {} is a symbolic link{}: refused, because a link in the database's place could "
      "send heartbeat's writes to any file; point --db at {} or link its folder instead",
      path, target.empty() ? "" : " to " + target, target.empty() ? "the file itself" : target));
}

} // namespace

std::string errno_text(int error)
{
  std::string text = std::strerror(error);
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

std::string file_error(const std::string& path, const char* doing, int error)
{
  switch (error) {
  case ENOSPC:
    return fmt::format("disk full: no space left on device for {}", path);
  case EACCES:
  case EPERM:
    return fmt::format("cannot {} database {}: permission denied{}", doing, path,
                       permission_detail(path));
  case ELOOP:
    return fmt::format("cannot {} database {}: too many levels of symbolic links (a symlink "
                       "loop in the path?)",
                       doing, path);
  default:
    return fmt::format("cannot {} database {}: {}", doing, path, errno_text(error));
  }
}

std::optional<DatabaseFile> locate_database(const std::string& path, CreateFolders create)
{
  const fs::path given(path);
  const std::string name = given.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw StoreError(fmt::format("database {} names a folder, not a file: add a file name such "
                                 "as heartbeat.db",
                                 path));
  }
  const fs::path folder = given.has_parent_path() ? given.parent_path() : fs::path(".");
  DatabaseFile file;
  file.path = path;
  auto real = resolve_folder(folder, path);
  if (!real) {
    if (create == CreateFolders::no) {
      return std::nullopt;
    }
    file.created_folders = create_folders(folder, path);
  }
  try {
    if (!real) {
      real = resolve_folder(folder, path);
      if (!real) {
        throw StoreError(file_error(path, "create", ENOENT));
      }
    }
    file.folder = *real;
    file.resolved = (fs::path(*real) / name).string();
    struct stat st {};
    if (::lstat(file.resolved.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        throw StoreError(file_error(path, "open", errno));
      }
      if (create == CreateFolders::no) {
        return std::nullopt;
      }
      return file;
    }
    if (S_ISLNK(st.st_mode)) {
      if (::stat(file.resolved.c_str(), &st) != 0 && errno == ELOOP) {
        throw StoreError(file_error(path, "open", ELOOP));
      }
      refuse_symlink(path, file.resolved);
    }
    if (S_ISDIR(st.st_mode)) {
      throw StoreError(fmt::format("database {} is a folder, not a file: add a file name such "
                                   "as {}/heartbeat.db",
                                   path, path));
    }
    if (!S_ISREG(st.st_mode)) {
      throw StoreError(fmt::format("database {} is not a regular file", path));
    }
    file.exists = true;
    file.empty = st.st_size == 0;
    return file;
  } catch (...) {
    remove_folders(file.created_folders);
    throw;
  }
}

void check_access(const DatabaseFile& file, Access access)
{
  const int wanted = access == Access::write ? (R_OK | W_OK) : R_OK;
  // faccessat, not a trial open(): closing a descriptor of the database would drop the fcntl
  // locks of any connection this process already has on it.
  if (::faccessat(AT_FDCWD, file.resolved.c_str(), wanted, AT_EACCESS) != 0) {
    const int error = errno;
    if (error == EACCES || error == EPERM || error == EROFS) {
      throw StoreError(file_error(file.path, access == Access::write ? "write" : "open", error));
    }
  }
}

CreationLock::CreationLock(const DatabaseFile& file)
    : m_file(file)
{
  m_fd = ::open(file.folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m_fd < 0) {
    return;
  }
  Backoff backoff;
  while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EINTR) {
      continue;
    }
    if (error == EWOULDBLOCK && backoff.wait()) {
      continue;
    }
    ::close(m_fd);
    m_fd = -1;
    if (error == EWOULDBLOCK) {
      throw TemporaryError(fmt::format(
          "database {} is busy (another process has been creating it for {} s); try again",
          file.path, k_busy_timeout.count() / 1000));
    }
    return; // a filesystem without flock: unlocked, as the header says
  }
}

CreationLock::~CreationLock()
{
  if (m_fd >= 0) {
    ::close(m_fd); // drops the flock
  }
}

mode_t new_database_mode(const std::string& folder)
{
  // The folder says who the database is for. One its group may list and enter and others may
  // not (0750, 2750: /var/lib/heartbeat as the package makes it) is a monitoring group's: its
  // members read the database (hb-status, docs/operations.md "Read-only users"). Any other
  // folder, a private 0700 one or one others may enter, gets a private database.
  struct stat st {};
  if (::stat(folder.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IXGRP)) == (S_IRGRP | S_IXGRP) &&
      (st.st_mode & S_IRWXO) == 0) {
    return 0640;
  }
  return 0600;
}

bool CreationLock::create_file()
{
  const mode_t mode = new_database_mode(m_file.folder);
  const int fd =
      ::open(m_file.resolved.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return false;
    }
    throw StoreError(file_error(m_file.path, "create", errno));
  }
  // The umask may have taken bits from the mode (SQLite gives -wal and -shm the file's mode).
  ::fchmod(fd, mode);
  // Root creating a database in a folder that belongs to another user (sudo hb-pulse in the
  // package's /var/lib/heartbeat) makes it that user's: the folder says whose it is, and a
  // root-owned file there would lock the service user out. SQLite gives the -wal and -shm it
  // creates as root the database file's owner.
  struct stat folder {};
  if (::geteuid() == 0 && ::stat(m_file.folder.c_str(), &folder) == 0 && folder.st_uid != 0) {
    if (::fchown(fd, folder.st_uid, folder.st_gid) != 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(m_file.resolved.c_str());
      throw StoreError(fmt::format("cannot give database {} to the owner of its folder {}: {}",
                                   m_file.path, m_file.folder, errno_text(error)));
    }
  }
  ::close(fd);
  m_created = true;
  return true;
}

void CreationLock::remove_created()
{
  if (m_created) {
    for (const char* suffix : {"-wal", "-shm", "-journal", ""}) {
      const std::string name = m_file.resolved + suffix;
      struct stat st {};
      if (::lstat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        ::unlink(name.c_str());
      }
    }
    m_created = false;
  }
  remove_folders(m_file.created_folders);
}

void warn_if_exposed(const DatabaseFile& file)
{
  static std::atomic<bool> warned{false};
  if (warned.load()) {
    return;
  }
  std::vector<std::string> details;
  std::vector<std::string> loose_files;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string name = file.resolved + suffix;
    struct stat st {};
    if (::lstat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & k_exposed_file_bits) != 0) {
      details.push_back(fmt::format("{} is mode {}", name, mode_text(st.st_mode)));
      loose_files.push_back(util::shell_quote(name));
    }
  }
  std::vector<std::string> fixes;
  if (!loose_files.empty()) {
    fixes.push_back(fmt::format("chmod g-w,o-rw {}", fmt::join(loose_files, " ")));
  }
  struct stat st {};
  std::string shared_folder;
  if (::stat(file.folder.c_str(), &st) == 0 && (st.st_mode & k_exposed_folder_bits) != 0) {
    details.push_back(fmt::format("{} is mode {}", file.folder, mode_text(st.st_mode)));
    if ((st.st_mode & S_ISVTX) != 0) {
      // A shared folder such as /tmp: chmod-ing it would break everyone else.
      shared_folder = file.folder;
    } else {
      fixes.push_back(fmt::format("chmod go-w {}", util::shell_quote(file.folder)));
    }
  }
  if (details.empty() || warned.exchange(true)) {
    return;
  }
  std::string advice;
  if (!fixes.empty()) {
    advice = fmt::format("run \"{}\"", fmt::join(fixes, " && "));
  }
  if (!shared_folder.empty()) {
    advice += fmt::format("{}move the database out of the shared folder {} into one of its own",
                          advice.empty() ? "" : ", and ", shared_folder);
  }
  util::log_warning(fmt::format("database {} can be read or changed by other users ({}): {}",
                                file.path, fmt::join(details, ", "), advice));
}

} // namespace hb::store::sqlite
