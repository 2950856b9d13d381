// SPDX-License-Identifier: MIT
#include "util/text.hpp"

#include <fmt/format.h>

#include <fnmatch.h>

namespace hb::util {

std::string plural(long long n, std::string_view noun)
{
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

bool glob_match(const std::string& pattern, const std::string& text)
{
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

} // namespace hb::util
