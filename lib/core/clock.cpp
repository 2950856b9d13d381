// SPDX-License-Identifier: MIT
#include "core/clock.hpp"

#include "core/errors.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace hb {

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
