// SPDX-License-Identifier: MIT
#include "core/model/notify.hpp"

#include "core/enum_table.hpp"

#include <algorithm>

namespace hb {
namespace {

constexpr std::array k_channel_type{
  std::pair{std::string_view{"slack"}, ChannelType::slack},
  std::pair{std::string_view{"webhook"}, ChannelType::webhook},
  std::pair{std::string_view{"email"}, ChannelType::email},
  std::pair{std::string_view{"sms"}, ChannelType::sms},
  std::pair{std::string_view{"whatsapp"}, ChannelType::whatsapp},
  std::pair{std::string_view{"pagerduty"}, ChannelType::pagerduty},
  std::pair{std::string_view{"command"}, ChannelType::command},
  std::pair{std::string_view{"dashboard"}, ChannelType::dashboard},
};
constexpr std::array k_event_level{
  std::pair{std::string_view{"info"}, EventLevel::info},
  std::pair{std::string_view{"warning"}, EventLevel::warning},
  std::pair{std::string_view{"alert"}, EventLevel::alert},
  std::pair{std::string_view{"critical"}, EventLevel::critical},
};
constexpr std::array k_outbox_state{
  std::pair{std::string_view{"pending"}, OutboxState::pending},
  std::pair{std::string_view{"sent"}, OutboxState::sent},
  std::pair{std::string_view{"failed"}, OutboxState::failed},
  std::pair{std::string_view{"held"}, OutboxState::held},
  std::pair{std::string_view{"suppressed"}, OutboxState::suppressed},
};

} // namespace

std::string_view to_string(ChannelType type) { return enum_name(k_channel_type, type); }
std::string_view to_string(EventLevel level) { return enum_name(k_event_level, level); }
std::string_view to_string(OutboxState state) { return enum_name(k_outbox_state, state); }
std::optional<ChannelType> parse_channel_type(std::string_view text) { return parse_enum(k_channel_type, text); }
std::optional<EventLevel> parse_event_level(std::string_view text) { return parse_enum(k_event_level, text); }
std::optional<OutboxState> parse_outbox_state(std::string_view text) { return parse_enum(k_outbox_state, text); }

bool is_human_channel(ChannelType type)
{
  return type == ChannelType::slack || type == ChannelType::email || type == ChannelType::sms
         || type == ChannelType::whatsapp;
}

const ChannelPolicy* NotifyPolicy::find_channel(std::string_view name) const
{
  const auto it = std::find_if(channels.begin(), channels.end(),
                               [&](const ChannelPolicy& c) { return c.name == name; });
  return it == channels.end() ? nullptr : &*it;
}

const TargetNotifySettings& NotifyPolicy::settings_of(const std::string& target_id) const
{
  const auto it = targets.find(target_id);
  return it == targets.end() ? defaults : it->second;
}

} // namespace hb
