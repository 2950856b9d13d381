// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// Targets that push beats: their beat states, beats and job runs (Store::record_beat,
// beat_contexts, refresh_beat_states, recent_beats, recent_job_runs).
class Beats {
public:
  explicit Beats(Connection& connection) : m_connection(connection) {}

  std::optional<BeatWrite> record(const std::string& target_id,
                                  const std::optional<TargetInfo>& create, TimePoint now,
                                  const BeatDecider& decide);
  std::map<std::string, BeatContext> contexts();
  std::vector<BeatWrite> refresh(const RefreshDecider& decide);
  std::vector<Beat> recent_beats(const std::string& target_id, int limit);
  std::vector<JobRun> recent_runs(const std::string& target_id, int limit);

private:
  // Live targets that push beats with their state and last run; only `*only` when set (then
  // also a live target without heartbeat settings, so the caller can say why it takes no beats).
  std::map<std::string, BeatContext> load_contexts(const std::string* only);
  void create_target(const TargetInfo& info, TimePoint now);
  // Writes what a decision returned, inside the open transaction, and assigns the new ids.
  void write(BeatWrite& write);

  Connection& m_connection;
};

} // namespace hb::store::postgres
