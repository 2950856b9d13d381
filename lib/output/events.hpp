// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/event.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace hb::output {

// An event as the JSON outputs show it: at, type, from, to, message.
nlohmann::json event_to_json(const Event& event);

// One log line for an event: "worker: online -> degraded (missed 1 beat ...)".
std::string event_line(const Event& event);

} // namespace hb::output
