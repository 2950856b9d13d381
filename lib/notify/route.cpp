// SPDX-License-Identifier: MIT
#include "notify/route.hpp"

#include "health/windows.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hb::notify {

bool is_bad(EventType type)
{
  switch (type) {
  case EventType::failing:
  case EventType::warning:
  case EventType::agent_degraded:
  case EventType::agent_offline:
  case EventType::job_failed:
  case EventType::job_late:
  case EventType::job_hung:
  case EventType::still_failing:
    return true;
  default:
    return false;
  }
}

bool is_recovery(EventType type)
{
  return type == EventType::recovered || type == EventType::agent_online
         || type == EventType::job_recovered;
}

bool ends_incident(EventType type)
{
  return is_recovery(type) || type == EventType::escalation_resolved;
}

EventLevel base_level(EventType type)
{
  switch (type) {
  case EventType::pulse_stale:
  case EventType::escalated:
  case EventType::escalation_resolved:
    return EventLevel::critical;
  case EventType::recover_stale:
  case EventType::failing:
  case EventType::agent_offline:
  case EventType::job_failed:
  case EventType::job_late:
  case EventType::job_hung:
  case EventType::discovery_failed:
    return EventLevel::alert;
  case EventType::warning:
  case EventType::agent_degraded:
  case EventType::clock_skew:
    return EventLevel::warning;
  default:
    return EventLevel::info;
  }
}

namespace {

template <typename T>
bool contains(const std::vector<T>& list, const T& value)
{
  return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

std::optional<TimePoint> quiet_end(const ChannelPolicy& channel,
                                   const TargetNotifySettings* target, TimePoint now)
{
  std::optional<TimePoint> end;
  if (channel.quiet_hours) {
    end = health::quiet_until(*channel.quiet_hours, now);
  }
  if (target != nullptr && target->quiet_hours) {
    if (const auto until = health::quiet_until(*target->quiet_hours, now)) {
      end = end ? std::max(*end, *until) : *until;
    }
  }
  return end;
}

bool matches(const NotifyRule& rule, const Event& event, EventLevel level,
             const TargetRecord* target)
{
  if (level < rule.min_severity) {
    return false;
  }
  if (!rule.events.empty() && !contains(rule.events, event.type)
      && !(event.type == EventType::still_failing && contains(rule.events, EventType::failing))) {
    return false;
  }
  const bool filters_targets = !rule.targets.empty() || !rule.tags.empty() || !rule.kinds.empty();
  if (!filters_targets) {
    return true;
  }
  if (target == nullptr) {
    return false;
  }
  if (!rule.targets.empty()
      && std::none_of(rule.targets.begin(), rule.targets.end(), [&](const std::string& pattern) {
           return util::glob_match(pattern, target->info.id);
         })) {
    return false;
  }
  if (!rule.tags.empty()
      && std::none_of(rule.tags.begin(), rule.tags.end(),
                      [&](const std::string& tag) { return contains(target->info.tags, tag); })) {
    return false;
  }
  return rule.kinds.empty() || contains(rule.kinds, target->info.kind);
}

std::vector<Notification> route(const NotifyPolicy& policy, const Event& event,
                                const RouteFacts& facts)
{
  std::vector<Notification> rows;
  if (event.in_grace) {
    return rows;
  }
  if (event.type == EventType::escalated || event.type == EventType::escalation_resolved) {
    for (const ChannelPolicy& channel : policy.channels) {
      if (!contains(policy.escalation_channels, channel.name)) {
        continue;
      }
      Notification row;
      row.event_id = event.id;
      row.channel = channel.name;
      row.level = EventLevel::critical;
      row.incident_id = facts.incident_id;
      row.created_at = event.at;
      row.next_attempt_at = event.at;
      if (channel.type == ChannelType::dashboard) {
        row.state = OutboxState::sent;
        row.sent_at = event.at;
        row.next_attempt_at.reset();
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }
  const bool recovery = is_recovery(event.type);
  const bool reminder = event.type == EventType::still_failing;
  EventLevel level = base_level(event.type);
  if (recovery || reminder) {
    level = std::max(facts.incident_level, recovery ? EventLevel::info : EventLevel::warning);
  }
  const TargetRecord* target = facts.target ? &*facts.target : nullptr;
  const TargetNotifySettings* settings =
      event.target_id.empty() ? nullptr : &policy.settings_of(event.target_id);

  std::optional<health::MaintenanceHit> maintenance;
  if (target != nullptr) {
    maintenance =
        health::in_maintenance(policy.maintenance, target->info.id, target->info.tags, event.at);
  }

  for (const ChannelPolicy& channel : policy.channels) {
    bool wanted = false;
    if (recovery) {
      const auto told = facts.told.find(channel.name);
      wanted = told != facts.told.end() && told->second.bad;
    } else {
      wanted = std::any_of(policy.rules.begin(), policy.rules.end(), [&](const NotifyRule& rule) {
        return contains(rule.channels, channel.name) && matches(rule, event, level, target);
      });
    }
    if (!wanted) {
      continue;
    }
    Notification row;
    row.event_id = event.id;
    row.channel = channel.name;
    row.level = level;
    row.incident_id = facts.incident_id;
    row.flapping = facts.flapping;
    row.created_at = event.at;
    row.next_attempt_at = event.at;
    if (!recovery) {
      const auto told = facts.told.find(channel.name);
      if (maintenance) {
        row.state = OutboxState::suppressed;
        row.reason = fmt::format("maintenance \"{}\" until {}", maintenance->name,
                                 util::format_rfc3339(maintenance->ends));
      } else if (!facts.failing_dependencies.empty()) {
        row.state = OutboxState::suppressed;
        row.reason = fmt::format("upstream {} is failing", facts.failing_dependencies.front());
      } else if (facts.flapping && !reminder && told != facts.told.end() && told->second.bad
                 && told->second.at + facts.flapping_window > event.at) {
        row.state = OutboxState::suppressed;
        row.reason = fmt::format("flapping: this channel was told at {}; at most one alert per {}",
                                 util::format_rfc3339(told->second.at),
                                 util::format_duration(facts.flapping_window));
      }
    }
    if (row.state == OutboxState::pending && channel.type == ChannelType::dashboard) {
      row.state = OutboxState::sent;
      row.sent_at = event.at;
      row.next_attempt_at.reset();
    } else if (row.state == OutboxState::pending && level < EventLevel::critical) {
      if (const auto end = quiet_end(channel, settings, event.at)) {
        row.state = OutboxState::held;
        row.next_attempt_at = *end;
        row.reason = fmt::format("quiet hours until {}", util::format_rfc3339(*end));
      }
    }
    if (row.state == OutboxState::suppressed) {
      row.next_attempt_at.reset();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool reminder_due(const TargetNotifySettings& settings, std::optional<TimePoint> failing_since,
                  const NoticeMarks& marks, TimePoint now)
{
  if (!failing_since || settings.repeat_every <= Duration(0)) {
    return false;
  }
  const TimePoint horizon = now - settings.repeat_every;
  if (marks.last_reminder && *marks.last_reminder > horizon) {
    return false;
  }
  // Something bad said about this incident within repeat_every: not yet.
  const bool spoken = marks.last_spoken_bad && *marks.last_spoken_bad >= *failing_since;
  return !spoken || *marks.last_spoken_bad <= horizon;
}

} // namespace hb::notify
