// SPDX-License-Identifier: MIT
#include "util/redact.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

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
    const Redactor redactor({"abcd", "abcdefgh", ""});
    CHECK(redactor.redact("x abcdefgh y abcd abcd") == "x *** y *** ***");
  }

  SECTION("at the start, at the end, side by side, and a whole text")
  {
    const Redactor redactor({"t0ken", "hunter2"});
    CHECK(redactor.redact("t0ken") == "***");
    CHECK(redactor.redact("t0ken hunter2") == "*** ***");
    CHECK(redactor.redact("t0kenhunter2t0ken") == "*********");
    CHECK(redactor.redact("x t0ke hunter") == "x t0ke hunter");
  }

  SECTION("thousands of secrets with a common prefix")
  {
    std::vector<std::string> secrets;
    for (int i = 0; i < 5000; ++i) {
      secrets.push_back("ghp_" + std::to_string(i * 7919));
      secrets.push_back("ghp_" + std::to_string(i * 7919)); // each use of a value counts once
    }
    const Redactor redactor(secrets);
    CHECK(redactor.redact("tokens ghp_7919 and ghp_39587081, not ghp_1")
          == "tokens *** and ***, not ghp_1");
  }

  SECTION("values shorter than 4 characters are not searched for")
  {
    const Redactor redactor({"on", "42", "abc", "abcd"});
    CHECK(redactor.redact("on 42 abc abcd") == "on 42 abc ***");
  }

  SECTION("without secrets the text is unchanged")
  {
    CHECK(Redactor().redact("CRITICAL: down") == "CRITICAL: down");
  }
}
