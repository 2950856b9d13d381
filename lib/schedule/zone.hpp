// SPDX-License-Identifier: MIT
#pragma once

#include <date/tz.h>

#include <string_view>

namespace hb::schedule {

// Returns the IANA time zone called `name`, or UTC when `name` is empty or unknown to tzdata.
// Never throws: the config validates timezones, so an unknown one only comes from a stale
// database row, and falling back to UTC keeps that row readable.
const date::time_zone* locate_zone_or_utc(std::string_view name);

} // namespace hb::schedule
