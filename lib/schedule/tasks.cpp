// SPDX-License-Identifier: MIT
#include "schedule/tasks.hpp"

#include "core/clock.hpp"
#include "schedule/zone.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hb::schedule {

Duration retry_delay(const TaskTiming& timing, int attempt)
{
  Duration delay = timing.retry_backoff;
  for (int i = 1; i < attempt && delay < timing.retry_backoff_max; ++i) {
    delay *= 2;
  }
  return std::min(delay, timing.retry_backoff_max);
}

TaskDecision decide_task(const TaskTiming& timing, const ScheduleState& state,
                         TimePoint created_at, TimePoint now, Duration missed_after)
{
  TaskDecision d;
  const auto* zone = locate_zone_or_utc(timing.timezone);
  d.next_run = timing.cron->next_after(now, zone);
  if (!timing.enabled) {
    d.reason = "disabled";
    d.next_run.reset();
    return d;
  }
  const auto latest = timing.cron->last_at_or_before(now, zone);

  const bool created_in_future = from_the_future(created_at, now);
  std::optional<TimePoint> skewed;
  for (const auto& stored : {state.covered_fire, state.pending_fire}) {
    if (from_the_future(stored, now)) {
      skewed = std::max(skewed.value_or(*stored), *stored);
    }
  }
  if (state.retry_at && from_the_future(*state.retry_at - timing.retry_backoff_max, now)) {
    skewed = std::max(skewed.value_or(*state.retry_at), *state.retry_at);
  }
  if (created_in_future && !state.covered_fire) {
    skewed = created_at;
  }
  if (skewed) {
    d.action = TaskAction::reanchor;
    d.fire = latest.value_or(now);
    d.reason = fmt::format("its last recorded time is {}; next run re-anchored from now",
                           skew_text(*skewed, now));
    return d;
  }

  if (state.pending_fire && (!latest || *latest <= *state.pending_fire)) {
    if (state.retry_at && now < *state.retry_at) {
      d.reason = fmt::format("attempt {} failed; attempt {} of {} at {}", state.attempts,
                             state.attempts + 1, timing.retries + 1,
                             util::format_rfc3339(*state.retry_at));
      d.next_run = state.retry_at;
      return d;
    }
    d.action = TaskAction::run;
    d.fire = *state.pending_fire;
    d.attempt = state.attempts + 1;
    d.reason = fmt::format("attempt {} of {} (a retry)", d.attempt, timing.retries + 1);
    return d;
  }

  // A schedule synced in the future was re-anchored above: its covered fire time counts.
  const TimePoint baseline =
    created_in_future ? *state.covered_fire
                      : std::max(state.covered_fire.value_or(created_at), created_at);
  if (latest && *latest > baseline) {
    d.fire = *latest;
    if (timing.catch_up || now - *latest <= missed_after) {
      d.action = TaskAction::run;
      d.reason = now - *latest <= missed_after ? "due" : "catching up a missed run";
    } else {
      d.action = TaskAction::skip_missed;
      d.reason = "missed while no pulse ran (catch_up is off)";
    }
    return d;
  }
  d.reason = d.next_run ? fmt::format("next run {}", util::format_rfc3339(*d.next_run))
                        : "no future fire time";
  return d;
}

} // namespace hb::schedule
