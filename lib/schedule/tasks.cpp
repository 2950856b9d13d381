// SPDX-License-Identifier: MIT
#include "schedule/tasks.hpp"

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

  const TimePoint baseline = std::max(state.covered_fire.value_or(created_at), created_at);
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
