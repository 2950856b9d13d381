// SPDX-License-Identifier: MIT
#include "util/file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::util {
namespace {

constexpr std::size_t k_chunk = 64 * 1024;

// "a FIFO", "a character device", ...: what a file that is not regular is, for messages.
std::string_view type_name(mode_t mode)
{
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "a special file";
}

std::string not_regular(mode_t mode)
{
  return fmt::format("is {}, not a regular file", type_name(mode));
}

std::string over_limit(std::uintmax_t size, std::size_t max_bytes, std::string_view what)
{
  return fmt::format("is {}, over the {} limit for {}", format_bytes(size),
                     format_bytes(max_bytes), what);
}

class ScopedFd {
public:
  explicit ScopedFd(int fd)
      : m_fd(fd)
  {
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  int get() const { return m_fd; }

private:
  int m_fd;
};

} // namespace

std::string describe_file_error(int error)
{
  if (error == ELOOP) {
    return "too many levels of symbolic links (a symlink loop?)";
  }
  std::string text = std::strerror(error);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

std::string format_bytes(std::uintmax_t bytes)
{
  if (bytes < 1024) {
    return fmt::format("{} {}", bytes, bytes == 1 ? "byte" : "bytes");
  }
  constexpr std::array<std::string_view, 5> k_units{"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < k_units.size()) {
    value /= 1024.0;
    ++unit;
  }
  // Rounded up: a file one byte over a 4 MiB limit is "4.1 MiB", never "4.0 MiB".
  value = std::ceil(value * 10.0) / 10.0;
  if (value == std::floor(value)) {
    return fmt::format("{:.0f} {}", value, k_units[unit]);
  }
  return fmt::format("{:.1f} {}", value, k_units[unit]);
}

FileRead read_regular_file(const std::filesystem::path& path, std::size_t max_bytes,
                           std::string_view what)
{
  FileRead out;
  const auto fail = [&](std::string error) {
    out.error = std::move(error);
    return std::move(out);
  };

  // The type is known before opening: opening a device can have effects of its own (a tape
  // rewinds, a watchdog starts), and a FIFO must not be opened for long anyway.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return fail(describe_file_error(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(not_regular(info.st_mode));
  }

  // O_NONBLOCK: were the file replaced by a FIFO since stat, opening it still returns at once.
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return fail(describe_file_error(errno));
  }
  const ScopedFd file(fd);
  if (::fstat(file.get(), &info) != 0) {
    return fail(describe_file_error(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(not_regular(info.st_mode));
  }
  if (info.st_size > 0 && static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    return fail(over_limit(static_cast<std::uintmax_t>(info.st_size), max_bytes, what));
  }

  // st_size can be wrong (files in /proc say 0) or change while we read: at most max_bytes + 1
  // bytes are read, and the one byte too many is the proof the file is over the limit.
  std::string content;
  content.reserve(std::min<std::size_t>(static_cast<std::size_t>(std::max<off_t>(info.st_size, 0)),
                                        max_bytes) +
                  1);
  char buffer[k_chunk];
  while (content.size() <= max_bytes) {
    const std::size_t want = std::min(sizeof buffer, max_bytes + 1 - content.size());
    const ssize_t n = ::read(file.get(), buffer, want);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(describe_file_error(errno));
    }
    if (n == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  if (content.size() > max_bytes) {
    return fail(fmt::format("is over the {} limit for {}", format_bytes(max_bytes), what));
  }
  out.content = std::move(content);
  return out;
}

std::string write_file_atomically(const std::filesystem::path& path, std::string_view text,
                                  unsigned mode)
{
  if (path.filename().empty()) {
    return "expected a file name, not a folder";
  }
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  std::string temp = (folder / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return fmt::format("creating a temporary file in {}: {}", folder.string(),
                       describe_file_error(errno));
  }
  auto abandon = [&](int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    return describe_file_error(error);
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    return abandon(errno);
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return abandon(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return abandon(errno);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return describe_file_error(error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return describe_file_error(error);
  }
  // The rename itself reaches the disk with the folder.
  if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

} // namespace hb::util
