// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <string>
#include <string_view>

namespace hb::output {

enum class Tone { plain, good, warn, bad, muted, bold };

// Colours text for a terminal, or leaves it alone. Which one is decided once by the tool
// (--color, NO_COLOR, whether stdout is a terminal); printers just ask for a tone.
class Style {
public:
  explicit Style(bool color) : m_color(color) {}
  bool color() const { return m_color; }
  std::string paint(std::string_view text, Tone tone) const;

private:
  bool m_color;
};

Tone tone_of(Health health);
Tone tone_of(ExecStatus status);
Tone tone_of(CheckStatus status);

// Number of terminal columns `text` takes (UTF-8 code points; escape sequences not counted).
std::size_t display_width(std::string_view text);

// Cuts `text` to at most `width` columns, ending with "…" when cut; newlines become spaces.
std::string truncate(std::string_view text, std::size_t width);

} // namespace hb::output
