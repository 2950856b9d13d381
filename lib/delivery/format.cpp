// SPDX-License-Identifier: MIT
#include "delivery/format.hpp"

#include "checks/perfdata.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace hb::delivery {

std::string target_label(const Message& message)
{
  if (!message.target_name.empty()) {
    return message.target_name;
  }
  if (!message.event.target_id.empty()) {
    return message.event.target_id;
  }
  return "heartbeat";
}

std::string title(const Message& message)
{
  const std::string who = target_label(message);
  switch (message.event.type) {
  case EventType::failing:
    return who + " is failing";
  case EventType::warning:
    return who + " has a warning";
  case EventType::recovered:
  case EventType::job_recovered:
    return who + " recovered";
  case EventType::agent_online:
    return who + " is online";
  case EventType::agent_degraded:
    return who + " is degraded";
  case EventType::agent_offline:
    return who + " is offline";
  case EventType::job_ok:
    return who + " ran fine";
  case EventType::job_failed:
    return who + " failed";
  case EventType::job_late:
    return who + " is late";
  case EventType::job_hung:
    return who + " seems hung";
  case EventType::discovery_failed:
    return "target discovery failed";
  case EventType::clock_skew:
    return message.event.target_id.empty() ? "clock skew detected" : "clock skew on " + who;
  case EventType::still_failing:
    return who + " is still failing";
  case EventType::pulse_stale:
    return "hb-pulse has stopped running";
  case EventType::recover_stale:
    return "hb-recover has stopped running";
  case EventType::escalated:
    return message.event.target_id.empty() ? "escalation: several targets fail alike"
                                           : "escalation: recovery of " + who + " failed";
  case EventType::escalation_resolved:
    return message.event.target_id.empty() ? "shared cause resolved"
                                           : "escalation resolved: " + who + " recovered";
  }
  return who + " changed state";
}

std::string state_word(const Message& message)
{
  switch (message.event.type) {
  case EventType::recovered:
  case EventType::job_recovered:
    return "recovered";
  case EventType::still_failing:
    return "still failing";
  default:
    break;
  }
  if (!message.event.new_state.empty()) {
    return message.event.new_state;
  }
  return std::string(to_string(message.event.type));
}

std::string_view level_word(const Message& message)
{
  return level_word(message.level, message.recovery);
}

std::string_view level_word(EventLevel level, bool recovery)
{
  if (recovery) {
    return "RESOLVED";
  }
  switch (level) {
  case EventLevel::critical:
    return "CRITICAL";
  case EventLevel::alert:
    return "ALERT";
  case EventLevel::warning:
    return "WARNING";
  case EventLevel::info:
    return "INFO";
  }
  return "ALERT";
}

EventLevel group_level(const std::vector<Message>& messages)
{
  EventLevel level = EventLevel::info;
  for (const auto& message : messages) {
    if (!message.recovery && message.level > level) {
      level = message.level;
    }
  }
  return level;
}

bool all_recoveries(const std::vector<Message>& messages)
{
  return std::all_of(messages.begin(), messages.end(),
                     [](const Message& message) { return message.recovery; });
}

std::string group_title(const std::vector<Message>& messages)
{
  const std::string first = messages.empty() ? "" : state_word(messages.front());
  const bool same = std::all_of(messages.begin(), messages.end(), [&](const Message& message) {
    return state_word(message) == first;
  });
  const std::string count =
      fmt::format("{} {}", messages.size(), messages.size() == 1 ? "target" : "targets");
  return same ? fmt::format("{} {}", count, first) : count + " changed state";
}

std::string format_time(TimePoint at)
{
  return util::format_rfc3339(at);
}

std::string format_clock(TimePoint at)
{
  // "2026-02-18T14:02:00Z" -> "14:02Z"
  const std::string full = util::format_rfc3339(at);
  return full.size() >= 16 ? full.substr(11, 5) + "Z" : full;
}

nlohmann::json message_json(const Message& message)
{
  nlohmann::json target = nullptr;
  if (!message.event.target_id.empty()) {
    target = {{"id", message.event.target_id}, {"name", message.target_name}};
  }
  return {
      {"version", k_body_version},
      {"id", message.idempotency_key},
      {"notification_id", message.notification_id},
      {"event",
       {
           {"id", message.event.id},
           {"type", to_string(message.event.type)},
           {"at", format_time(message.event.at)},
           {"old_state", message.event.old_state},
           {"new_state", message.event.new_state},
           {"message", message.event.message},
       }},
      {"target", target},
      {"severity", to_string(message.level)},
      {"flapping", message.flapping},
      {"recovery", message.recovery},
      {"incident_key", message.incident_key},
      {"note", message.note},
  };
}

std::string json_body(const nlohmann::json& value)
{
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string truncate(std::string_view text, std::size_t max_bytes)
{
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  std::size_t cut = max_bytes >= 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
    --cut;
  }
  return std::string(text.substr(0, cut)) + std::string("...").substr(0, max_bytes - cut);
}

std::string one_line(std::string_view text, std::size_t max_bytes)
{
  const std::string clean = checks::sanitize_text(text, checks::KeepNewlines::no);
  std::string out;
  for (const char c : clean) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return truncate(out, max_bytes);
}

} // namespace hb::delivery
