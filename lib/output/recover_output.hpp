// SPDX-License-Identifier: MIT
#pragma once

#include "output/style.hpp"
#include "recovery/recover.hpp"
#include "status/status.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace hb::output {

// What one run of hb-recover did, for people: one line per target it acted on or planned for
// (verbose or a dry run: every target, with why it was left alone), each attempt's steps beneath,
// shared causes and escalations, then a totals line.
void print_recover(const recovery::RecoverReport& report, std::ostream& out, const Style& style,
                   bool verbose);

// The run as JSON (documented in docs/recovery.md, docs/schema/hb-recover.schema.json).
nlohmann::json recover_to_json(const recovery::RecoverReport& report);

// hb-recover --reset ID --json: {"schema","reset":ID,"had_counters"} (the same schema file).
nlohmann::json reset_to_json(const std::string& target_id, bool had_counters);

// An attempt as JSON (hb-recover --json and hb-status TARGET --json).
nlohmann::json attempt_to_json(const RecoveryAttempt& attempt);
// An escalation as JSON, its summary included as an object.
nlohmann::json escalation_to_json(const Escalation& escalation);

// hb-status's recovery line: "recovery: alive  last run 3m ago; 1 pending, 0 suspended; 24h: 2
// recovered, 1 failed; 1 open escalation" and one line per open escalation.
void print_recovery_status(const status::RecoveryStatus& recovery, TimePoint now, std::ostream& out,
                           const Style& style);
nlohmann::json recovery_status_to_json(const status::RecoveryStatus& recovery);

// hb-status TARGET: its counters, recovery attempts (with their steps) and escalations.
void print_target_recovery(const status::TargetDetail& detail, std::ostream& out,
                           const Style& style);
nlohmann::json target_recovery_to_json(const status::TargetDetail& detail);

} // namespace hb::output
