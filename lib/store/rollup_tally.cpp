// SPDX-License-Identifier: MIT
#include "store/rollup_tally.hpp"

#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hb::store {
namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;
constexpr std::int64_t k_day_ms = 86'400'000;

// Rounds `ms` down to a multiple of `width`, towards the past for times before 1970 too.
std::int64_t floor_to(std::int64_t ms, std::int64_t width)
{
  const std::int64_t r = ms % width;
  return r < 0 ? ms - r - width : ms - r;
}

} // namespace

std::int64_t hour_bucket(TimePoint at)
{
  return floor_to(util::to_unix_ms(at), k_hour_ms);
}

std::int64_t day_bucket(TimePoint at)
{
  return floor_to(util::to_unix_ms(at), k_day_ms);
}

std::vector<RollupRange> tally_ranges(TimePoint since, TimePoint until)
{
  const std::int64_t from = hour_bucket(since);
  const std::int64_t to = hour_bucket(until) + k_hour_ms;
  std::int64_t first_day = floor_to(from, k_day_ms);
  if (first_day < from) {
    first_day += k_day_ms;
  }
  const std::int64_t last_day = floor_to(to, k_day_ms);  // exclusive
  std::vector<RollupRange> ranges;
  const auto add = [&](const char* resolution, std::int64_t a, std::int64_t b) {
    if (a < b) {
      ranges.push_back({resolution, a, b});
    }
  };
  if (first_day < last_day) {
    add("day", first_day, last_day);
    add("hour", from, first_day);
    add("hour", last_day, to);
  } else {
    add("hour", from, to);
  }
  return ranges;
}

void HourlySeries::add(std::string_view target_id, TimePoint bucket, const health::Tally& tally)
{
  m_key.assign(target_id);
  auto it = m_series.find(m_key);
  if (it == m_series.end()) {
    it = m_series.emplace(m_key, std::vector<std::pair<TimePoint, health::Tally>>{}).first;
  }
  it->second.emplace_back(bucket, tally);
}

bool delete_in_batches(PruneReport& report, long long PruneReport::*count,
                       std::chrono::steady_clock::time_point deadline,
                       const std::function<long long(long long limit)>& delete_batch,
                       const std::function<void()>& after_batch)
{
  using SteadyClock = std::chrono::steady_clock;
  constexpr auto k_target = std::chrono::milliseconds(50);
  long long batch = 500;
  while (true) {
    if (SteadyClock::now() >= deadline) {
      return false;
    }
    const auto t0 = SteadyClock::now();
    const long long deleted = delete_batch(batch);
    const auto took = std::chrono::duration_cast<Duration>(SteadyClock::now() - t0);
    if (after_batch) {
      after_batch();
    }
    ++report.batches;
    report.longest_batch = std::max(report.longest_batch, took);
    report.slow_batches += took > Duration(100) ? 1 : 0;
    report.*count += deleted;
    if (deleted < batch) {
      return true;
    }
    // Aim each transaction at ~50 ms of lock: grow while faster, shrink while slower. Capped at
    // 4,000 rows: an execution takes its check results with it, and a bench batch of tens of
    // thousands on SQLite once held the write lock for 930 ms.
    if (took < k_target / 2) {
      batch = std::min<long long>(batch * 2, 4'000);
    } else if (took > k_target) {
      batch = std::max<long long>(batch / 4, 50);
    }
  }
}

std::string prune_summary(const PruneReport& report)
{
  return fmt::format("executions {}, task runs {}, job runs {}, beats {}, notifications {}, "
                     "pulses {}, hourly roll-ups {}, daily roll-ups {}; {} batches, longest {} ms "
                     "({} over 100 ms)",
                     report.executions, report.task_runs, report.job_runs, report.beats,
                     report.notifications, report.pulses, report.hourly, report.daily,
                     report.batches, report.longest_batch.count(), report.slow_batches);
}

} // namespace hb::store
