// SPDX-License-Identifier: MIT
#pragma once

// What an escalation says (SPEC §2 "Escalation"): priority critical, the failed attempts and the
// actions tried with their results, a diagnosis summary (failing checks, phase, since when) and
// suggested next steps; as JSON for escalation.command and as one line for the event.

#include "config/config.hpp"
#include "core/model/recovery.hpp"
#include "recovery/assess.hpp"

#include <string>
#include <vector>

namespace hb::recovery {

// The escalation of one target after `attempts` (newest first) failed.
Escalation target_escalation(const config::Config& config, const config::Target& target,
                             const Assessment& assessment, const RecoveryState& state,
                             const std::vector<RecoveryAttempt>& attempts, TimePoint now);

// The escalation of a shared cause: `members` are the assessments of its targets.
Escalation shared_escalation(const config::Config& config, const SharedCause& cause,
                             const std::vector<Assessment>& members, TimePoint now);

// The event message of a target's escalation.
std::string escalation_message(const Escalation& escalation, const config::Target& target,
                               const Assessment& assessment);
// The event message of a shared cause's escalation.
std::string shared_message(const SharedCause& cause);

// What escalation.command reads on stdin: the summary with the escalation's id.
std::string escalation_stdin(const Escalation& escalation);

// Suggested next steps for a failure of `issue` in `phase` ("" for none) with `message`.
std::vector<std::string> next_steps(RecoveryIssue issue, std::string_view phase,
                                    std::string_view message, const std::string& target_id);

} // namespace hb::recovery
