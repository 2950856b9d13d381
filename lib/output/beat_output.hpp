// SPDX-License-Identifier: MIT
#pragma once

#include "agents/wrap.hpp"

#include <nlohmann/json.hpp>

namespace hb::output {

// Returns a recorded beat as hb-beat --json prints it: target, at, status, state, beats and
// events (as event_to_json).
nlohmann::json beat_to_json(const agents::RecordedBeat& beat);

// Returns the one line hb-beat -v prints for a recorded beat:
// "worker: healthy beat recorded; state online".
std::string beat_line(const agents::RecordedBeat& beat);

} // namespace hb::output
