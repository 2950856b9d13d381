// SPDX-License-Identifier: MIT
#pragma once

// One factory per channel type, each in its own file; make_sender (senders.cpp) is the table
// that picks one by ChannelType.

#include "delivery/channel.hpp"

#include <memory>

namespace hb::delivery {

// A machine channel (webhook, PagerDuty, command): given one message at a time; should it get
// more, each is sent on its own, and the first that does not go through decides.
class OneAtATimeSender : public Sender {
public:
  SendResult send(const std::vector<Message>& messages, const SendContext& context) final
  {
    SendResult result;
    for (const Message& message : messages) {
      result = send_one(message, context);
      if (result.kind != SendResult::Kind::sent) {
        return result;
      }
    }
    return result;
  }

protected:
  virtual SendResult send_one(const Message& message, const SendContext& context) = 0;
};

std::unique_ptr<Sender> make_slack_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_webhook_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_email_sender(const config::Channel& channel);
// Twilio, for both `sms` and `whatsapp` (channel.policy.type says which).
std::unique_ptr<Sender> make_twilio_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_pagerduty_sender(const config::Channel& channel);
std::unique_ptr<Sender> make_command_sender(const config::Channel& channel);

} // namespace hb::delivery
