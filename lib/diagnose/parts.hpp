// SPDX-License-Identifier: MIT
#pragma once

// The parts of hb-diagnose, one per kind of finding; diagnose.cpp calls them in turn. Internal to
// lib/diagnose.

#include "diagnose/diagnose.hpp"
#include "status/status.hpp"

#include <vector>

namespace hb::diagnose::parts {

using Findings = std::vector<Finding>;

// What every part may read: the inputs and the overview hb-status shows (the one health
// judgement), computed once.
struct Context {
  const Inputs& inputs;
  store::Store& store;
  const status::StatusReport& overview;
  TimePoint since;  // now - window

  bool wanted(const std::string& target_id) const
  {
    return inputs.target.empty() || inputs.target == target_id;
  }
};

// scheduler.*: hb-pulse or hb-recover not run by the scheduler, or failing.
void scheduler(const Context& context, Findings& out);
// target.stale, agent.*, job.*, check.*: every unhealthy target and why, with its causes.
void failing_targets(const Context& context, Findings& out);
// shared.cause: several targets failing alike, on one endpoint.
void shared_causes(const Context& context, Findings& out);
// latency.anomaly: the last hour against the target's own 7-day baseline.
void latency(const Context& context, Findings& out);
// flapping: state changes in the window.
void flapping(const Context& context, Findings& out);
// recovery.*, escalation.open.
void recovery(const Context& context, Findings& out);
// notify.*: failing channels, a backlog.
void notifications(const Context& context, Findings& out);
// database.*: integrity, WAL, prunes. Fills `info`. Needs no overview: it runs when the
// overview could not be read.
void database(const Inputs& inputs, store::Store& store, store::DatabaseInfo& info,
              Findings& out);

// config.*: needs no database (the config alone, or why it failed to load).
void configuration(const Inputs& inputs, Findings& out);

// Helpers shared by the parts.
std::string when(TimePoint at, TimePoint now);  // "2026-03-01T12:00:00Z (2h 5m ago)"
std::string percent(int part, int whole);       // "12 of 36 (33%)"
// What to check when the scheduler does not run `tool` every `interval`: the crontab line,
// the systemd timer, the CronJob.
std::string scheduler_advice(std::string_view tool, Duration interval, const Inputs& inputs);

} // namespace hb::diagnose::parts
