// SPDX-License-Identifier: MIT
// What the fuzzers check text heartbeat stores and shows against, written apart from
// lib/checks/perfdata.cpp's sanitize_text so that a mistake there is not repeated here.
#pragma once

#include "checks/perfdata.hpp"

#include <cstdint>
#include <string_view>

namespace hb::fuzz {

// Decodes the UTF-8 character at `text[i]`: its code point and length, or length 0 when it is
// not one (strict: no overlong forms, no surrogates, nothing past U+10FFFF).
inline std::size_t decode_utf8(std::string_view text, std::size_t i, std::uint32_t& code)
{
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  std::uint32_t smallest = 0;
  if (c < 0x80) {
    code = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) {
    length = 2;
    code = c & 0x1Fu;
    smallest = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    code = c & 0x0Fu;
    smallest = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    code = c & 0x07u;
    smallest = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (next & 0x3Fu);
  }
  if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

inline bool is_valid_utf8(std::string_view text)
{
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t code = 0;
    const std::size_t length = decode_utf8(text, i, code);
    if (length == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

// Returns true when valid UTF-8 `text` holds a character no terminal may be given: a C0 control
// (but '\n' and '\t' when `keep_newlines` is yes), DEL, a C1 control, or a bidirectional
// formatting character (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
inline bool has_control(std::string_view text, checks::KeepNewlines keep_newlines)
{
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t code = 0;
    const std::size_t length = decode_utf8(text, i, code);
    if (length == 0) {
      ++i;
      continue;
    }
    i += length;
    if (keep_newlines == checks::KeepNewlines::yes && (code == '\n' || code == '\t')) {
      continue;
    }
    if (code < 0x20 || (code >= 0x7F && code <= 0x9F) || code == 0x061C || code == 0x200E ||
        code == 0x200F || (code >= 0x202A && code <= 0x202E) ||
        (code >= 0x2066 && code <= 0x2069)) {
      return true;
    }
  }
  return false;
}

} // namespace hb::fuzz
