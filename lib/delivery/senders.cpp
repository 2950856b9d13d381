// SPDX-License-Identifier: MIT
#include "delivery/senders.hpp"

#include <array>
#include <utility>

namespace hb::delivery {
namespace {

using Factory = std::unique_ptr<Sender> (*)(const config::Channel&);

// Every channel type that sends, with its factory. The dashboard is absent: it is delivered by
// being in the database.
constexpr std::array<std::pair<ChannelType, Factory>, 7> k_senders = {{
    {ChannelType::slack, make_slack_sender},
    {ChannelType::webhook, make_webhook_sender},
    {ChannelType::email, make_email_sender},
    {ChannelType::sms, make_twilio_sender},
    {ChannelType::whatsapp, make_twilio_sender},
    {ChannelType::pagerduty, make_pagerduty_sender},
    {ChannelType::command, make_command_sender},
}};

} // namespace

std::unique_ptr<Sender> make_sender(const config::Channel& channel)
{
  for (const auto& [type, factory] : k_senders) {
    if (type == channel.policy.type) {
      return factory(channel);
    }
  }
  return nullptr;
}

} // namespace hb::delivery
