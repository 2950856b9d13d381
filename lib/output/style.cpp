// SPDX-License-Identifier: MIT
#include "output/style.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace hb::output {

std::string Style::paint(std::string_view text, Tone tone) const
{
  if (!m_color || tone == Tone::plain) {
    return std::string(text);
  }
  const char* code = "";
  switch (tone) {
  case Tone::good:
    code = "\033[32m";
    break;
  case Tone::warn:
    code = "\033[33m";
    break;
  case Tone::bad:
    code = "\033[1;31m";
    break;
  case Tone::muted:
    code = "\033[2m";
    break;
  case Tone::bold:
    code = "\033[1m";
    break;
  case Tone::plain:
    break;
  }
  return std::string(code) + std::string(text) + "\033[0m";
}

Tone tone_of(Health health)
{
  switch (health) {
  case Health::healthy:
    return Tone::good;
  case Health::warning:
    return Tone::warn;
  case Health::failing:
    return Tone::bad;
  case Health::unknown:
    return Tone::muted;
  }
  return Tone::plain;
}

Tone tone_of(ExecStatus status)
{
  switch (status) {
  case ExecStatus::all_clear:
    return Tone::good;
  case ExecStatus::warning:
    return Tone::warn;
  case ExecStatus::alert:
  case ExecStatus::error:
    return Tone::bad;
  }
  return Tone::plain;
}

Tone tone_of(CheckStatus status) { return tone_of(to_exec_status(status)); }

std::size_t display_width(std::string_view text)
{
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {
      // Skip a CSI sequence: ESC [ ... letter.
      while (i < text.size() && !((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z'))) {
        ++i;
      }
      continue;
    }
    if ((c & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

std::string truncate(std::string_view text, std::size_t width)
{
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    clean += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (display_width(clean) <= width) {
    return clean;
  }
  std::string out;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const auto c = static_cast<unsigned char>(clean[i]);
    if ((c & 0xC0) != 0x80) {
      if (columns + 1 >= width) {
        break;
      }
      ++columns;
    }
    out += clean[i];
  }
  return out + std::string(symbol(Symbol::ellipsis));
}

namespace {
bool g_unicode = true;
} // namespace

void set_unicode(bool on) { g_unicode = on; }

bool unicode() { return g_unicode; }

std::string_view symbol(Symbol which)
{
  switch (which) {
  case Symbol::ok:
    return g_unicode ? "✓" : "+";
  case Symbol::bad:
    return g_unicode ? "✗" : "x";
  case Symbol::pending:
    return g_unicode ? "·" : ".";
  case Symbol::arrow:
    return g_unicode ? "→" : "->";
  case Symbol::ellipsis:
    return g_unicode ? "…" : "...";
  }
  return "";
}

bool locale_is_utf8()
{
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
      continue;
    }
    std::string text(value);
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text.find("utf-8") != std::string::npos || text.find("utf8") != std::string::npos;
  }
  return false;
}

} // namespace hb::output
