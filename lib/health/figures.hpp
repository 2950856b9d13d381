// SPDX-License-Identifier: MIT
#pragma once

// The numbers operators read about a target and the whole fleet (SPEC §2 "Health score"): the
// health score and its band, uptime over 24 hours / 7 days / 30 days, and the incident figures
// (MTTD, MTTR, recovery success, false positives). Pure functions over counts the store keeps in
// its hourly and daily roll-ups and over the incident timelines it reads; no I/O here. Each
// figure's exact definition is in docs/health.md, and the unit tests compute them by hand.

#include "core/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::health {

// --- Score -----------------------------------------------------------------------------------

enum class Band { excellent, good, fair, poor, critical };

std::string_view to_string(Band band);

// Returns the band of a score: ≥80 excellent, ≥70 good, ≥60 fair, ≥40 poor, else critical.
Band band_of(double score);

// Each component 0–100, std::nullopt when there is no data for it (then it is left out and the
// other weights are renormalised).
struct ScoreComponents {
  std::optional<double> consistency;  // weight 30: runs or beats received vs expected
  std::optional<double> performance;  // weight 25: latency vs the checks' timeouts
  std::optional<double> error_rate;   // weight 20: executions (or beats) that did not fail
  std::optional<double> resources;    // weight 15: reported cpu / memory use
  std::optional<double> impact;       // weight 10: open incident weighted by the target's impact
};

struct Score {
  double value = 0;  // 0–100, rounded to one decimal
  Band band = Band::critical;
  ScoreComponents components;
};

// Returns the weighted score of `components`, or std::nullopt when none has data.
std::optional<Score> score_of(const ScoreComponents& components);

// --- Counts the roll-ups keep ----------------------------------------------------------------

// Observations of one target over a span: executions, beats and finished job runs.
struct Tally {
  long long runs = 0;        // observations
  long long down = 0;        // of which failed: alert/error executions, fail beats, failed jobs
  long long load_sum = 0;    // executions: slowest check's latency / its timeout, in ‰ (≤ 1000)
  long long load_count = 0;  // executions with a load
  long long latency_sum_ms = 0;  // executions: wall time
  long long latency_max_ms = 0;

  Tally& operator+=(const Tally& other);
};

// --- Uptime ----------------------------------------------------------------------------------

// Fraction (0–1) of observations that were up over each window; std::nullopt without any.
struct Uptime {
  std::optional<double> day;
  std::optional<double> week;
  std::optional<double> month;
};

// Returns runs - down over runs, or std::nullopt when runs is 0.
std::optional<double> uptime_of(const Tally& tally);

// --- Incidents -------------------------------------------------------------------------------

// One incident of a target as the store reads it back: from its first failing result to the
// event that ended it.
struct IncidentTimeline {
  std::string target_id;
  TimePoint first_failure;                   // first failing result of the streak
  TimePoint failing_at;                      // the failing event (confirmed)
  std::optional<TimePoint> first_notified;   // first notification of it sent
  std::optional<TimePoint> recovered_at;     // the recovered event; none while open
  std::optional<TimePoint> first_recovery_action;  // first hb-recover attempt during it
  Duration interval{0};                      // the target's interval (expected beat interval)
  std::string cause;                         // the failing event's message
};

struct IncidentFigures {
  int incidents = 0;      // started in the window
  int open = 0;           // of which still open
  int notified = 0;       // with a notification sent
  int false_positives = 0;
  std::optional<Duration> mttd;  // mean first failure → first notification (notified only)
  std::optional<Duration> mttr;  // mean first failure → recovered (recovered only)
  std::optional<double> false_positive_rate;  // false positives / closed incidents
  int recovery_recovered = 0;    // hb-recover attempts that ended recovered
  int recovery_failed = 0;       // ... failed
  std::optional<double> recovery_success;  // recovered / (recovered + failed)
};

// Returns true when `incident` cleared by itself: recovered within one interval of its first
// failure and before any recovery action.
bool is_false_positive(const IncidentTimeline& incident);

// Returns the figures of `incidents` (attempt counts are the caller's to fill).
IncidentFigures incident_figures(const std::vector<IncidentTimeline>& incidents);

// Completes `figures` with the hb-recover attempt counts.
void add_recovery_attempts(IncidentFigures& figures, int recovered, int failed);

// --- Everything for one target or the fleet --------------------------------------------------

struct Figures {
  std::optional<Score> score;
  Uptime uptime;
  IncidentFigures incidents;  // over the last 7 days
};

} // namespace hb::health
