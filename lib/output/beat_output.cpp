// SPDX-License-Identifier: MIT
#include "output/beat_output.hpp"

#include "output/events.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

// docs/schema/hb-beat.schema.json; changes only when a field changes meaning or disappears.
constexpr int k_beat_json_schema = 1;

} // namespace

nlohmann::json beat_to_json(const agents::RecordedBeat& beat)
{
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : beat.write.events) {
    events.push_back(event_to_json(e));
  }
  return nlohmann::json{{"schema", k_beat_json_schema},
                        {"target", beat.target},
                        {"at", util::format_rfc3339(beat.at)},
                        {"status", to_string(beat.status)},
                        {"state", to_string(beat.write.state.state)},
                        {"beats", beat.write.state.beats},
                        {"events", std::move(events)}};
}

std::string beat_line(const agents::RecordedBeat& beat)
{
  return fmt::format("{}: {} beat recorded; state {}", beat.target, to_string(beat.status),
                     to_string(beat.write.state.state));
}

} // namespace hb::output
