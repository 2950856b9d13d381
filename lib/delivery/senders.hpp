// SPDX-License-Identifier: MIT
#pragma once

// One factory per channel type, each in its own file; make_sender (senders.cpp) is the table
// that picks one by ChannelType.

#include "delivery/channel.hpp"

#include <memory>

namespace hb::delivery {

std::unique_ptr<Sender> make_slack_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_webhook_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_email_sender(const config::Channel& channel);
// Twilio, for both `sms` and `whatsapp` (channel.policy.type says which).
std::unique_ptr<Sender> make_twilio_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_pagerduty_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_command_sender(const config::Channel& channel);

} // namespace hb::delivery
