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
  explicit Style(bool color, std::size_t width = 0) : m_color(color), m_width(width) {}
  bool color() const { return m_color; }
  // The terminal's width that tables fit into by cutting their last column; 0: never cut.
  std::size_t width() const { return m_width; }
  std::string paint(std::string_view text, Tone tone) const;

private:
  bool m_color;
  std::size_t m_width;
};

Tone tone_of(Health health);
Tone tone_of(ExecStatus status);
Tone tone_of(CheckStatus status);

// Symbols the printers use, as UTF-8 or, where the locale is not UTF-8, as ASCII.
enum class Symbol { ok, bad, pending, arrow, ellipsis };

// Chooses UTF-8 (the default) or ASCII symbols for the whole process; tools decide once from the
// locale (LC_ALL, LC_CTYPE, LANG) before printing.
void set_unicode(bool unicode);
bool unicode();
std::string_view symbol(Symbol which);

// Returns true when the locale the environment names (LC_ALL, else LC_CTYPE, else LANG) uses
// UTF-8; false for "C", "POSIX", unset or another charset.
bool locale_is_utf8();

// Number of terminal columns `text` takes (UTF-8 code points; escape sequences not counted).
std::size_t display_width(std::string_view text);

// Cuts `text` to at most `width` columns, ending with "…" when cut; newlines become spaces.
std::string truncate(std::string_view text, std::size_t width);

} // namespace hb::output
