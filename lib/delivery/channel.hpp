// SPDX-License-Identifier: MIT
#pragma once

// A notification channel's sending half: one Sender per configured channel formats messages for
// its medium (Block Kit for Slack, HTML + text for email, one short line for SMS, JSON for
// machines) and sends them. The delivery loop (delivery/deliver.hpp) decides what to send when,
// retries and falls back; a Sender only sends once and says how it went.

#include "config/config.hpp"
#include "core/model/event.hpp"
#include "core/model/notify.hpp"
#include "util/http.hpp"
#include "util/redact.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hb::delivery {

// One notification as a channel formats it.
struct Message {
  std::int64_t notification_id = 0;
  // Stays the same across retries of one notification: receivers drop duplicates by it.
  std::string idempotency_key;   // "hb-<notification id>"
  // One per incident of one target: PagerDuty's dedup_key, so that its resolve closes the
  // trigger. "heartbeat/<target id>/<incident event id>".
  std::string incident_key;
  Event event;                   // type, target_id ("" for the system), at, states, message
  std::string target_name;       // the target's name ("" for the system or an unknown target)
  EventLevel level = EventLevel::alert;
  bool flapping = false;         // annotate: the target changes state too often
  bool recovery = false;         // this ends an incident (PagerDuty resolve, green colour)
  std::string note;              // extra context for people ("after maintenance sunday-patching")
};

// How one send went.
struct SendResult {
  enum class Kind {
    sent,    // the provider accepted it
    retry,   // a temporary failure (network, timeout, 408, 429, 5xx): try again later
    failed,  // a permanent failure (other 4xx, a rejected recipient): retrying will not help
  };
  Kind kind = Kind::failed;
  std::string error;                      // for people and the outbox; never a secret
  std::optional<Duration> retry_after;    // the provider's Retry-After, when it sent one
  std::string provider_id;                // the provider's message id, when it returned one
};

// What a sender may use.
struct SendContext {
  util::HttpClient& http;
  const util::Redactor& redactor;         // every error text passes through it
  const std::atomic<bool>* cancel = nullptr;  // set on SIGTERM / the tool's deadline
};

// Sends to one channel. Implementations are safe to call from one thread at a time per object.
class Sender {
public:
  virtual ~Sender() = default;

  // Sends `messages` (never empty). A human channel (is_human_channel) given more than one sends
  // them as one grouped message listing each target and its state; every other channel is only
  // ever given one. Never throws for a delivery failure: it is a SendResult.
  virtual SendResult send(const std::vector<Message>& messages, const SendContext& context) = 0;
};

// Returns the sender for `channel`: slack, webhook, email, sms, whatsapp, pagerduty, command.
// The dashboard channel has none (nullptr): it is delivered by being in the database.
std::unique_ptr<Sender> make_sender(const config::Channel& channel);

} // namespace hb::delivery
