// SPDX-License-Identifier: MIT
#pragma once

// Fills the health figures of hb-status's rows and of the fleet (SPEC §2 "Health score") from
// the store: roll-ups for uptime and the score, incident timelines and hb-recover attempts over
// the last 7 days. A handful of queries whatever the history's length.

#include "core/model/notify.hpp"
#include "health/figures.hpp"
#include "store/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::status {

struct TargetRow;

class FigureSources {
public:
  // Reads what every target's figures need at `now`; the incidents of `only_target` alone
  // unless it is empty (hb-status TARGET).
  FigureSources(store::Store& store, TimePoint now, const std::string& only_target = {});

  // The figures of one live target (no score while paused or retired).
  health::Figures of(const TargetRecord& record, const TargetRow& row) const;

  // The incidents of `target_id` that started in the last k_incident_window, oldest first.
  std::vector<health::IncidentTimeline> incidents_of(const std::string& target_id) const;

  // The fleet's figures over `rows` (live, not paused): the impact-weighted mean score, uptime
  // and incident figures over all of their observations and incidents.
  health::Figures overall(const std::vector<TargetRow>& rows) const;

private:
  TimePoint m_now;
  std::map<std::string, health::Tally> m_day;
  std::map<std::string, health::Tally> m_week;
  std::map<std::string, health::Tally> m_month;
  std::map<std::string, std::vector<health::IncidentTimeline>> m_incidents;
  std::map<std::string, RecoveryCounts> m_attempts;
  std::optional<NotifyPolicy> m_policy;
};

// The window of the incident figures hb-status shows.
inline constexpr Duration k_incident_window{7LL * 86'400'000};

} // namespace hb::status
