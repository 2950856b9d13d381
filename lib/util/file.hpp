// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hb::util {

// What read_regular_file() found: the content, or why there is none.
struct FileRead {
  std::optional<std::string> content;
  // Set when `content` is not: a phrase that follows the file's name, lowercase, e.g. "no such
  // file or directory", "permission denied", "is a FIFO, not a regular file", "is 5.2 MiB, over
  // the 4 MiB limit for config files", "too many levels of symbolic links (a symlink loop?)".
  std::string error;
};

// Reads a whole file that must be a regular file of at most `max_bytes` bytes; `what` names the
// kind of file in the size message ("config files"). Anything else (a FIFO, a device such as
// /dev/zero, a directory, a socket) is refused by its type before a byte is read, so a hostile
// or mistaken path can neither block the caller nor make it read without end. The type is
// looked at before opening (opening some devices has side effects) and again on the opened
// descriptor, which is opened non-blocking (a FIFO swapped in meanwhile cannot block it). The
// size is checked from fstat and again while reading (files in /proc report 0 and grow).
// Symlinks are followed. Never throws for I/O problems (only std::bad_alloc).
FileRead read_regular_file(const std::filesystem::path& path, std::size_t max_bytes,
                           std::string_view what);

// "512 bytes", "64 KiB", "5.2 MiB", "1.5 GiB": a size for messages, with one decimal when it is
// not a whole number of the unit.
std::string format_bytes(std::uintmax_t bytes);

// The phrase read_regular_file() uses for an errno from stat or open: strerror's text in
// lowercase, except ELOOP, which is said as "too many levels of symbolic links (a symlink
// loop?)".
std::string describe_file_error(int error);

// Replaces `path` with `text` so that a reader sees the old file or the new one, never a part:
// written to a temporary dot file in the same folder (a name no collector or web server picks
// up: it ends in random letters), fsynced, given `mode`, renamed over `path`, and the folder
// fsynced. Returns "" when done, else why not (a phrase that follows the path, e.g. "creating a
// temporary file in /srv: permission denied"); the temporary file is removed then.
std::string write_file_atomically(const std::filesystem::path& path, std::string_view text,
                                  unsigned mode);

} // namespace hb::util
