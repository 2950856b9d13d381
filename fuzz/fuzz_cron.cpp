// SPDX-License-Identifier: MIT
// Fuzzes hb::schedule::CronExpr::parse, then evaluates every accepted expression in a few time
// zones (with DST gaps, half-hour DST and a +05:45 offset) around a few fixed instants, and
// aborts when next_after and last_at_or_before disagree with each other: a fire instant found
// by one must be found by the other, and neither may skip one.
#include "schedule/cron.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

using hb::TimePoint;
using hb::schedule::CronExpr;
using namespace std::chrono_literals;

constexpr std::array<const char*, 4> k_zones{"UTC", "America/New_York", "Australia/Lord_Howe",
                                             "Asia/Kathmandu"};

TimePoint at(date::year_month_day day, std::chrono::minutes time_of_day)
{
  return TimePoint{date::sys_days{day} + time_of_day};
}

// Just before the 2026 spring-forward gap and the fall-back repeat in New York (06:59Z and
// 05:30Z), a leap day, and an instant that is not on a minute boundary.
const std::array<TimePoint, 4> k_instants{
  at(date::year{2026} / 3 / 8, 6h + 59min),
  at(date::year{2026} / 11 / 1, 5h + 30min),
  at(date::year{2028} / 2 / 29, 0min),
  at(date::year{2026} / 10 / 4, 15h + 45min) + 30'500ms,
};

std::string show(TimePoint t)
{
  return date::format("%FT%TZ", t);
}

[[noreturn]] void fail(const CronExpr& expr, const char* zone, TimePoint t, const std::string& what)
{
  std::fprintf(stderr, "fuzz_cron: \"%s\" in %s around %s: %s\n", expr.text().c_str(), zone,
               show(t).c_str(), what.c_str());
  std::abort();
}

void check_consistency(const CronExpr& expr, const char* zone_name, TimePoint t)
{
  const date::time_zone* zone = date::locate_zone(zone_name);
  if (const auto next = expr.next_after(t, zone)) {
    if (*next <= t) {
      fail(expr, zone_name, t, "next_after gave " + show(*next) + ", not after");
    }
    if (next->time_since_epoch() % 60'000ms != 0ms) {
      fail(expr, zone_name, t, "next_after gave " + show(*next) + ", not on a minute");
    }
    const auto same = expr.last_at_or_before(*next, zone);
    if (same != next) {
      fail(expr, zone_name, t,
           "next_after gave " + show(*next) + " but last_at_or_before that instant gave " +
             (same ? show(*same) : std::string("none")));
    }
    const auto before = expr.last_at_or_before(*next - 1ms, zone);
    if (before && *before > t) {
      fail(expr, zone_name, t,
           "next_after gave " + show(*next) + " but last_at_or_before found " + show(*before) +
             " in between");
    }
  }
  if (const auto last = expr.last_at_or_before(t, zone)) {
    if (*last > t) {
      fail(expr, zone_name, t, "last_at_or_before gave " + show(*last) + ", which is after");
    }
    const auto same = expr.next_after(*last - 1ms, zone);
    if (same != last) {
      fail(expr, zone_name, t,
           "last_at_or_before gave " + show(*last) + " but next_after just before it gave " +
             (same ? show(*same) : std::string("none")));
    }
    const auto after = expr.next_after(*last, zone);
    if (after && *after <= t) {
      fail(expr, zone_name, t,
           "last_at_or_before gave " + show(*last) + " but next_after it found " + show(*after) +
             ", which is not after");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
  // Loads tzdata once, outside the measured runs.
  for (const char* zone : k_zones) {
    (void)date::locate_zone(zone);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto expr = CronExpr::parse(text, error);
  if (!expr) {
    if (error.empty()) {
      std::fprintf(stderr, "fuzz_cron: parse failed without a message\n");
      std::abort();
    }
    return 0;
  }
  // One instant per input, chosen by its bytes, keeps runs fast; mutations reach all four.
  std::size_t hash = size;
  for (std::size_t i = 0; i < size; ++i) {
    hash = hash * 31 + data[i];
  }
  const TimePoint t = k_instants[hash % k_instants.size()];
  for (const char* zone : k_zones) {
    check_consistency(*expr, zone, t);
  }
  return 0;
}
