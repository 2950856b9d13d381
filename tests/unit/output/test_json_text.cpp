// SPDX-License-Identifier: MIT
#include "output/json_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using hb::output::escape_hidden_controls;

TEST_CASE("escape_hidden_controls")
{
  SECTION("writes bidi formatting and C1 characters as \\u escapes")
  {
    CHECK(escape_hidden_controls("{\"m\":\"a\xE2\x80\xAE"
                                 "b\"}") == "{\"m\":\"a\\u202eb\"}");
    CHECK(escape_hidden_controls(
              "\"\xE2\x81\xA6\xE2\x81\xA9\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C\xC2\x9B\"") ==
          "\"\\u2066\\u2069\\u200e\\u200f\\u061c\\u009b\"");
  }

  SECTION("means the same to a JSON reader")
  {
    const nlohmann::json value = {{"tail", "ok \xE2\x80\xAE"
                                           "exe.txt\n\xC2\x85"},
                                  {"n", 1}};
    const std::string escaped = escape_hidden_controls(value.dump(2));
    CHECK(escaped.find("\xE2\x80\xAE") == std::string::npos);
    CHECK(nlohmann::json::parse(escaped) == value);
  }

  SECTION("leaves other text alone, invalid UTF-8 included")
  {
    const std::string kept =
        "\"caf\xC3\xA9 \xD7\xA9 \xE2\x80\xA9 \xF0\x9F\x92\x93 \xC2\xA0 \xE2\x80 \xC2\"";
    CHECK(escape_hidden_controls(kept) == kept);
  }
}
