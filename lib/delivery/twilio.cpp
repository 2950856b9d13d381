// SPDX-License-Identifier: MIT
// SMS and WhatsApp through Twilio's Messages API: one short text per recipient
// (docs/channels.md, "SMS and WhatsApp").

#include "delivery/encoding.hpp"
#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace hb::delivery {
namespace {

constexpr std::string_view k_default_api = "https://api.twilio.com";
constexpr std::string_view k_whatsapp_prefix = "whatsapp:";
// One GSM-7 segment. Text with a character outside GSM-7 goes as UCS-2 (70 per segment) and
// may take more; there is no helping that without mangling names.
constexpr std::size_t k_segment = 160;
// Recipients whose delivery of a notification this sender remembers, so that a retry within
// one process does not text them twice (Twilio has no idempotency key).
constexpr std::size_t k_max_remembered = 1000;
constexpr std::size_t k_max_error = 600;

// GSM 03.38's extension table: each takes two of the 160 characters.
bool is_gsm_extension(char c)
{
  return c == '^' || c == '{' || c == '}' || c == '\\' || c == '[' || c == ']' || c == '~' ||
         c == '|';
}

// Returns the length of the next UTF-8 character at `at`.
std::size_t char_length(std::string_view text, std::size_t at)
{
  std::size_t next = at + 1;
  while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0U) == 0x80U) {
    ++next;
  }
  return next - at;
}

// Returns how many of an SMS segment's 160 characters `text` takes (UTF-8 characters; GSM-7
// extension characters and the euro sign count twice).
std::size_t sms_length(std::string_view text)
{
  std::size_t units = 0;
  for (std::size_t at = 0; at < text.size(); at += char_length(text, at)) {
    const bool euro = text.substr(at, 3) == "\u20ac";
    units += is_gsm_extension(text[at]) || euro ? 2 : 1;
  }
  return units;
}

// Returns `text` cut to `units` SMS characters, ending in "..." when cut (GSM-7 has no "…").
std::string cut_sms(std::string_view text, std::size_t units)
{
  if (sms_length(text) <= units) {
    return std::string(text);
  }
  if (units <= 3) {
    return std::string("...").substr(0, units);
  }
  std::string out;
  std::size_t used = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = char_length(text, at);
    const std::size_t cost = sms_length(text.substr(at, length));
    if (used + cost > units - 3) {
      break;
    }
    out.append(text.substr(at, length));
    used += cost;
    at += length;
  }
  return out + "...";
}

// "[ALERT] payments failing: HTTP 503 (14:02Z)", within one segment: the event's message is
// cut to fit.
std::string single_text(const Message& message)
{
  std::string head =
      fmt::format("[{}] {} {}", level_word(message), target_label(message), state_word(message));
  if (message.flapping) {
    head += " (flapping)";
  }
  const std::string tail = fmt::format(" ({})", format_clock(message.event.at));
  const std::string text = one_line(message.event.message, 1000);
  const std::size_t fixed = sms_length(head) + sms_length(tail);
  if (text.empty() || fixed + 2 + 4 > k_segment) {
    return cut_sms(head + tail, k_segment);
  }
  return head + ": " + cut_sms(text, k_segment - fixed - 2) + tail;
}

// "5 targets failing: a, b, c +2": as many names as fit in one segment.
std::string grouped_text(const std::vector<Message>& messages)
{
  const std::string heading = group_title(messages);
  std::string names;
  std::size_t listed = 0;
  for (; listed < messages.size(); ++listed) {
    const std::string candidate =
        names + (listed == 0 ? "" : ", ") + one_line(target_label(messages[listed]), 100);
    const std::size_t rest = messages.size() - listed - 1;
    const std::string more = rest > 0 ? fmt::format(" +{}", rest) : "";
    if (sms_length(heading) + 2 + sms_length(candidate) + sms_length(more) > k_segment) {
      break;
    }
    names = candidate;
  }
  if (listed == 0) {
    return cut_sms(heading, k_segment);
  }
  const std::string more =
      listed < messages.size() ? fmt::format(" +{}", messages.size() - listed) : "";
  return fmt::format("{}: {}{}", heading, names, more);
}

class TwilioSender final : public Sender {
public:
  explicit TwilioSender(config::Channel channel)
      : m_channel(std::move(channel))
      , m_whatsapp(m_channel.policy.type == ChannelType::whatsapp)
      , m_secrets{m_channel.auth_token, base64(m_channel.account_sid + ":" + m_channel.auth_token)}
  {
  }

  SendResult send(const std::vector<Message>& messages, const SendContext& context) override
  {
    SendResult result;
    if (m_channel.to.empty()) {
      result.error = "twilio: the channel has no recipients (`to`)";
      return result;
    }
    const std::string text =
        messages.size() == 1 ? single_text(messages.front()) : grouped_text(messages);
    std::vector<std::string> keys;
    for (const auto& message : messages) {
      keys.push_back(message.idempotency_key);
    }
    const std::string key = fmt::format("{}", fmt::join(keys, ","));

    std::vector<std::string> sids;
    std::vector<std::string> errors;
    std::size_t reached = 0;
    bool any_failed = false;
    std::optional<Duration> retry_after;
    for (const std::string& recipient : m_channel.to) {
      if (m_delivered.count(key + "\n" + recipient) > 0) {
        ++reached;
        continue;
      }
      const util::HttpResponse response = context.http.perform(request(recipient, text, context));
      SendResult one =
          classify(response, fmt::format("twilio to {}", address(recipient)), m_secrets, context);
      if (one.kind == SendResult::Kind::sent) {
        ++reached;
        remember(key + "\n" + recipient);
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        if (body.is_object() && body.contains("sid") && body["sid"].is_string()) {
          sids.push_back(body["sid"].get<std::string>());
        }
        continue;
      }
      any_failed = any_failed || one.kind == SendResult::Kind::failed;
      if (one.retry_after && (!retry_after || *one.retry_after > *retry_after)) {
        retry_after = one.retry_after;
      }
      errors.push_back(std::move(one.error));
    }

    result.provider_id = fmt::format("{}", fmt::join(sids, ","));
    if (errors.empty()) {
      result.kind = SendResult::Kind::sent;
      return result;
    }
    result.kind = any_failed ? SendResult::Kind::failed : SendResult::Kind::retry;
    result.retry_after = result.kind == SendResult::Kind::retry ? retry_after : std::nullopt;
    std::string error = fmt::format("{}", fmt::join(errors, "; "));
    if (reached > 0) {
      error += fmt::format(" (sent to {} of {})", reached, m_channel.to.size());
    }
    result.error = truncate(error, k_max_error);
    return result;
  }

private:
  // WhatsApp addresses are phone numbers with a "whatsapp:" prefix, added unless present.
  std::string address(const std::string& number) const
  {
    if (!m_whatsapp || number.compare(0, k_whatsapp_prefix.size(), k_whatsapp_prefix) == 0) {
      return number;
    }
    return std::string(k_whatsapp_prefix) + number;
  }

  util::HttpRequest request(const std::string& recipient, const std::string& text,
                            const SendContext& context) const
  {
    std::string base = m_channel.api_url.empty() ? std::string(k_default_api) : m_channel.api_url;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    util::HttpRequest request = post_request(
        m_channel, context,
        fmt::format("{}/2010-04-01/Accounts/{}/Messages.json", base,
                    percent_encode(m_channel.account_sid)),
        "application/x-www-form-urlencoded",
        form_encode(
            {{"To", address(recipient)}, {"From", address(m_channel.from)}, {"Body", text}}));
    request.headers.emplace_back(
        "Authorization", "Basic " + base64(m_channel.account_sid + ":" + m_channel.auth_token));
    return request;
  }

  void remember(std::string entry)
  {
    if (m_delivered.size() >= k_max_remembered) {
      m_delivered.clear();
    }
    m_delivered.insert(std::move(entry));
  }

  config::Channel m_channel;
  bool m_whatsapp;
  std::vector<std::string> m_secrets;
  std::set<std::string> m_delivered; // "<idempotency keys>\n<recipient>"
};

} // namespace

std::unique_ptr<Sender> make_twilio_sender(const config::Channel& channel)
{
  return std::make_unique<TwilioSender>(channel);
}

} // namespace hb::delivery
