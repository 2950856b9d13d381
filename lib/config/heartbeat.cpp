// SPDX-License-Identifier: MIT
#include "config/heartbeat.hpp"

#include "config/readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <span>

namespace hb::config {
namespace {

constexpr Duration k_default_beat_every{30'000};
constexpr Duration k_max_job_grace{3600'000};

constexpr std::string_view k_agent_only[] = {"degraded_after", "offline_after", "recover_after",
                                             "extended_offline_after", "flapping_transitions",
                                             "flapping_window"};
constexpr std::string_view k_job_only[] = {"schedule", "max_runtime"};

// The shortest gap between consecutive fire times over a week of a fixed reference period: a
// deterministic estimate of a cron job's period.
Duration cron_period(const schedule::CronExpr& cron)
{
  const date::time_zone* utc = date::locate_zone("UTC");
  // Monday 2026-01-05 00:00 UTC: any fixed instant will do.
  TimePoint t{Duration(1'767'571'200'000)};
  const TimePoint end = t + Duration(8LL * 24 * 3600'000);
  std::optional<TimePoint> previous;
  Duration shortest = Duration::max();
  for (int i = 0; i < 2000 && t < end; ++i) {
    auto next = cron.next_after(t, utc);
    if (!next) {
      break;
    }
    if (previous) {
      shortest = std::min(shortest, *next - *previous);
    }
    previous = next;
    t = *next;
  }
  return shortest;
}

} // namespace

Duration default_job_grace(const Heartbeat& heartbeat)
{
  Duration period = Duration::max();
  if (heartbeat.every.count() > 0) {
    period = heartbeat.every;
  } else if (heartbeat.schedule) {
    period = cron_period(*heartbeat.schedule);
  }
  return std::min(k_max_job_grace, period);
}

Heartbeat default_heartbeat(TargetKind kind)
{
  Heartbeat hb;
  if (kind == TargetKind::job) {
    hb.grace = default_job_grace(hb);
  } else {
    hb.every = k_default_beat_every;
    hb.grace = hb.every / 10;
  }
  return hb;
}

std::optional<Heartbeat> parse_heartbeat(const ConfigNode& node, TargetKind kind)
{
  const bool job = kind == TargetKind::job;
  if (node.is_null() && kind != TargetKind::agent && !job) {
    return std::nullopt;
  }
  if (node.is_null()) {
    return default_heartbeat(kind);
  }
  Heartbeat hb;
  node.expect_object();
  node.reject_unknown_keys({"every", "grace", "degraded_after", "offline_after", "recover_after",
                            "extended_offline_after", "flapping_transitions", "flapping_window",
                            "schedule", "max_runtime"});
  const std::span<const std::string_view> foreign =
    job ? std::span<const std::string_view>(k_agent_only) : std::span<const std::string_view>(k_job_only);
  for (const auto& key : foreign) {
    if (auto value = node[key]; !value.is_null()) {
      value.fail_message(job ? fmt::format("\"{}\" applies to agents, not to jobs (kind \"job\")", key)
                             : fmt::format("\"{}\" applies to jobs (kind \"job\"), not to {}s", key,
                                           to_string(kind)));
    }
  }

  if (job) {
    hb.every = node["every"].is_null() ? Duration(0)
                                       : positive_duration(node, "every", Duration(0), "1h");
    if (auto cron = node["schedule"]; !cron.is_null()) {
      if (!node["every"].is_null()) {
        cron.fail_message("give either \"every\" or \"schedule\", not both");
      }
      if (!cron.is_string()) {
        cron.fail("a cron expression like \"0 3 * * *\"");
      }
      std::string error;
      auto parsed = schedule::CronExpr::parse(cron.raw().get<std::string>(), error);
      if (!parsed) {
        cron.fail_message(error);
      }
      hb.schedule = std::make_shared<const schedule::CronExpr>(std::move(*parsed));
    }
    hb.max_runtime = node["max_runtime"].is_null()
                       ? Duration(0)
                       : positive_duration(node, "max_runtime", Duration(0), "2h");
    hb.grace = node["grace"].is_null() ? default_job_grace(hb)
                                       : positive_duration(node, "grace", Duration(0), "30m");
    return hb;
  }

  hb.every = positive_duration(node, "every", k_default_beat_every, "30s");
  hb.grace = node["grace"].is_null() ? hb.every / 10 : node.get_duration("grace", Duration(0));
  hb.degraded_after = static_cast<int>(node.get_int("degraded_after", hb.degraded_after, 1, 1000));
  hb.offline_after = static_cast<int>(node.get_int("offline_after", hb.offline_after, 1, 1000));
  if (hb.offline_after < hb.degraded_after) {
    node["offline_after"].fail_message(
      fmt::format("offline_after ({}) must not be smaller than degraded_after ({})",
                  hb.offline_after, hb.degraded_after));
  }
  hb.recover_after = static_cast<int>(node.get_int("recover_after", hb.recover_after, 1, 1000));
  hb.extended_offline_after =
    positive_duration(node, "extended_offline_after", hb.extended_offline_after, "5m");
  hb.flapping_transitions =
    static_cast<int>(node.get_int("flapping_transitions", hb.flapping_transitions, 2, 1000));
  hb.flapping_window = positive_duration(node, "flapping_window", hb.flapping_window, "1h");
  return hb;
}

} // namespace hb::config
