// SPDX-License-Identifier: MIT
#pragma once

// The byte-level encodings channels need: Basic auth and MIME (base64, quoted-printable,
// RFC 2047 words), HTML forms, HTML text, and the webhook signature.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hb::delivery {

// Returns `data` in base64 (RFC 4648, with padding, no line breaks).
std::string base64(std::string_view data);

// Returns `fields` as an application/x-www-form-urlencoded body: "To=%2B1555&Body=a+b".
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// Returns `text` with every byte but RFC 3986's unreserved ones percent-encoded, for a path
// segment.
std::string percent_encode(std::string_view text);

// Returns `text` (UTF-8, lines ending in "\n" or "\r\n") as quoted-printable (RFC 2045) with
// CRLF line ends and lines of at most 76 characters, so that no SMTP line limit is ever reached.
std::string quoted_printable(std::string_view text);

// Returns `text` as it may stand in a mail header: line breaks and other control characters
// become spaces (no header injection), and non-ASCII text becomes RFC 2047 encoded words.
std::string header_text(std::string_view text);

// Returns `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(std::string_view text);

// Returns the lowercase hex HMAC-SHA256 of `data` under `key` (OpenSSL's libcrypto).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

} // namespace hb::delivery
