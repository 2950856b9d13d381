// SPDX-License-Identifier: MIT
#include "output/events.hpp"

#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {

nlohmann::json event_to_json(const Event& event)
{
  return {{"at", util::format_rfc3339(event.at)},
          {"type", to_string(event.type)},
          {"from", event.old_state},
          {"to", event.new_state},
          {"message", event.message}};
}

std::string event_line(const Event& event)
{
  return fmt::format("{}: {} -> {} ({})", event.target_id, event.old_state, event.new_state,
                     event.message);
}

} // namespace hb::output
