// SPDX-License-Identifier: MIT
#include "health/figures.hpp"

#include <algorithm>
#include <cmath>

namespace hb::health {
namespace {

constexpr double k_weight_consistency = 30;
constexpr double k_weight_performance = 25;
constexpr double k_weight_error_rate = 20;
constexpr double k_weight_resources = 15;
constexpr double k_weight_impact = 10;

} // namespace

std::string_view to_string(Band band)
{
  switch (band) {
  case Band::excellent:
    return "excellent";
  case Band::good:
    return "good";
  case Band::fair:
    return "fair";
  case Band::poor:
    return "poor";
  case Band::critical:
    return "critical";
  }
  return "critical";
}

Band band_of(double score)
{
  if (score >= 80) {
    return Band::excellent;
  }
  if (score >= 70) {
    return Band::good;
  }
  if (score >= 60) {
    return Band::fair;
  }
  if (score >= 40) {
    return Band::poor;
  }
  return Band::critical;
}

std::optional<Score> score_of(const ScoreComponents& components)
{
  double sum = 0;
  double weights = 0;
  const auto add = [&](const std::optional<double>& value, double weight) {
    if (value) {
      sum += std::clamp(*value, 0.0, 100.0) * weight;
      weights += weight;
    }
  };
  add(components.consistency, k_weight_consistency);
  add(components.performance, k_weight_performance);
  add(components.error_rate, k_weight_error_rate);
  add(components.resources, k_weight_resources);
  add(components.impact, k_weight_impact);
  if (weights == 0) {
    return std::nullopt;
  }
  Score score;
  score.value = std::round(sum / weights * 10) / 10;
  score.band = band_of(score.value);
  score.components = components;
  return score;
}

Tally& Tally::operator+=(const Tally& other)
{
  runs += other.runs;
  down += other.down;
  load_sum += other.load_sum;
  load_count += other.load_count;
  latency_sum_ms += other.latency_sum_ms;
  latency_max_ms = std::max(latency_max_ms, other.latency_max_ms);
  return *this;
}

std::optional<double> uptime_of(const Tally& tally)
{
  if (tally.runs <= 0) {
    return std::nullopt;
  }
  return static_cast<double>(tally.runs - std::min(tally.down, tally.runs)) /
         static_cast<double>(tally.runs);
}

bool is_false_positive(const IncidentTimeline& incident)
{
  if (!incident.recovered_at || incident.interval <= Duration(0)) {
    return false;
  }
  if (*incident.recovered_at - incident.first_failure > incident.interval) {
    return false;
  }
  return !incident.first_recovery_action ||
         *incident.first_recovery_action >= *incident.recovered_at;
}

IncidentFigures incident_figures(const std::vector<IncidentTimeline>& incidents)
{
  IncidentFigures out;
  Duration detect{0};
  Duration repair{0};
  int recovered = 0;
  for (const auto& incident : incidents) {
    ++out.incidents;
    if (!incident.recovered_at) {
      ++out.open;
    } else {
      ++recovered;
      repair += std::max(Duration(0), *incident.recovered_at - incident.first_failure);
      out.false_positives += is_false_positive(incident) ? 1 : 0;
    }
    if (incident.first_notified) {
      ++out.notified;
      detect += std::max(Duration(0), *incident.first_notified - incident.first_failure);
    }
  }
  if (out.notified > 0) {
    out.mttd = detect / out.notified;
  }
  if (recovered > 0) {
    out.mttr = repair / recovered;
    out.false_positive_rate = static_cast<double>(out.false_positives) / recovered;
  }
  return out;
}

void add_recovery_attempts(IncidentFigures& figures, int recovered, int failed)
{
  figures.recovery_recovered = recovered;
  figures.recovery_failed = failed;
  if (recovered + failed > 0) {
    figures.recovery_success = static_cast<double>(recovered) / (recovered + failed);
  }
}

} // namespace hb::health
