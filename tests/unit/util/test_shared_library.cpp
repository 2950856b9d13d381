// SPDX-License-Identifier: MIT
#include "util/shared_library.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using hb::util::SharedLibrary;

TEST_CASE("SharedLibrary opens a library and resolves its functions")
{
  SharedLibrary libc("libc.so.6", "libc6");
  REQUIRE(libc.loaded());
  decltype(&std::strlen) length = nullptr;
  REQUIRE(libc.resolve("strlen", length));
  CHECK(length("four") == 4);
  CHECK(libc.error().empty());

  // A function the library does not have: false, and the error names it.
  decltype(&std::strlen) missing = nullptr;
  CHECK_FALSE(libc.resolve("hb_no_such_function", missing));
  CHECK(missing == nullptr);
  CHECK(libc.error() == "libc.so.6 has no hb_no_such_function");
}

TEST_CASE("SharedLibrary says which package a missing library comes from")
{
  SharedLibrary none("libhb-not-there.so.7", "libhb-not-there7");
  CHECK_FALSE(none.loaded());
  CHECK_THAT(none.error(),
             Catch::StartsWith("cannot load libhb-not-there.so.7 (is the package libhb-not-there7 "
                               "installed?): "));
  int (*anything)() = nullptr;
  CHECK_FALSE(none.resolve("anything", anything));
}
