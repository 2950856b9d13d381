// SPDX-License-Identifier: MIT
#include "core/model/beat.hpp"

namespace hb {

std::string_view to_string(const BeatPhase& phase)
{
  return std::visit([](auto state) { return to_string(state); }, phase);
}

BeatPhase parse_beat_phase(TargetKind kind, std::string_view text)
{
  if (kind == TargetKind::job) {
    return parse_job_state(text).value_or(JobState::unknown);
  }
  return parse_agent_state(text).value_or(AgentState::unknown);
}

} // namespace hb
