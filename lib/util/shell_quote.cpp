// SPDX-License-Identifier: MIT
#include "util/shell_quote.hpp"

namespace hb::util {
namespace {

bool is_plain(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || std::string_view("_-+=@%:,./*").find(c) != std::string_view::npos;
}

} // namespace

std::string shell_quote(std::string_view argument)
{
  if (argument.empty()) {
    return "''";
  }
  bool plain = true;
  for (char c : argument) {
    plain = plain && is_plain(c);
  }
  if (plain) {
    return std::string(argument);
  }
  std::string out = "'";
  for (char c : argument) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string shell_quote(const std::vector<std::string>& argv)
{
  std::string out;
  for (const auto& argument : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    out += shell_quote(argument);
  }
  return out;
}

} // namespace hb::util
