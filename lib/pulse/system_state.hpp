// SPDX-License-Identifier: MIT
#pragma once

#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hb::pulse {

// The system's own heartbeat (SPEC §2 "Pulse"): alive when the last pulse is newer than 1.5 ×
// its interval and had no error; warning when it is older (the scheduler is not running us);
// error when it failed, was interrupted or never finished; unknown when no pulse ever ran.
enum class PulseState { alive, warning, error, unknown };

std::string_view to_string(PulseState state);

struct SystemPulse {
  PulseState state = PulseState::unknown;
  std::optional<PulseRecord> last;  // the pulse the state was derived from
  std::optional<TimePoint> next_expected;
  bool running = false;   // a pulse is in progress right now
  std::string reason;     // one line for people
};

// Derives the system pulse state at `now` from the full scheduled pulses recorded in `store`
// (PulseRecord::scheduled); pulses narrowed by --target/--tag or forced with --force are left
// out, their errors included.
SystemPulse system_pulse(store::Store& store, TimePoint now);

// The same rule applied to one known pulse record (used right after a pulse finishes).
SystemPulse system_pulse_from(const PulseRecord& last, TimePoint now);

} // namespace hb::pulse
