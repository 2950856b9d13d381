// SPDX-License-Identifier: MIT
// Fuzzes opening a database file: hb::store::open_store on a file (and WAL) the input supplies,
// which checks the path, opens it with SQLite, reads the schema version and migrates. A file
// that is not a usable heartbeat database (a garbage or truncated header, a schema version
// heartbeat never wrote, a corrupt page) must be refused with hb::StoreError; any other
// exception, a crash or a sanitizer report is a finding.
//
// The input:
//   byte 0      flags: 1 open as a reader (OpenMode::existing), else as a writer (read_write);
//               2 set the header's user_version (offset 60) to bytes 1-4;
//               4 split the rest at bytes 5-6: the database file, then its -wal file
//   bytes 1-4   user_version, big-endian two's complement (with flag 2)
//   bytes 5-6   where the -wal starts in the rest, big-endian (with flag 4)
//   the rest    the database file
// An input shorter than 7 bytes is the database file itself, opened as a writer. Seeds in
// fuzz/corpus/store are real heartbeat databases at each schema version (fuzz/store_seeds.py).
#include "core/errors.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <typeinfo>

#include <fcntl.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

fs::path g_scratch;
std::string g_database;

[[noreturn]] void fail(const std::string& what)
{
  std::fprintf(stderr, "fuzz_store: %s\n", what.c_str());
  std::abort();
}

void write_file(const std::string& path, std::string_view content)
{
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail("cannot create " + path + ": " + std::strerror(errno));
  }
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n <= 0) {
      fail("cannot write " + path + ": " + std::strerror(errno));
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

void remove_database()
{
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    ::unlink((g_database + suffix).c_str());
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/)
{
  // A tmpfs when there is one: every run writes the file, and a writer migrates it with fsyncs.
  const char* tmp = std::getenv("TMPDIR");
  std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                     : tmp != nullptr && *tmp != '\0' ? tmp
                                                      : "/tmp";
  std::string scratch = base + "/hb-fuzz-store.XXXXXX";
  if (::mkdtemp(scratch.data()) == nullptr) {
    std::perror("fuzz_store: mkdtemp");
    std::exit(1);
  }
  g_scratch = scratch;
  g_database = (g_scratch / "heartbeat.db").string();
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(g_scratch, ignored);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint8_t flags = 0;
  std::string database(input);
  std::string wal;
  if (size >= 7) {
    flags = data[0];
    database.assign(input.substr(7));
    if ((flags & 2) != 0 && database.size() >= 64) {
      database.replace(60, 4, input.substr(1, 4));
    }
    if ((flags & 4) != 0) {
      const std::size_t split = std::min<std::size_t>(
        (static_cast<std::size_t>(data[5]) << 8) | data[6], database.size());
      wal = database.substr(split);
      database.resize(split);
    }
  }
  const auto mode = (flags & 1) != 0 ? hb::store::OpenMode::existing
                                     : hb::store::OpenMode::read_write;

  remove_database();
  write_file(g_database, database);
  if (!wal.empty()) {
    write_file(g_database + "-wal", wal);
  }
  try {
    auto store = hb::store::open_store(g_database, mode);
    if (store == nullptr && mode == hb::store::OpenMode::read_write) {
      fail("open_store returned no store for a writer");
    }
  } catch (const hb::StoreError&) {
    // the expected refusal
  } catch (const std::exception& e) {
    fail(std::string("unexpected ") + typeid(e).name() + " escaped open_store: " + e.what());
  } catch (...) {
    fail("an exception that is not a std::exception escaped open_store");
  }
  remove_database();
  return 0;
}
