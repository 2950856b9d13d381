// SPDX-License-Identifier: MIT
// The routing policy as the database keeps it: one JSON document in `meta`, written by the sync
// of hb-pulse and read by the event writer of every tool. Decoding is lenient about keys (an
// older binary's document reads with defaults) and strict about shape (not an object: none).
#include "store/encoding.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace hb::store {
namespace {

using nlohmann::json;

json quiet_to_json(const std::optional<QuietHours>& quiet)
{
  if (!quiet) {
    return nullptr;
  }
  return {{"hours", quiet->hours.text()}, {"timezone", quiet->timezone}};
}

std::optional<QuietHours> quiet_from_json(const json& j)
{
  if (!j.is_object()) {
    return std::nullopt;
  }
  const auto hours = ActiveHours::parse(j.value("hours", ""));
  if (!hours) {
    return std::nullopt;
  }
  return QuietHours{*hours, j.value("timezone", "UTC")};
}

template <typename E, typename ToString>
json names(const std::vector<E>& values, ToString to_text)
{
  json out = json::array();
  for (const E& v : values) {
    out.push_back(std::string(to_text(v)));
  }
  return out;
}

std::vector<std::string> strings(const json& j, const char* key)
{
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

Duration ms(const json& j, const char* key, Duration fallback)
{
  if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
    return Duration(it->get<std::int64_t>());
  }
  return fallback;
}

std::optional<TimePoint> time_of(const json& j, const char* key)
{
  if (auto it = j.find(key); it != j.end() && it->is_number_integer()) {
    return util::from_unix_ms(it->get<std::int64_t>());
  }
  return std::nullopt;
}

json settings_to_json(const TargetNotifySettings& s)
{
  return {{"quiet_hours", quiet_to_json(s.quiet_hours)},
          {"repeat_every_ms", s.repeat_every.count()},
          {"depends_on", s.depends_on},
          {"impact", s.impact}};
}

TargetNotifySettings settings_from_json(const json& j)
{
  TargetNotifySettings s;
  if (!j.is_object()) {
    return s;
  }
  s.quiet_hours = quiet_from_json(j.value("quiet_hours", json()));
  s.repeat_every = ms(j, "repeat_every_ms", s.repeat_every);
  s.depends_on = strings(j, "depends_on");
  if (auto it = j.find("impact"); it != j.end() && it->is_number()) {
    s.impact = it->get<double>();
  }
  return s;
}

} // namespace

std::string encode_notify_policy(const NotifyPolicy& policy)
{
  json channels = json::array();
  for (const ChannelPolicy& c : policy.channels) {
    channels.push_back({{"name", c.name},
                        {"type", std::string(to_string(c.type))},
                        {"quiet_hours", quiet_to_json(c.quiet_hours)},
                        {"max_attempts", c.max_attempts},
                        {"retry_backoff_ms", c.retry_backoff.count()},
                        {"retry_backoff_max_ms", c.retry_backoff_max.count()},
                        {"timeout_ms", c.timeout.count()},
                        {"fallback", c.fallback},
                        {"group_threshold", c.group_threshold}});
  }
  json rules = json::array();
  for (const NotifyRule& r : policy.rules) {
    rules.push_back({{"channels", r.channels},
                     {"targets", r.targets},
                     {"tags", r.tags},
                     {"kinds", names(r.kinds, [](TargetKind k) { return to_string(k); })},
                     {"events", names(r.events, [](EventType t) { return to_string(t); })},
                     {"min_severity", std::string(to_string(r.min_severity))},
                     {"source", r.source}});
  }
  json maintenance = json::array();
  for (const MaintenanceWindow& m : policy.maintenance) {
    json w{{"name", m.name},        {"cron", m.cron},       {"duration_ms", m.duration.count()},
           {"timezone", m.timezone}, {"targets", m.targets}, {"tags", m.tags}};
    if (m.start) {
      w["start_ms"] = util::to_unix_ms(*m.start);
    }
    if (m.end) {
      w["end_ms"] = util::to_unix_ms(*m.end);
    }
    maintenance.push_back(std::move(w));
  }
  json targets = json::object();
  for (const auto& [id, settings] : policy.targets) {
    targets[id] = settings_to_json(settings);
  }
  const json doc{{"channels", channels},
                 {"rules", rules},
                 {"maintenance", maintenance},
                 {"targets", targets},
                 {"defaults", settings_to_json(policy.defaults)},
                 {"escalation_channels", policy.escalation_channels}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<NotifyPolicy> decode_notify_policy(std::string_view text)
{
  const json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  NotifyPolicy policy;
  for (const json& c : doc.value("channels", json::array())) {
    if (!c.is_object()) {
      continue;
    }
    ChannelPolicy channel;
    channel.name = c.value("name", "");
    const auto type = parse_channel_type(c.value("type", ""));
    if (channel.name.empty() || !type) {
      continue;
    }
    channel.type = *type;
    channel.quiet_hours = quiet_from_json(c.value("quiet_hours", json()));
    channel.max_attempts = c.value("max_attempts", channel.max_attempts);
    channel.retry_backoff = ms(c, "retry_backoff_ms", channel.retry_backoff);
    channel.retry_backoff_max = ms(c, "retry_backoff_max_ms", channel.retry_backoff_max);
    channel.timeout = ms(c, "timeout_ms", channel.timeout);
    channel.fallback = c.value("fallback", "");
    channel.group_threshold = c.value("group_threshold", channel.group_threshold);
    policy.channels.push_back(std::move(channel));
  }
  for (const json& r : doc.value("rules", json::array())) {
    if (!r.is_object()) {
      continue;
    }
    NotifyRule rule;
    rule.channels = strings(r, "channels");
    rule.targets = strings(r, "targets");
    rule.tags = strings(r, "tags");
    for (const auto& name : strings(r, "kinds")) {
      if (const auto kind = parse_target_kind(name)) {
        rule.kinds.push_back(*kind);
      }
    }
    for (const auto& name : strings(r, "events")) {
      if (const auto type = parse_event_type(name)) {
        rule.events.push_back(*type);
      }
    }
    rule.min_severity =
        parse_event_level(r.value("min_severity", "info")).value_or(EventLevel::info);
    rule.source = r.value("source", "");
    policy.rules.push_back(std::move(rule));
  }
  for (const json& w : doc.value("maintenance", json::array())) {
    if (!w.is_object()) {
      continue;
    }
    MaintenanceWindow window;
    window.name = w.value("name", "");
    window.cron = w.value("cron", "");
    window.duration = ms(w, "duration_ms", Duration(0));
    window.timezone = w.value("timezone", "UTC");
    window.start = time_of(w, "start_ms");
    window.end = time_of(w, "end_ms");
    window.targets = strings(w, "targets");
    window.tags = strings(w, "tags");
    policy.maintenance.push_back(std::move(window));
  }
  if (auto it = doc.find("targets"); it != doc.end() && it->is_object()) {
    for (const auto& [id, settings] : it->items()) {
      policy.targets[id] = settings_from_json(settings);
    }
  }
  policy.defaults = settings_from_json(doc.value("defaults", json::object()));
  // Absent from policies stored before hb-recover: none.
  policy.escalation_channels = strings(doc, "escalation_channels");
  return policy;
}

} // namespace hb::store
