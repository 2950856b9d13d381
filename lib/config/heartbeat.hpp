// SPDX-License-Identifier: MIT
#pragma once

#include "config/config.hpp"

namespace hb::config {

// Parses a target's "heartbeat" block (`node` may be null). Agents and jobs get one even without
// the block (with the defaults); other kinds only when they declare it. Throws hb::ConfigError
// naming the file and JSON path, e.g. for a job-only key on an agent.
std::optional<Heartbeat> parse_heartbeat(const ConfigNode& node, TargetKind kind);

// The heartbeat settings of an agent or job (kind job) that has no "heartbeat" block.
Heartbeat default_heartbeat(TargetKind kind);

// The default grace of a job: an hour, or its period when that is shorter (so a job that runs
// every five minutes is late after ten, not after sixty-five).
Duration default_job_grace(const Heartbeat& heartbeat);

} // namespace hb::config
