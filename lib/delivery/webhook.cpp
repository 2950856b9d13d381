// SPDX-License-Identifier: MIT
// Webhook: the JSON body of each notification, signed with HMAC-SHA256 when the channel has a
// secret (docs/channels.md, "Webhook").

#include "delivery/encoding.hpp"
#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"

#include <fmt/format.h>

namespace hb::delivery {
namespace {

class WebhookSender final : public OneAtATimeSender {
public:
  explicit WebhookSender(config::Channel channel)
      : m_channel(std::move(channel))
      // The URL may carry a token in its userinfo, path or query: errors name only its origin,
      // and the URL and its path are scrubbed from them.
      , m_what(fmt::format("webhook {}", origin_of(m_channel.url)))
      , m_secrets{m_channel.url, m_channel.secret}
  {
    if (const std::string path = path_of(m_channel.url); path.size() > 1) {
      m_secrets.push_back(path);
    }
    for (const auto& header : m_channel.headers) {
      m_secrets.push_back(header.second);
    }
  }

private:
  SendResult send_one(const Message& message, const SendContext& context) override
  {
    // The signature covers these exact bytes: the body is serialised once.
    std::string body = json_body(message_json(message));
    util::HttpRequest request =
        post_request(m_channel, context, m_channel.url, "application/json", body);
    request.headers.emplace_back("Idempotency-Key", message.idempotency_key);
    if (!m_channel.secret.empty()) {
      request.headers.emplace_back("X-Heartbeat-Signature",
                                   "sha256=" + hmac_sha256_hex(m_channel.secret, body));
    }
    for (const auto& header : m_channel.headers) {
      request.headers.push_back(header);
    }
    return classify(context.http.perform(request), m_what, m_secrets, context);
  }

  config::Channel m_channel;
  std::string m_what;
  std::vector<std::string> m_secrets;
};

} // namespace

std::unique_ptr<Sender> make_webhook_sender(const config::Channel& channel)
{
  return std::make_unique<WebhookSender>(channel);
}

} // namespace hb::delivery
