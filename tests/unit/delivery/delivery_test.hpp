// SPDX-License-Identifier: MIT
#pragma once

// What the delivery tests share: a notification to send, a channel of each type, and an
// HttpClient that answers from a script.

#include "config/config.hpp"
#include "delivery/channel.hpp"
#include "support/fake_http_client.hpp"
#include "util/time.hpp"

#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hb::test {

// "payments" failing at 2026-02-18T14:02:00Z, notification 42.
inline delivery::Message failing_message()
{
  delivery::Message message;
  message.notification_id = 42;
  message.idempotency_key = "hb-42";
  message.incident_key = "heartbeat/payments/40";
  message.event.id = 40;
  message.event.target_id = "payments";
  message.event.at = *util::parse_rfc3339("2026-02-18T14:02:00Z");
  message.event.type = EventType::failing;
  message.event.old_state = "healthy";
  message.event.new_state = "failing";
  message.event.message = "HTTP 503 from /health";
  message.target_name = "Payments API";
  message.level = EventLevel::alert;
  return message;
}

// The recovery that ends failing_message()'s incident.
inline delivery::Message recovery_message()
{
  delivery::Message message = failing_message();
  message.notification_id = 43;
  message.idempotency_key = "hb-43";
  message.event.id = 41;
  message.event.at = *util::parse_rfc3339("2026-02-18T14:09:00Z");
  message.event.type = EventType::recovered;
  message.event.old_state = "failing";
  message.event.new_state = "healthy";
  message.event.message = "HTTP 200";
  message.recovery = true;
  return message;
}

// `n` failing targets "t1".."tn".
inline std::vector<delivery::Message> failing_group(int n)
{
  std::vector<delivery::Message> messages;
  for (int i = 1; i <= n; ++i) {
    delivery::Message message = failing_message();
    message.notification_id = 100 + i;
    message.idempotency_key = "hb-" + std::to_string(100 + i);
    message.event.target_id = "t" + std::to_string(i);
    message.target_name = "";
    messages.push_back(message);
  }
  return messages;
}

inline config::Channel channel_of(ChannelType type, std::string name = "test-channel")
{
  config::Channel channel;
  channel.policy.name = std::move(name);
  channel.policy.type = type;
  channel.policy.timeout = Duration(3'000);
  channel.source = "test.json: channels." + channel.policy.name;
  return channel;
}

// An HttpClient that answers requests with the responses it was given, in order (the last one
// again once they run out), and keeps the requests.
class ScriptedHttpClient final : public util::HttpClient {
public:
  explicit ScriptedHttpClient(std::vector<util::HttpResponse> responses)
      : m_responses(responses.begin(), responses.end())
  {
  }

  util::HttpResponse perform(const util::HttpRequest& request) override
  {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
    util::HttpResponse response = m_responses.front();
    if (m_responses.size() > 1) {
      m_responses.pop_front();
    }
    return response;
  }

  std::vector<util::HttpRequest> requests() const
  {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

private:
  mutable std::mutex m_mutex;
  std::deque<util::HttpResponse> m_responses;
  std::vector<util::HttpRequest> m_requests;
};

// Returns the value of header `name` in `request` (exact name), or "" when absent.
inline std::string header(const util::HttpRequest& request, const std::string& name)
{
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

// What one send gave and what the client saw.
struct Sent {
  delivery::SendResult result;
  std::vector<util::HttpRequest> requests;
};

// Sends `messages` on `channel` through a client that answers every request with `response`.
inline Sent send_through(const config::Channel& channel,
                         const std::vector<delivery::Message>& messages,
                         util::HttpResponse response, const util::Redactor& redactor = {})
{
  FakeHttpClient http(std::move(response));
  const auto sender = delivery::make_sender(channel);
  Sent out;
  out.result = sender->send(messages, delivery::SendContext{http, redactor});
  out.requests = http.requests();
  return out;
}

} // namespace hb::test
