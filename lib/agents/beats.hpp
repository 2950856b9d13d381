// SPDX-License-Identifier: MIT
#pragma once

// Push beats applied to the store: what hb-beat records, what every tool refreshes, what hb-status
// shows (SPEC §2 "Agent heartbeats", "Job heartbeats", §4.2).

#include "agents/state.hpp"
#include "config/config.hpp"
#include "core/errors.hpp"
#include "store/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::agents {

// A beat the database cannot take until the config is synced into it (exit 65): the target is
// unknown, or known without its heartbeat settings (a database upgraded since the last pulse).
class NotSynced : public DataError {
public:
  using DataError::DataError;
};

// A beat for a target the database does not know.
class UnknownTarget : public NotSynced {
public:
  using NotSynced::NotSynced;
};

// --create: an unknown target is created (origin "beat") instead of refused.
enum class Create { no, yes };

// The settings a target's beats are judged by, as the store keeps them.
HeartbeatInfo heartbeat_info(const config::Target& target);

// Parses one --metric argument, "name=value" with an optional unit ("cpu=45%", "queue=12",
// "latency=0.25s"). Returns std::nullopt and sets `error` when the name is not
// [A-Za-z_][A-Za-z0-9_.:-]* (at most 64 characters) or the value is not a finite number with an
// optional unit (%, s, ms, us, B, KB, MB, GB, TB, c).
std::optional<Metric> parse_metric_arg(std::string_view text, std::string& error);

// Cuts a beat or run message to `max_bytes` (at a UTF-8 boundary, marked with "…").
std::string cap_message(std::string message, std::size_t max_bytes = 1024);

// Records one beat for `target_id` at `now` and updates its state, with events for every
// transition, in one transaction. Throws UnknownTarget when the target is unknown and `create`
// is no, hb::DataError (exit 65) when it takes no beats (no heartbeat settings).
BeatWrite record_beat(store::Store& store, const std::string& target_id,
                             const BeatInput& beat, Create create, TimePoint now);

// Records the start of a wrapped run of job `target_id`; the returned write's run has its id.
// Throws as record_beat does, and hb::DataError when the target is not a job.
BeatWrite start_run(store::Store& store, const std::string& target_id,
                           const std::string& command, Create create, TimePoint now);

// Records the end of run `run` (as returned by start_run) at `now`, with the job's new state.
BeatWrite finish_run(store::Store& store, const JobRun& run, const RunEnd& end,
                            TimePoint now);

// Records what time alone has changed for every agent and job (missed beats, late or hung jobs),
// so a dead agent becomes offline although it never calls again. Returns the writes made, with
// their events.
std::vector<BeatWrite> refresh_all(store::Store& store, TimePoint now);

// Every live agent and job as hb-status shows it at `now`, by target id (read-only).
std::map<std::string, BeatView> views(store::Store& store, TimePoint now);

} // namespace hb::agents
