// SPDX-License-Identifier: MIT
#include "util/redact.hpp"

#include <catch2/catch.hpp>

using hb::util::mask_arguments;
using hb::util::Redactor;

TEST_CASE("mask_arguments")
{
  const auto masked = mask_arguments({"check_api", "--password=hunter2", "--api-token", "t0p",
                                      "https://user:pa55@example.com/x", "-v", "plain"});
  CHECK(masked.shown
        == std::vector<std::string>{"check_api", "--password=***", "--api-token", "***",
                                    "https://example.com/x", "-v", "plain"});
  CHECK(masked.hidden == std::vector<std::string>{"hunter2", "t0p"});
}

TEST_CASE("Redactor")
{
  SECTION("every occurrence of every secret is hidden, longest first")
  {
    const Redactor redactor({"abc", "abcdef", ""});
    CHECK(redactor.redact("x abcdef y abc abc") == "x *** y *** ***");
  }

  SECTION("without secrets the text is unchanged")
  {
    CHECK(Redactor().redact("CRITICAL: down") == "CRITICAL: down");
  }
}
