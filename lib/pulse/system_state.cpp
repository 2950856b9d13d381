// SPDX-License-Identifier: MIT
#include "pulse/system_state.hpp"

#include "core/clock.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

namespace hb::pulse {
namespace {

// A pulse still marked running this long after its deadline was killed (SIGKILL, OOM, reboot).
constexpr Duration k_crash_margin{60'000};

} // namespace

std::string_view to_string(PulseState state)
{
  switch (state) {
  case PulseState::alive:
    return "alive";
  case PulseState::warning:
    return "warning";
  case PulseState::error:
    return "error";
  case PulseState::unknown:
    return "unknown";
  }
  return "unknown";
}

SystemPulse system_pulse_from(const PulseRecord& last, TimePoint now)
{
  SystemPulse out;
  out.last = last;
  out.next_expected = last.started_at + last.interval;
  const Duration age = now - last.started_at;
  const Duration stale_after = last.interval + last.interval / 2;
  if (from_the_future(last.started_at, now)) {
    // Proof of nothing: it was recorded by a clock that was wrong, or this one is.
    out.state = PulseState::warning;
    out.reason = fmt::format("last pulse is {}: is the scheduler still running hb-pulse?",
                             skew_text(last.started_at, now));
    out.next_expected.reset();
  } else if (last.status == PulseStatus::error || last.status == PulseStatus::interrupted) {
    out.state = PulseState::error;
    out.reason = fmt::format("last pulse {} {}: {}", util::format_age(last.started_at, now),
                             last.status == PulseStatus::error ? "had errors" : "was interrupted",
                             last.message);
  } else if (age > stale_after) {
    out.state = PulseState::warning;
    out.reason = fmt::format(
      "last pulse {}, expected every {}: is the scheduler still running hb-pulse?",
      util::format_age(last.started_at, now), util::format_duration(last.interval));
  } else {
    out.state = PulseState::alive;
    out.reason = fmt::format("last pulse {}", util::format_age(last.started_at, now));
  }
  return out;
}

SystemPulse system_pulse(store::Store& store, TimePoint now)
{
  // Narrowed (--target/--tag) and forced pulses are run by people, not the scheduler: they
  // neither prove that the scheduler still runs us nor stand for its last pulse's outcome.
  auto last = store.last_pulse(store::PulseScope::scheduled);
  if (!last) {
    SystemPulse out;
    out.reason = store.last_pulse(store::PulseScope::any)
                   ? "no scheduled pulse has run yet (only narrowed or forced ones)"
                   : "no pulse has run yet";
    return out;
  }
  if (last->status == PulseStatus::running && !from_the_future(last->started_at, now)) {
    if (now <= last->started_at + last->deadline + k_crash_margin) {
      auto finished = store.last_finished_pulse(store::PulseScope::scheduled);
      SystemPulse out;
      if (finished) {
        out = system_pulse_from(*finished, now);
      } else {
        out.reason = "the first pulse is running";
      }
      out.running = true;
      return out;
    }
    SystemPulse out;
    out.state = PulseState::error;
    out.last = last;
    out.next_expected = last->started_at + last->interval;
    out.reason = fmt::format("pulse #{} started {} and never finished (killed?)", last->id,
                             util::format_age(last->started_at, now));
    return out;
  }
  return system_pulse_from(*last, now);
}

} // namespace hb::pulse
