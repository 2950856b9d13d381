// SPDX-License-Identifier: MIT
#pragma once

#include "util/chrono.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hb::util {

// The time source. Abstract so that tests, and any tool through HB_NOW, can run "at" a chosen
// instant; everything that reads the wall clock goes through one of these.
class Clock {
public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
public:
  TimePoint now() const override;
};

// A clock that starts at a chosen instant and then advances with real (monotonic) time, so
// durations inside one run stay realistic. This is what HB_NOW selects.
class OffsetClock final : public Clock {
public:
  explicit OffsetClock(TimePoint start);
  TimePoint now() const override;

private:
  TimePoint m_start;
  std::chrono::steady_clock::time_point m_steady_start;
};

// A clock that only moves when told to; for unit tests.
class ManualClock final : public Clock {
public:
  explicit ManualClock(TimePoint start) : m_now(start) {}
  TimePoint now() const override { return m_now; }
  void set(TimePoint t) { m_now = t; }
  void advance(Duration d) { m_now += d; }

private:
  TimePoint m_now;
};

// Parses an RFC 3339 timestamp ("2026-02-18T14:05:00Z", "2026-02-18T09:05:00.250-05:00").
// Returns std::nullopt when `text` is not one.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// Formats as RFC 3339 UTC with second precision: "2026-02-18T14:05:00Z". Times outside years
// 0000-9999, which RFC 3339 cannot write, are shown as its first or last second.
std::string format_rfc3339(TimePoint t);

// Milliseconds since the Unix epoch, for storage.
std::int64_t to_unix_ms(TimePoint t);
TimePoint from_unix_ms(std::int64_t ms);

} // namespace hb::util
