// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <date/tz.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hb::schedule {

// A cron expression (SPEC §2 "Schedule"), read as local time in a time zone.
//
// Syntax: five fields separated by spaces or tabs,
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are both Sunday),
// each a comma list of `*`, `n`, `a-b`, `*/step`, `a-b/step` or `a/step` (a to the field's
// maximum). Names are case-insensitive and allowed in ranges (MON-FRI); SUN at the end of a
// day-of-week range means 7, so SAT-SUN and FRI-SUN work. Macros (case-insensitive): @yearly and
// @annually ("0 0 1 1 *"), @monthly ("0 0 1 * *"), @weekly ("0 0 * * 0"), @daily and @midnight
// ("0 0 * * *"), @hourly ("0 * * * *"); @reboot is refused, because heartbeat has no boot.
//
// Day rule (Vixie cron): when both day-of-month and day-of-week are restricted, a day matches if
// EITHER matches ("0 0 13 * 5" runs on every 13th and every Friday); otherwise both must match.
// As in Vixie cron a field counts as unrestricted when its text starts with `*`, so "*/2" in
// day-of-month is "unrestricted" and "0 0 */2 * 5" runs only on odd-numbered days that are
// Fridays.
//
// Daylight saving time (Vixie cron's rules; "fixed-hour" means the hour field does not start with
// `*`, "every-hour" means it does):
// - A local time that does not exist (spring forward: 02:30 on 2026-03-08 in America/New_York):
//   a fixed-hour job runs once at the transition instant, the first valid local time after the
//   gap (03:00 EDT = 07:00Z), however many of its times fall in the gap; an every-hour job has
//   no runs in the skipped hour.
// - A local time that occurs twice (fall back: 01:30 on 2026-11-01 in America/New_York): a
//   fixed-hour job runs once, at the first occurrence; an every-hour job follows elapsed time and
//   runs at both occurrences.
// Fire instants are ordered in UTC: next_after returns the earliest qualifying instant, so the
// second pass of a repeated hour comes after the first, whatever the local clock says.
//
// Evaluation is cheap: days are rejected with calendar bitmask checks, and the time zone is
// consulted once per UTC-offset period (about twice a year), not per candidate time.
class CronExpr {
public:
  // Parses a 5-field cron expression or a macro. Returns std::nullopt on failure and sets
  // `error` to a message without location, e.g. "day-of-month 32 out of range 1-31". An
  // expression whose day-of-month/month pairs can never occur ("0 0 30 2 *") is refused unless
  // the day-of-week field makes it fire through the OR rule.
  static std::optional<CronExpr> parse(std::string_view text, std::string& error);

  // Returns the first fire instant strictly after `after`, the fields read as local time in
  // `zone` (UTC when null), or std::nullopt when there is none within 10 years.
  std::optional<TimePoint> next_after(TimePoint after, const date::time_zone* zone) const;

  // Returns the last fire instant at or before `at`, or std::nullopt when there is none within
  // 10 years before it.
  std::optional<TimePoint> last_at_or_before(TimePoint at, const date::time_zone* zone) const;

  // The expression as written, trimmed ("@daily" stays "@daily").
  const std::string& text() const { return m_text; }

  // True when the hour field starts with `*`: the job follows elapsed time across DST changes
  // (see above) instead of running once per local day.
  bool every_hour() const { return m_hour_star; }

private:
  CronExpr() = default;

  bool day_matches(const date::year_month_day& ymd, date::weekday wd) const;
  // The earliest / latest matching local minute in [lo, hi), or std::nullopt.
  std::optional<date::local_seconds> first_match(date::local_seconds lo,
                                                 date::local_seconds hi) const;
  std::optional<date::local_seconds> last_match(date::local_seconds lo,
                                                date::local_seconds hi) const;

  std::string m_text;
  std::uint64_t m_minutes = 0;  // bit n: minute n
  std::uint64_t m_hours = 0;    // bit n: hour n
  std::uint64_t m_days = 0;     // bit n: day-of-month n (1-31)
  std::uint64_t m_months = 0;   // bit n: month n (1-12)
  std::uint64_t m_weekdays = 0; // bit n: weekday n (0 = Sunday ... 6 = Saturday)
  bool m_hour_star = false;
  bool m_day_star = false;     // day-of-month starts with `*`
  bool m_weekday_star = false; // day-of-week starts with `*`
};

} // namespace hb::schedule
