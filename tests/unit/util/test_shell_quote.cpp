// SPDX-License-Identifier: MIT
#include "util/shell_quote.hpp"

#include <catch2/catch.hpp>

using hb::util::shell_quote;

TEST_CASE("shell_quote")
{
  SECTION("plain words stay bare")
  {
    CHECK(shell_quote(std::vector<std::string>{"check_disk", "-w", "10%", "/var/lib"})
          == "check_disk -w 10% /var/lib");
  }

  SECTION("words a shell would split or expand are single-quoted")
  {
    CHECK(shell_quote(std::vector<std::string>{"sh", "-c", "echo tick; date"})
          == "sh -c 'echo tick; date'");
    CHECK(shell_quote(std::vector<std::string>{"echo", "$HOME", "a\"b"}) == "echo '$HOME' 'a\"b'");
  }

  SECTION("a single quote is closed, escaped and reopened; the empty word is ''")
  {
    CHECK(shell_quote(std::string_view("it's")) == R"('it'\''s')");
    CHECK(shell_quote(std::vector<std::string>{"printf", ""}) == "printf ''");
  }

  SECTION("masked secrets read ***")
  {
    CHECK(shell_quote(std::vector<std::string>{"cmd", "--password=***", "***"})
          == "cmd --password=*** ***");
  }
}
