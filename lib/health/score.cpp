// SPDX-License-Identifier: MIT
#include "health/score.hpp"

#include "health/windows.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace hb::health {
namespace {

constexpr Duration k_hour{3'600'000};

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A usage percentage (0–100) from a metric named like cpu or memory, in % or as a 0–1 ratio.
std::optional<double> usage_percent(const Metric& metric)
{
  const std::string name = lower(metric.name);
  static const char* const k_names[] = {"cpu", "cpu_percent", "cpu_pct", "cpu_usage",
                                        "memory", "mem", "memory_percent", "mem_percent",
                                        "memory_pct", "mem_pct", "memory_usage", "mem_usage"};
  if (std::find(std::begin(k_names), std::end(k_names), name) == std::end(k_names)) {
    return std::nullopt;
  }
  if (metric.unit == "%") {
    return std::clamp(metric.value, 0.0, 100.0);
  }
  if (metric.unit.empty() && metric.value >= 0 && metric.value <= 1) {
    return metric.value * 100;
  }
  if (metric.unit.empty() && metric.value <= 100) {
    return std::max(0.0, metric.value);
  }
  return std::nullopt;
}

} // namespace

double expected_runs(const TargetRecord& target, TimePoint since, TimePoint now)
{
  const TargetInfo& info = target.info;
  Duration interval = info.interval;
  std::string hours_text = info.active_hours;
  std::string timezone = info.timezone;
  if (info.heartbeat) {
    if (info.kind == TargetKind::job) {
      return 0;
    }
    interval = info.heartbeat->every;
    hours_text = info.heartbeat->active_hours;
    timezone = info.heartbeat->timezone;
  }
  if (interval <= Duration(0)) {
    return 0;
  }
  const auto hours = hours_text.empty() ? std::nullopt : ActiveHours::parse(hours_text);
  const TimePoint from = std::max(since, target.first_seen);
  double expected = 0;
  for (TimePoint slot = from; slot < now; slot += k_hour) {
    const Duration span = std::min(k_hour, std::chrono::duration_cast<Duration>(now - slot));
    if (hours && !within_active_hours(*hours, timezone, slot + span / 2)) {
      continue;
    }
    expected += static_cast<double>(span.count()) / static_cast<double>(interval.count());
  }
  return expected;
}

ScoreComponents components_of(const ScoreInputs& in)
{
  ScoreComponents c;
  const double expected = expected_runs(in.target, in.now - Duration(24 * k_hour), in.now);
  if (expected >= 1) {
    c.consistency = std::min(1.0, static_cast<double>(in.day.runs) / expected) * 100;
  }
  if (in.day.load_count > 0) {
    const double load =
        static_cast<double>(in.day.load_sum) / static_cast<double>(in.day.load_count) / 1000;
    c.performance = load <= 0.25 ? 100.0 : std::max(0.0, (1 - load) / 0.75 * 100);
  }
  if (in.day.runs > 0) {
    c.error_rate = (1 - static_cast<double>(std::min(in.day.down, in.day.runs)) /
                            static_cast<double>(in.day.runs)) * 100;
  }
  std::optional<double> usage;
  for (const auto& metric : in.metrics) {
    if (const auto u = usage_percent(metric)) {
      usage = std::max(usage.value_or(0.0), *u);
    }
  }
  if (usage) {
    c.resources = *usage <= 70 ? 100.0 : std::max(0.0, (100 - *usage) / 30 * 100);
  }
  if (in.health != Health::unknown) {
    const double weight = std::clamp(in.impact, 0.0, 1.0);
    c.impact = in.health == Health::failing   ? (1 - weight) * 100
               : in.health == Health::warning ? (1 - weight / 2) * 100
                                              : 100.0;
  }
  return c;
}

} // namespace hb::health
