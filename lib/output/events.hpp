// SPDX-License-Identifier: MIT
#pragma once

#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace hb::output {

// An event as the JSON outputs show it: at, type, from, to, message.
nlohmann::json event_to_json(const store::Event& event);

// One log line for an event: "worker: online -> degraded (missed 1 beat ...)".
std::string event_line(const store::Event& event);

} // namespace hb::output
