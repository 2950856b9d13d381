// SPDX-License-Identifier: MIT
#include "core/clock.hpp"

#include "core/errors.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace hb {

bool from_the_future(TimePoint stored, TimePoint now)
{
  return stored - now > k_clock_skew_tolerance;
}

bool from_the_future(const std::optional<TimePoint>& stored, TimePoint now)
{
  return stored && from_the_future(*stored, now);
}

std::string skew_text(TimePoint stored, TimePoint now)
{
  return fmt::format("dated {} ahead of this clock (clock skew?)",
                     util::format_duration(stored - now));
}

std::unique_ptr<util::Clock> clock_from_environment()
{
  const char* value = std::getenv("HB_NOW");
  if (value == nullptr || *value == '\0') {
    return std::make_unique<util::SystemClock>();
  }
  auto start = util::parse_rfc3339(value);
  if (!start) {
    throw UsageError(fmt::format(
      "HB_NOW: expected an RFC 3339 timestamp like \"2026-02-18T14:05:00Z\", got \"{}\"", value));
  }
  return std::make_unique<util::OffsetClock>(*start);
}

} // namespace hb
