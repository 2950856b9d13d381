// SPDX-License-Identifier: MIT
#include "schedule/cron.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <utility>
#include <vector>

namespace hb::schedule {

namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// How far next_after / last_at_or_before look before giving up.
constexpr seconds k_search_window = date::years{10};

// More than any UTC offset change in the tz database (Samoa skipped a whole day in 2011), so a
// search that starts this far into an offset period cannot be inside the period's repeated hour.
constexpr seconds k_max_offset_change = hours{48};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> k_macros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

constexpr std::array<std::string_view, 12> k_month_names = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> k_day_names = {"sun", "mon", "tue", "wed",
                                                         "thu", "fri", "sat"};

// Days per month in a leap year, index 1-12: the most any (day, month) pair can have.
constexpr std::array<int, 13> k_max_days = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

enum class Names { none, months, days };

struct Field {
  std::string_view name;
  int min;
  int max;
  Names names;
};

constexpr Field k_minute{"minute", 0, 59, Names::none};
constexpr Field k_hour{"hour", 0, 23, Names::none};
constexpr Field k_day{"day-of-month", 1, 31, Names::none};
constexpr Field k_month{"month", 1, 12, Names::months};
constexpr Field k_weekday{"day-of-week", 0, 7, Names::days};

bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view text)
{
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Returns the number, saturated so that absurd values still report as out of range, or
// std::nullopt when `text` is not all digits.
std::optional<long> parse_digits(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  long value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = std::min(value * 10 + (c - '0'), 1'000'000L);
  }
  return value;
}

// Returns a field value (a number or, where allowed, a name); sets `error` on failure.
std::optional<int> parse_value(std::string_view text, const Field& field, std::string& error)
{
  if (const auto number = parse_digits(text)) {
    if (*number < field.min || *number > field.max) {
      error = fmt::format("{} {} out of range {}-{}", field.name, text, field.min, field.max);
      return std::nullopt;
    }
    return static_cast<int>(*number);
  }
  if (field.names == Names::months) {
    for (std::size_t i = 0; i < k_month_names.size(); ++i) {
      if (iequals(text, k_month_names[i])) {
        return static_cast<int>(i) + 1;
      }
    }
    error = fmt::format("{} \"{}\" is not a number or a month name", field.name, text);
    return std::nullopt;
  }
  if (field.names == Names::days) {
    for (std::size_t i = 0; i < k_day_names.size(); ++i) {
      if (iequals(text, k_day_names[i])) {
        return static_cast<int>(i);
      }
    }
    error = fmt::format("{} \"{}\" is not a number or a day name", field.name, text);
    return std::nullopt;
  }
  error = fmt::format("{} \"{}\" is not a number", field.name, text);
  return std::nullopt;
}

// Returns the field as a bitmask (bit n set when value n matches); sets `error` on failure.
std::optional<std::uint64_t> parse_field(std::string_view text, const Field& field,
                                         std::string& error)
{
  std::uint64_t bits = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view element = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (element.empty()) {
      error = fmt::format("{} has an empty list element", field.name);
      return std::nullopt;
    }

    const std::size_t slash = element.find('/');
    const std::string_view base = element.substr(0, slash);
    int low = 0;
    int high = 0;
    if (base == "*") {
      low = field.min;
      high = field.max;
    } else if (const std::size_t dash = base.find('-'); dash != std::string_view::npos) {
      const auto first = parse_value(base.substr(0, dash), field, error);
      if (!first) {
        return std::nullopt;
      }
      const std::string_view last_text = base.substr(dash + 1);
      auto last = parse_value(last_text, field, error);
      if (!last) {
        return std::nullopt;
      }
      // SAT-SUN reads as "Saturday to Sunday", not as a reversed 6-0.
      if (field.names == Names::days && *last == 0 && !parse_digits(last_text)) {
        last = 7;
      }
      if (*first > *last) {
        error = fmt::format("{} range {} is reversed", field.name, base);
        return std::nullopt;
      }
      low = *first;
      high = *last;
    } else {
      const auto value = parse_value(base, field, error);
      if (!value) {
        return std::nullopt;
      }
      low = *value;
      // "a/n" runs from a to the field's maximum, as in Vixie cron.
      high = slash == std::string_view::npos ? *value : field.max;
    }

    long step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view step_text = element.substr(slash + 1);
      const auto parsed = parse_digits(step_text);
      if (!parsed) {
        error = fmt::format("{} step \"{}\" is not a number", field.name, step_text);
        return std::nullopt;
      }
      if (*parsed == 0) {
        error = fmt::format("{} step 0 must be at least 1", field.name);
        return std::nullopt;
      }
      step = *parsed;
    }
    for (long v = low; v <= high; v += step) {
      bits |= std::uint64_t{1} << v;
    }

    if (comma == std::string_view::npos) {
      return bits;
    }
    start = comma + 1;
  }
}

// The lowest set bit at or above `from`, or -1.
int next_bit(std::uint64_t mask, int from)
{
  if (from >= 64) {
    return -1;
  }
  const std::uint64_t rest = mask >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

// The highest set bit at or below `to`, or -1.
int prev_bit(std::uint64_t mask, int to)
{
  if (to < 0) {
    return -1;
  }
  const std::uint64_t rest = to >= 63 ? mask : mask & ((std::uint64_t{2} << to) - 1);
  return rest == 0 ? -1 : static_cast<int>(std::bit_width(rest)) - 1;
}

bool has_bit(std::uint64_t mask, unsigned n)
{
  return ((mask >> n) & 1U) != 0;
}

date::local_seconds to_local(date::sys_seconds t, seconds offset)
{
  return date::local_seconds{t.time_since_epoch() + offset};
}

TimePoint to_utc(date::local_seconds t, seconds offset)
{
  return TimePoint{date::sys_seconds{t.time_since_epoch() - offset}};
}

const date::time_zone* zone_or_utc(const date::time_zone* zone)
{
  if (zone != nullptr) {
    return zone;
  }
  static const date::time_zone* const utc = date::locate_zone("UTC");
  return utc;
}

} // namespace

std::optional<CronExpr> CronExpr::parse(std::string_view text, std::string& error)
{
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) {
    error = "empty cron expression";
    return std::nullopt;
  }

  std::string_view fields_text = trimmed;
  if (trimmed.front() == '@') {
    const auto macro = std::find_if(k_macros.begin(), k_macros.end(),
                                    [&](const auto& m) { return iequals(trimmed, m.first); });
    if (macro == k_macros.end()) {
      if (iequals(trimmed, "@reboot")) {
        error = "@reboot is not supported (heartbeat runs tasks from hb-pulse, not at boot)";
      } else {
        error = fmt::format("unknown macro \"{}\" (use @hourly, @daily, @midnight, @weekly, "
                            "@monthly, @yearly or @annually)",
                            trimmed);
      }
      return std::nullopt;
    }
    fields_text = macro->second;
  }

  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < fields_text.size()) {
    if (is_blank(fields_text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < fields_text.size() && !is_blank(fields_text[i])) {
      ++i;
    }
    fields.push_back(fields_text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    error = fmt::format("expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                        fields.size());
    return std::nullopt;
  }

  CronExpr expr;
  expr.m_text = std::string(trimmed);
  const auto minutes_bits = parse_field(fields[0], k_minute, error);
  if (!minutes_bits) {
    return std::nullopt;
  }
  const auto hours_bits = parse_field(fields[1], k_hour, error);
  if (!hours_bits) {
    return std::nullopt;
  }
  const auto days_bits = parse_field(fields[2], k_day, error);
  if (!days_bits) {
    return std::nullopt;
  }
  const auto months_bits = parse_field(fields[3], k_month, error);
  if (!months_bits) {
    return std::nullopt;
  }
  const auto weekdays_bits = parse_field(fields[4], k_weekday, error);
  if (!weekdays_bits) {
    return std::nullopt;
  }
  expr.m_minutes = *minutes_bits;
  expr.m_hours = *hours_bits;
  expr.m_days = *days_bits;
  expr.m_months = *months_bits;
  // 7 is another name for Sunday.
  expr.m_weekdays = (*weekdays_bits & 0x7f) | ((*weekdays_bits >> 7) & 1U);
  expr.m_hour_star = fields[1].front() == '*';
  expr.m_day_star = fields[2].front() == '*';
  expr.m_weekday_star = fields[4].front() == '*';

  // With an unrestricted day-of-week both day fields must match, so a day-of-month that no
  // selected month has would make the schedule silently never run.
  if (expr.m_weekday_star) {
    bool possible = false;
    for (int month = 1; month <= 12 && !possible; ++month) {
      if (has_bit(expr.m_months, static_cast<unsigned>(month))) {
        possible = prev_bit(expr.m_days, k_max_days[static_cast<std::size_t>(month)]) >= 1;
      }
    }
    if (!possible) {
      error = fmt::format("day-of-month {} never occurs in month {}", fields[2], fields[3]);
      return std::nullopt;
    }
  }
  return expr;
}

bool CronExpr::day_matches(const date::year_month_day& ymd, date::weekday wd) const
{
  const bool day_ok = has_bit(m_days, static_cast<unsigned>(ymd.day()));
  const bool weekday_ok = has_bit(m_weekdays, wd.c_encoding());
  if (m_day_star || m_weekday_star) {
    return day_ok && weekday_ok;
  }
  return day_ok || weekday_ok;
}

std::optional<date::local_seconds> CronExpr::first_match(date::local_seconds lo,
                                                         date::local_seconds hi) const
{
  auto t = date::ceil<minutes>(lo);
  while (t < hi) {
    const auto day = date::floor<date::days>(t);
    const date::year_month_day ymd{day};
    if (!has_bit(m_months, static_cast<unsigned>(ymd.month()))) {
      const date::year_month next = date::year_month{ymd.year(), ymd.month()} + date::months{1};
      t = date::local_days{next / 1};
      continue;
    }
    if (!day_matches(ymd, date::weekday{day})) {
      t = day + date::days{1};
      continue;
    }
    const auto since_midnight = (t - day).count();
    const int hour = static_cast<int>(since_midnight / 60);
    const int minute = static_cast<int>(since_midnight % 60);
    int h = next_bit(m_hours, hour);
    int m = -1;
    if (h == hour) {
      m = next_bit(m_minutes, minute);
      if (m < 0) {
        h = next_bit(m_hours, hour + 1);
      }
    }
    if (h >= 0) {
      if (m < 0) {
        m = next_bit(m_minutes, 0);
      }
      const date::local_seconds found = day + hours{h} + minutes{m};
      if (found < hi) {
        return found;
      }
      return std::nullopt;
    }
    t = day + date::days{1};
  }
  return std::nullopt;
}

std::optional<date::local_seconds> CronExpr::last_match(date::local_seconds lo,
                                                        date::local_seconds hi) const
{
  auto t = date::floor<minutes>(hi - seconds{1});
  while (t >= lo) {
    const auto day = date::floor<date::days>(t);
    const date::year_month_day ymd{day};
    if (!has_bit(m_months, static_cast<unsigned>(ymd.month()))) {
      t = date::local_days{ymd.year() / ymd.month() / 1} - minutes{1};
      continue;
    }
    if (!day_matches(ymd, date::weekday{day})) {
      t = day - minutes{1};
      continue;
    }
    const auto since_midnight = (t - day).count();
    const int hour = static_cast<int>(since_midnight / 60);
    const int minute = static_cast<int>(since_midnight % 60);
    int h = prev_bit(m_hours, hour);
    int m = -1;
    if (h == hour) {
      m = prev_bit(m_minutes, minute);
      if (m < 0) {
        h = prev_bit(m_hours, hour - 1);
      }
    }
    if (h >= 0) {
      if (m < 0) {
        m = prev_bit(m_minutes, 59);
      }
      const date::local_seconds found = day + hours{h} + minutes{m};
      if (found >= lo) {
        return found;
      }
      return std::nullopt;
    }
    t = day - minutes{1};
  }
  return std::nullopt;
}

// Both searches walk the zone's UTC-offset periods (date::sys_info): inside one period local time
// and UTC differ by a constant, so the calendar search runs on local minutes and the first hit
// is also the earliest instant. The DST rules apply at the period edges: the gap before a later
// period's start, and the repeated local times at the start of a period that follows a larger
// offset.
std::optional<TimePoint> CronExpr::next_after(TimePoint after, const date::time_zone* zone) const
{
  const date::time_zone* tz = zone_or_utc(zone);
  // Fire instants are whole seconds, so "> after" is ">= the next whole second".
  const date::sys_seconds start = date::floor<seconds>(after) + seconds{1};
  const date::sys_seconds limit = start + k_search_window;
  if (!m_hour_star) {
    // A gap's runs fire at the instant it ends. The loop below finds them when it leaves the
    // period before the gap, so when `start` is that very instant it must look back itself.
    const date::sys_info period = tz->get_info(start);
    if (period.begin == start) {
      const date::sys_info before = tz->get_info(start - seconds{1});
      if (period.offset > before.offset &&
          first_match(to_local(start, before.offset), to_local(start, period.offset))) {
        return TimePoint{start};
      }
    }
  }
  date::sys_seconds t = start;
  while (t < limit) {
    const date::sys_info period = tz->get_info(t);
    const date::sys_seconds end = std::min(period.end, limit);
    date::local_seconds lo = to_local(t, period.offset);
    if (!m_hour_star && t - period.begin < k_max_offset_change) {
      // Local times at the start of a period after a fall-back already ran in the first pass.
      const date::sys_info before = tz->get_info(period.begin - seconds{1});
      if (before.offset > period.offset) {
        lo = std::max(lo, to_local(period.begin, before.offset));
      }
    }
    if (const auto found = first_match(lo, to_local(end, period.offset))) {
      return to_utc(*found, period.offset);
    }
    if (period.end >= limit) {
      break;
    }
    if (!m_hour_star) {
      const date::sys_info next = tz->get_info(period.end);
      if (next.offset > period.offset &&
          first_match(to_local(period.end, period.offset), to_local(period.end, next.offset))) {
        return TimePoint{period.end};
      }
    }
    t = period.end;
  }
  return std::nullopt;
}

std::optional<TimePoint> CronExpr::last_at_or_before(TimePoint at,
                                                     const date::time_zone* zone) const
{
  const date::time_zone* tz = zone_or_utc(zone);
  const date::sys_seconds start = date::floor<seconds>(at);
  const date::sys_seconds limit = start - k_search_window;
  date::sys_seconds t = start;
  while (t >= limit) {
    const date::sys_info period = tz->get_info(t);
    const bool begins_in_window = period.begin > limit;
    const date::sys_seconds begin = begins_in_window ? period.begin : limit;
    std::optional<date::sys_info> before;
    if (begins_in_window) {
      before = tz->get_info(period.begin - seconds{1});
    }
    date::local_seconds lo = to_local(begin, period.offset);
    if (!m_hour_star && before && before->offset > period.offset) {
      // Local times at the start of a period after a fall-back already ran in the first pass.
      lo = std::max(lo, to_local(period.begin, before->offset));
    }
    if (const auto found = last_match(lo, to_local(t, period.offset) + seconds{1})) {
      return to_utc(*found, period.offset);
    }
    if (!before) {
      break;
    }
    if (!m_hour_star && period.offset > before->offset &&
        first_match(to_local(period.begin, before->offset),
                    to_local(period.begin, period.offset))) {
      return TimePoint{period.begin};
    }
    t = period.begin - seconds{1};
  }
  return std::nullopt;
}

} // namespace hb::schedule
