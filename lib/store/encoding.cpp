// SPDX-License-Identifier: MIT
#include "store/encoding.hpp"

#include "checks/metric_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>

namespace hb::store {
namespace {

std::string dump_json(const nlohmann::json& value)
{
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json(std::string_view text)
{
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
}

// FNV-1a: stable across runs and builds, unlike std::hash.
std::string fingerprint(const std::string& text)
{
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", hash);
}

nlohmann::json heartbeat_to_json(const HeartbeatInfo& h)
{
  return {{"every_ms", h.every.count()},
          {"grace_ms", h.grace.count()},
          {"degraded_after", h.degraded_after},
          {"offline_after", h.offline_after},
          {"recover_after", h.recover_after},
          {"extended_offline_after_ms", h.extended_offline_after.count()},
          {"flapping_transitions", h.flapping_transitions},
          {"flapping_window_ms", h.flapping_window.count()},
          {"schedule", h.schedule},
          {"timezone", h.timezone},
          {"max_runtime_ms", h.max_runtime.count()},
          {"active_hours", h.active_hours},
          {"new_target_grace_ms", h.new_target_grace.count()}};
}

} // namespace

std::string encode_metrics(const std::vector<Metric>& metrics)
{
  return dump_json(checks::metrics_to_json(metrics));
}

std::vector<Metric> decode_metrics(std::string_view text)
{
  return checks::metrics_from_json(parse_json(text));
}

std::string encode_heartbeat(const HeartbeatInfo& heartbeat)
{
  return dump_json(heartbeat_to_json(heartbeat));
}

std::optional<HeartbeatInfo> decode_heartbeat(std::string_view text)
{
  const auto j = parse_json(text);
  if (!j.is_object()) {
    return std::nullopt;
  }
  HeartbeatInfo h;
  auto ms = [&](const char* key, Duration& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
      out = Duration(it->get<std::int64_t>());
    }
  };
  auto integer = [&](const char* key, int& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
      out = it->get<int>();
    }
  };
  auto text_value = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) {
      out = it->get<std::string>();
    }
  };
  ms("every_ms", h.every);
  ms("grace_ms", h.grace);
  integer("degraded_after", h.degraded_after);
  integer("offline_after", h.offline_after);
  integer("recover_after", h.recover_after);
  ms("extended_offline_after_ms", h.extended_offline_after);
  integer("flapping_transitions", h.flapping_transitions);
  ms("flapping_window_ms", h.flapping_window);
  text_value("schedule", h.schedule);
  text_value("timezone", h.timezone);
  ms("max_runtime_ms", h.max_runtime);
  text_value("active_hours", h.active_hours);
  ms("new_target_grace_ms", h.new_target_grace);
  return h;
}

std::string encode_tags(const std::vector<std::string>& tags) { return dump_json(tags); }

std::vector<std::string> decode_tags(std::string_view text)
{
  std::vector<std::string> out;
  const auto tags = parse_json(text);
  if (tags.is_array()) {
    for (const auto& tag : tags) {
      if (tag.is_string()) {
        out.push_back(tag.get<std::string>());
      }
    }
  }
  return out;
}

std::string encode_attempt_steps(const std::vector<AttemptStep>& steps)
{
  nlohmann::json out = nlohmann::json::array();
  for (const AttemptStep& step : steps) {
    out.push_back({{"kind", step.kind},
                   {"what", step.what},
                   {"exit_code", step.exit_code ? nlohmann::json(*step.exit_code) : nullptr},
                   {"output", step.output},
                   {"duration_ms", step.duration.count()},
                   {"result", step.result}});
  }
  return dump_json(out);
}

std::vector<AttemptStep> decode_attempt_steps(std::string_view text)
{
  std::vector<AttemptStep> out;
  const auto steps = parse_json(text);
  if (!steps.is_array()) {
    return out;
  }
  auto text_of = [](const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& j : steps) {
    if (!j.is_object()) {
      continue;
    }
    AttemptStep step;
    step.kind = text_of(j, "kind");
    step.what = text_of(j, "what");
    if (auto it = j.find("exit_code"); it != j.end() && it->is_number_integer()) {
      step.exit_code = it->get<int>();
    }
    step.output = text_of(j, "output");
    if (auto it = j.find("duration_ms"); it != j.end() && it->is_number_integer()) {
      step.duration = Duration(it->get<std::int64_t>());
    }
    step.result = text_of(j, "result");
    out.push_back(std::move(step));
  }
  return out;
}

std::string targets_fingerprint(const std::vector<TargetInfo>& targets)
{
  nlohmann::json snapshot = nlohmann::json::array();
  for (const auto& t : targets) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : t.checks) {
      checks.push_back({c.name, c.type, to_string(c.severity), c.description});
    }
    snapshot.push_back({t.id, t.name, to_string(t.kind), t.tags, t.paused, t.interval.count(),
                        t.stale_after.count(), std::move(checks),
                        t.heartbeat ? heartbeat_to_json(*t.heartbeat) : nlohmann::json()});
  }
  return fingerprint(dump_json(snapshot));
}

std::string schedules_fingerprint(const std::vector<ScheduleInfo>& schedules)
{
  nlohmann::json snapshot = nlohmann::json::array();
  for (const auto& sc : schedules) {
    snapshot.push_back({sc.name, sc.cron, sc.timezone, sc.target_id, sc.enabled, sc.description});
  }
  return fingerprint(dump_json(snapshot));
}

} // namespace hb::store
