// SPDX-License-Identifier: MIT
#include "util/file.hpp"

#include "support/fifo.hpp"
#include "support/tool_runner.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace fs = std::filesystem;
using hb::util::format_bytes;
using hb::util::read_regular_file;

TEST_CASE("read_regular_file")
{
  hb::test::TempDir dir;

  SECTION("a regular file within the limit is read whole")
  {
    const fs::path file = dir.write("a.json", "{\"x\": 1}\n");
    const auto read = read_regular_file(file, 64, "config files");
    REQUIRE(read.content);
    CHECK(*read.content == "{\"x\": 1}\n");
    CHECK(read.error.empty());
  }

  SECTION("a file of exactly the limit is read, one byte more is refused by its size")
  {
    const fs::path file = dir.write("a.json", std::string(100, 'x'));
    CHECK(read_regular_file(file, 100, "config files").content == std::string(100, 'x'));
    const auto read = read_regular_file(dir.write("b.json", std::string(101, 'x')), 100,
                                        "config files");
    CHECK_FALSE(read.content);
    CHECK(read.error == "is 101 bytes, over the 100 bytes limit for config files");
  }

  SECTION("a large file is refused by its size, without reading it")
  {
    const fs::path file = dir.write("big.json", "");
    fs::resize_file(file, 5 * 1024 * 1024 + 200 * 1024); // sparse: 5.2 MiB
    const auto read = read_regular_file(file, 4 * 1024 * 1024, "config files");
    CHECK_FALSE(read.content);
    CHECK(read.error == "is 5.2 MiB, over the 4 MiB limit for config files");
  }

  SECTION("a file whose size says 0 is still cut at the limit (/proc)")
  {
    const auto read = read_regular_file("/proc/self/status", 16, "secret files");
    CHECK_FALSE(read.content);
    CHECK(read.error == "is over the 16 bytes limit for secret files");
  }

  SECTION("a FIFO is refused by its type and never waited on")
  {
    const hb::test::Fifo fifo(dir / "pipe.json");
    const auto read = read_regular_file(fifo.path(), 1024, "config files");
    CHECK_FALSE(read.content);
    CHECK(read.error == "is a FIFO, not a regular file");
  }

  SECTION("devices, directories and sockets are refused by their type")
  {
    CHECK(read_regular_file("/dev/null", 1024, "config files").error
          == "is a character device, not a regular file");
    CHECK(read_regular_file(dir.path(), 1024, "config files").error
          == "is a directory, not a regular file");

    const fs::path socket_path = dir / "s.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(socket_path.string().size() < sizeof address.sun_path);
    socket_path.string().copy(address.sun_path, sizeof address.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    CHECK(read_regular_file(socket_path, 1024, "config files").error
          == "is a socket, not a regular file");
    ::close(fd);
  }

  SECTION("a symlink is followed; the type that counts is the target's")
  {
    const fs::path file = dir.write("real.json", "{}");
    fs::create_symlink(file, dir / "link.json");
    CHECK(read_regular_file(dir / "link.json", 1024, "config files").content == "{}");
    fs::create_symlink("/dev/null", dir / "null.json");
    CHECK(read_regular_file(dir / "null.json", 1024, "config files").error
          == "is a character device, not a regular file");
  }

  SECTION("a symlink loop says so, not \"no such file\"")
  {
    fs::create_symlink("b.json", dir / "a.json");
    fs::create_symlink("a.json", dir / "b.json");
    CHECK(read_regular_file(dir / "a.json", 1024, "config files").error
          == "too many levels of symbolic links (a symlink loop?)");
  }

  SECTION("a missing file and a dangling symlink: no such file")
  {
    CHECK(read_regular_file(dir / "missing.json", 1024, "config files").error
          == "no such file or directory");
    fs::create_symlink("missing.json", dir / "dangling.json");
    CHECK(read_regular_file(dir / "dangling.json", 1024, "config files").error
          == "no such file or directory");
  }

  SECTION("an unreadable file: permission denied")
  {
    if (::geteuid() == 0) {
      WARN("running as root: permissions are not enforced, skipping");
    } else {
      const fs::path file = dir.write("secret", "x");
      fs::permissions(file, fs::perms::none);
      CHECK(read_regular_file(file, 1024, "secret files").error == "permission denied");
    }
  }
}

TEST_CASE("format_bytes")
{
  SECTION("bytes")
  {
    CHECK(format_bytes(0) == "0 bytes");
    CHECK(format_bytes(1) == "1 byte");
  }
  SECTION("whole units have no decimals")
  {
    CHECK(format_bytes(64 * 1024) == "64 KiB");
    CHECK(format_bytes(4 * 1024 * 1024) == "4 MiB");
  }
  SECTION("fractions are rounded up, so over a limit never reads as the limit")
  {
    CHECK(format_bytes(4 * 1024 * 1024 + 1) == "4.1 MiB");
    CHECK(format_bytes(1536) == "1.5 KiB");
  }
}
