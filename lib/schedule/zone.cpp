// SPDX-License-Identifier: MIT
#include "schedule/zone.hpp"

#include <exception>

namespace hb::schedule {

const date::time_zone* locate_zone_or_utc(std::string_view name)
{
  if (name.empty()) {
    return date::locate_zone("UTC");
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

} // namespace hb::schedule
