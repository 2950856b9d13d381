// SPDX-License-Identifier: MIT
#include "delivery/encoding.hpp"

#include <catch2/catch.hpp>

using namespace hb::delivery;

TEST_CASE("base64", "[delivery]")
{
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64("AC123:tok") == "QUMxMjM6dG9r");
}

TEST_CASE("delivery::form_encode", "[delivery]")
{
  CHECK(form_encode({{"To", "+15550002222"}, {"Body", "a b&c=d/é"}}) ==
        "To=%2B15550002222&Body=a+b%26c%3Dd%2F%C3%A9");
}

TEST_CASE("delivery::quoted_printable", "[delivery]")
{
  CHECK(quoted_printable("a=b\n") == "a=3Db\r\n");
  CHECK(quoted_printable("caf\u00e9") == "caf=C3=A9");
  CHECK(quoted_printable("trailing \nspace") == "trailing=20\r\nspace");
  CHECK(quoted_printable(".\n") == "=2E\r\n");
  const std::string long_line = quoted_printable(std::string(200, 'x'));
  CHECK(long_line.find("=\r\n") == 75);
}

TEST_CASE("delivery::header_text", "[delivery]")
{
  CHECK(header_text("plain subject") == "plain subject");
  CHECK(header_text("a\r\nBcc: x") == "a  Bcc: x");
  CHECK(header_text("caf\u00e9") == "=?UTF-8?B?Y2Fmw6k=?=");
}

TEST_CASE("delivery::html_escape", "[delivery]")
{
  CHECK(html_escape(R"(<a href="x">&'</a>)") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

TEST_CASE("hmac_sha256_hex", "[delivery]")
{
  // RFC 4231, test case 2.
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
