// SPDX-License-Identifier: MIT
#pragma once

// Running one target's checks outside a pulse: hb-recover's forced executions (SPEC §4.3 ladder
// steps a and b). The same runner, redaction, aggregation and health evaluation as a pulse.

#include "config/config.hpp"
#include "core/model/execution.hpp"
#include "util/time.hpp"

#include <atomic>

namespace hb::pulse {

// Passes every text of `result` (message, metric names and thresholds) through `redactor`: the
// config's redactor sees every text a check produces before it is evaluated, stored or shown,
// whatever the check's type (a spawn error naming a secret working_dir or argv[0], a tcp error
// naming a secret host, plugin output that echoes a token, an exception's message).
void redact(CheckResultRecord& result, const util::Redactor& redactor);

// Runs every check of `target` now, in parallel, ignoring active hours and interval, each within
// its own timeout; `*stop` (may be null) becoming non-zero cuts them off. Returns the execution
// (trigger and forced as given, no pulse) folded into `previous` as a pulse would, ready for
// Store::record_executions; release_owner is left empty (the caller keeps its claim). A target
// without checks gives an execution without results.
ExecutionWrite execute_now(const config::Target& target, const TargetState& previous,
                           bool in_grace, const config::Config& config, const util::Clock& clock,
                           Trigger trigger, const std::atomic<int>* stop);

} // namespace hb::pulse
