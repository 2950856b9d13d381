// SPDX-License-Identifier: MIT
#include "output/json_text.hpp"

#include "checks/perfdata.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace hb::output {

std::string escape_hidden_controls(std::string_view json)
{
  std::string out;
  out.reserve(json.size());
  std::size_t i = 0;
  while (i < json.size()) {
    const auto c = static_cast<unsigned char>(json[i]);
    // Every hidden control is two bytes (C2 80-9F, D8 9C) or three (E2 80/81 xx).
    if ((c == 0xC2 || c == 0xD8) && i + 1 < json.size()) {
      const auto next = static_cast<unsigned char>(json[i + 1]);
      const std::uint32_t code = ((c & 0x1Fu) << 6) | (next & 0x3Fu);
      if ((next & 0xC0) == 0x80 && checks::is_hidden_control(code)) {
        out += fmt::format("\\u{:04x}", code);
        i += 2;
        continue;
      }
    } else if (c == 0xE2 && i + 2 < json.size()) {
      const auto second = static_cast<unsigned char>(json[i + 1]);
      const auto third = static_cast<unsigned char>(json[i + 2]);
      const std::uint32_t code = ((c & 0x0Fu) << 12) | ((second & 0x3Fu) << 6) | (third & 0x3Fu);
      if ((second & 0xC0) == 0x80 && (third & 0xC0) == 0x80 && checks::is_hidden_control(code)) {
        out += fmt::format("\\u{:04x}", code);
        i += 3;
        continue;
      }
    }
    out += json[i];
    ++i;
  }
  return out;
}

} // namespace hb::output
