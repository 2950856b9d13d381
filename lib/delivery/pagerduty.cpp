// SPDX-License-Identifier: MIT
// PagerDuty: Events API v2, a trigger per incident and the resolve that closes it
// (docs/channels.md, "PagerDuty").

#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hb::delivery {
namespace {

constexpr std::string_view k_default_api = "https://events.pagerduty.com";
constexpr std::size_t k_max_summary = 1024;
constexpr std::size_t k_max_dedup_key = 255;

std::string_view pagerduty_severity(EventLevel level)
{
  switch (level) {
  case EventLevel::critical:
    return "critical";
  case EventLevel::alert:
    return "error";
  case EventLevel::warning:
    return "warning";
  case EventLevel::info:
    return "info";
  }
  return "error";
}

class PagerDutySender final : public OneAtATimeSender {
public:
  explicit PagerDutySender(config::Channel channel)
      : m_channel(std::move(channel))
      , m_secrets{m_channel.routing_key}
  {
  }

private:
  SendResult send_one(const Message& message, const SendContext& context) override
  {
    const std::string dedup_key = truncate(message.incident_key, k_max_dedup_key);
    nlohmann::json body = {
        {"routing_key", m_channel.routing_key},
        {"event_action", message.recovery ? "resolve" : "trigger"},
        {"dedup_key", dedup_key},
    };
    if (!message.recovery) {
      std::string summary = title(message);
      if (!message.event.message.empty()) {
        summary += ": " + one_line(message.event.message, k_max_summary);
      }
      nlohmann::json details = message_json(message);
      body["client"] = "heartbeat";
      body["payload"] = {
          {"summary", truncate(summary, k_max_summary)},
          {"source", message.event.target_id.empty() ? "heartbeat" : message.event.target_id},
          {"severity", pagerduty_severity(message.level)},
          {"timestamp", format_time(message.event.at)},
          {"custom_details", details},
      };
    }
    std::string base = m_channel.api_url.empty() ? std::string(k_default_api) : m_channel.api_url;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    const util::HttpResponse response = context.http.perform(post_request(
        m_channel, context, base + "/v2/enqueue", "application/json", json_body(body)));
    SendResult result = classify(response, "pagerduty", m_secrets, context);
    if (result.kind == SendResult::Kind::sent) {
      const auto answer = nlohmann::json::parse(response.body, nullptr, false);
      result.provider_id =
          answer.is_object() && answer.contains("dedup_key") && answer["dedup_key"].is_string()
              ? answer["dedup_key"].get<std::string>()
              : dedup_key;
    }
    return result;
  }

  config::Channel m_channel;
  std::vector<std::string> m_secrets;
};

} // namespace

std::unique_ptr<Sender> make_pagerduty_sender(const config::Channel& channel)
{
  return std::make_unique<PagerDutySender>(channel);
}

} // namespace hb::delivery
