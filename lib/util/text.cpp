// SPDX-License-Identifier: MIT
#include "util/text.hpp"

#include <fmt/format.h>

namespace hb::util {

std::string plural(long long n, std::string_view noun)
{
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

} // namespace hb::util
