// SPDX-License-Identifier: MIT
#include "agents/beats.hpp"

#include "checks/perfdata.hpp"
#include "config/heartbeat.hpp"
#include "core/errors.hpp"
#include "health/windows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace hb::agents {
namespace {

constexpr std::size_t k_max_metric_name = 64;
// The transitions of agents and jobs, which flapping counts.
const std::vector<EventType> k_beat_event_types{
  EventType::agent_online, EventType::agent_degraded, EventType::agent_offline,
  EventType::job_ok,       EventType::job_recovered,  EventType::job_failed,
  EventType::job_late,     EventType::job_hung};
constexpr std::array<std::string_view, 10> k_metric_units{"%",  "s",  "ms", "us", "B",
                                                          "KB", "MB", "GB", "TB", "c"};

std::string host_name()
{
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) {
    return "localhost";
  }
  return host;
}

bool name_char(char c, bool first)
{
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (first) {
    return letter;
  }
  return letter || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-';
}

// What --create makes of an unknown target: the defaults of its kind, no checks.
TargetInfo created_target(const std::string& id, TargetKind kind)
{
  config::Target target;
  target.id = id;
  target.name = id;
  target.kind = kind;
  target.heartbeat = config::default_heartbeat(kind);
  TargetInfo info;
  info.id = id;
  info.name = id;
  info.kind = kind;
  info.heartbeat = heartbeat_info(target);
  return info;
}

std::string unknown_target_message(const std::string& id)
{
  return fmt::format("unknown target \"{}\": it is not in the database (targets in the config are "
                     "synced by hb-pulse; pass --create to create it from this beat)",
                     id);
}

// "a service", "an agent".
std::string with_article(TargetKind kind)
{
  return fmt::format("{} {}", kind == TargetKind::agent ? "an" : "a", to_string(kind));
}

void require_heartbeat(const BeatContext& context)
{
  if (!context.target.info.heartbeat) {
    throw NotSynced(fmt::format(
      "target \"{}\" is {} without a \"heartbeat\" block, so it takes no beats (give it one, or "
      "make it kind \"agent\" or \"job\")",
      context.target.info.id, with_article(context.target.info.kind)));
  }
}

} // namespace

HeartbeatInfo heartbeat_info(const config::Target& target)
{
  HeartbeatInfo info;
  const config::Heartbeat hb = target.heartbeat ? *target.heartbeat
                                                : config::default_heartbeat(target.kind);
  info.every = hb.every;
  info.grace = hb.grace;
  info.degraded_after = hb.degraded_after;
  info.offline_after = hb.offline_after;
  info.recover_after = hb.recover_after;
  info.extended_offline_after = hb.extended_offline_after;
  info.flapping_transitions = hb.flapping_transitions;
  info.flapping_window = hb.flapping_window;
  info.schedule = hb.schedule ? hb.schedule->text() : std::string();
  info.timezone = target.timezone;
  info.max_runtime = hb.max_runtime;
  info.active_hours = target.active_hours ? target.active_hours->text() : std::string();
  info.new_target_grace = target.new_target_grace;
  return info;
}

std::optional<Metric> parse_metric_arg(std::string_view text, std::string& error)
{
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    error = fmt::format("expected name=value, got \"{}\"",
                        checks::truncate_utf8(checks::sanitize_text(text, checks::KeepNewlines::no), 80));
    return std::nullopt;
  }
  const std::string_view name = text.substr(0, eq);
  const std::string_view value = text.substr(eq + 1);
  const bool name_ok = !name.empty() && name.size() <= k_max_metric_name
                       && name_char(name.front(), true)
                       && std::all_of(name.begin() + 1, name.end(),
                                      [](char c) { return name_char(c, false); });
  if (!name_ok) {
    error = fmt::format("invalid metric name \"{}\" (letters, digits, '_', '.', ':' or '-', "
                        "starting with a letter or '_', at most {} characters)",
                        checks::truncate_utf8(checks::sanitize_text(name, checks::KeepNewlines::no), 80),
                        k_max_metric_name);
    return std::nullopt;
  }
  const std::string value_text(value);
  const char* begin = value_text.c_str();
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(begin, &end);
  const std::string_view unit(end, value_text.size() - static_cast<std::size_t>(end - begin));
  const bool unit_ok = unit.empty()
                       || std::find(k_metric_units.begin(), k_metric_units.end(), unit)
                            != k_metric_units.end();
  // strtod also reads "nan", "inf" and hex floats; only plain decimal numbers are metrics.
  const bool plain = !value_text.empty()
                     && std::all_of(begin, static_cast<const char*>(end), [](char c) {
                          return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+'
                                 || c == 'e' || c == 'E';
                        });
  if (end == begin || !plain || errno == ERANGE || !std::isfinite(number) || !unit_ok) {
    error = fmt::format("metric \"{}\": expected a number with an optional unit (%, s, ms, us, B, "
                        "KB, MB, GB, TB, c) like \"45%\", got \"{}\"",
                        name,
                        checks::truncate_utf8(checks::sanitize_text(value, checks::KeepNewlines::no), 80));
    return std::nullopt;
  }
  Metric metric;
  metric.name = std::string(name);
  metric.value = number;
  metric.unit = std::string(unit);
  return metric;
}

std::string cap_message(std::string message, std::size_t max_bytes)
{
  return checks::truncate_utf8(checks::sanitize_text(message, checks::KeepNewlines::no), max_bytes);
}

BeatWrite record_beat(store::Store& store, const std::string& target_id,
                             const BeatInput& beat, Create create, TimePoint now)
{
  std::optional<TargetInfo> to_create;
  if (create == Create::yes) {
    to_create = created_target(target_id, TargetKind::agent);
  }
  auto write = store.record_beat(target_id, to_create, now, [&](const BeatContext& context) {
    require_heartbeat(context);
    if (context.target.info.kind == TargetKind::job) {
      return apply_job_beat(context, beat, now);
    }
    return apply_agent_beat(context, beat, now);
  });
  if (!write) {
    throw UnknownTarget(unknown_target_message(target_id));
  }
  return std::move(*write);
}

BeatWrite start_run(store::Store& store, const std::string& target_id,
                           const std::string& command, Create create, TimePoint now)
{
  std::optional<TargetInfo> to_create;
  if (create == Create::yes) {
    to_create = created_target(target_id, TargetKind::job);
  }
  auto write = store.record_beat(target_id, to_create, now, [&](const BeatContext& context) {
    require_heartbeat(context);
    if (context.target.info.kind != TargetKind::job) {
      throw DataError(fmt::format(
        "target \"{}\" is {}, not a job: only job targets (kind \"job\") wrap commands; "
        "report from {} with a plain \"hb-beat {}\"",
        target_id, with_article(context.target.info.kind), target_id, target_id));
    }
    return start_job_run(context, command, host_name(), static_cast<int>(::getpid()), now);
  });
  if (!write) {
    throw UnknownTarget(unknown_target_message(target_id));
  }
  return std::move(*write);
}

BeatWrite finish_run(store::Store& store, const JobRun& run, const RunEnd& end,
                            TimePoint now)
{
  auto write = store.record_beat(run.target_id, std::nullopt, now,
                                 [&](const BeatContext& context) {
                                   return finish_job_run(context, run.id, run.started_at, end, now);
                                 });
  if (!write) {
    throw DataError(fmt::format("target \"{}\" left the database while its job ran",
                                run.target_id));
  }
  return std::move(*write);
}

namespace {

// The maintenance excuse of `context`'s target at `now` (BeatContext::excused_until).
BeatContext with_maintenance(const BeatContext& context, const std::optional<NotifyPolicy>& policy,
                             TimePoint now)
{
  if (!policy || policy->maintenance.empty()) {
    return context;
  }
  BeatContext out = context;
  const auto& info = context.target.info;
  if (health::in_maintenance(policy->maintenance, info.id, info.tags, now)) {
    out.excused_until = now;
  } else if (const auto last =
                 health::last_maintenance_end(policy->maintenance, info.id, info.tags, now)) {
    out.excused_until = last->ends;
  }
  return out;
}

} // namespace

std::vector<BeatWrite> refresh_all(store::Store& store, TimePoint now)
{
  const auto policy = store.notify_policy();
  return store.refresh_beat_states([&](const BeatContext& context) {
    return refresh(with_maintenance(context, policy, now), now);
  });
}

std::map<std::string, BeatView> views(store::Store& store, TimePoint now)
{
  std::map<std::string, BeatView> out;
  const auto contexts = store.beat_contexts();
  if (contexts.empty()) {
    return out;
  }
  // One query per distinct flapping window (usually one), not one per target.
  std::map<Duration, std::map<std::string, int>> transitions;
  for (const auto& [id, context] : contexts) {
    const Duration window = context.target.info.heartbeat->flapping_window;
    if (!transitions.count(window)) {
      transitions.emplace(window, store.count_events(now - window, k_beat_event_types));
    }
  }
  const auto policy = store.notify_policy();
  for (const auto& [id, context] : contexts) {
    const auto& counts = transitions.at(context.target.info.heartbeat->flapping_window);
    auto it = counts.find(id);
    out.emplace(id, view(with_maintenance(context, policy, now),
                         it == counts.end() ? 0 : it->second, now));
  }
  return out;
}

} // namespace hb::agents
