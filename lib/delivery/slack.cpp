// SPDX-License-Identifier: MIT
// Slack: an incoming webhook, a Block Kit message with a colour bar (docs/channels.md, "Slack").

#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hb::delivery {
namespace {

// Block Kit's limits: header text 150 characters, section text 3000.
constexpr std::size_t k_max_header = 150;
constexpr std::size_t k_max_section = 3000;
constexpr std::size_t k_max_field = 1000;
// A grouped message lists this many targets, then "and N more".
constexpr std::size_t k_max_listed = 20;
constexpr std::size_t k_max_list_line = 140;

constexpr std::string_view k_red = "#d00000";
constexpr std::string_view k_amber = "#f2a900";
constexpr std::string_view k_green = "#2eb67d";

// The webhook URL is the credential: it is only ever called "slack webhook".
constexpr std::string_view k_what = "slack webhook";

std::string_view colour(EventLevel level, bool recovery)
{
  if (recovery) {
    return k_green;
  }
  switch (level) {
  case EventLevel::critical:
  case EventLevel::alert:
    return k_red;
  case EventLevel::warning:
    return k_amber;
  case EventLevel::info:
    return k_green;
  }
  return k_red;
}

// mrkdwn treats &, < and > as markup.
std::string mrkdwn(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

nlohmann::json header_block(std::string_view text)
{
  return {{"type", "header"},
          {"text", {{"type", "plain_text"}, {"text", truncate(text, k_max_header)}}}};
}

nlohmann::json section_block(std::string_view text)
{
  return {{"type", "section"},
          {"text", {{"type", "mrkdwn"}, {"text", truncate(text, k_max_section)}}}};
}

nlohmann::json field(std::string_view name, std::string_view value)
{
  return {{"type", "mrkdwn"},
          {"text", truncate(fmt::format("*{}*\n{}", name, mrkdwn(value)), k_max_field)}};
}

nlohmann::json single_payload(const Message& message)
{
  const std::string heading = title(message);
  nlohmann::json blocks = nlohmann::json::array({header_block(heading)});
  if (!message.event.message.empty()) {
    blocks.push_back(section_block(mrkdwn(message.event.message)));
  }

  std::string target = target_label(message);
  if (!message.event.target_id.empty() && message.event.target_id != target) {
    target += fmt::format(" ({})", message.event.target_id);
  }
  std::string change = std::string(to_string(message.event.type));
  if (!message.event.old_state.empty() || !message.event.new_state.empty()) {
    change +=
        fmt::format(": {} → {}", message.event.old_state.empty() ? "?" : message.event.old_state,
                    message.event.new_state.empty() ? "?" : message.event.new_state);
  }
  nlohmann::json details = nlohmann::json::array();
  details.push_back(
      {{"type", "section"},
       {"fields",
        {field("Target", target), field("Event", change), field("Level", level_word(message)),
         field("Time", format_time(message.event.at))}}});
  nlohmann::json context = nlohmann::json::array();
  if (message.flapping) {
    context.push_back(
        {{"type", "mrkdwn"}, {"text", ":warning: flapping: this target changes state too often"}});
  }
  if (!message.note.empty()) {
    context.push_back(
        {{"type", "mrkdwn"}, {"text", truncate(mrkdwn("Note: " + message.note), k_max_field)}});
  }
  if (!context.empty()) {
    details.push_back({{"type", "context"}, {"elements", context}});
  }

  std::string text = fmt::format("[{}] {}", level_word(message), heading);
  if (!message.event.message.empty()) {
    text += ": " + message.event.message;
  }
  if (message.flapping) {
    text += " (flapping)";
  }
  const std::string fallback = truncate(text, k_max_section);
  return {{"text", fallback},
          {"blocks", blocks},
          {"attachments",
           {{{"color", colour(message.level, message.recovery)},
             {"fallback", fallback},
             {"blocks", details}}}}};
}

nlohmann::json grouped_payload(const std::vector<Message>& messages)
{
  const std::string heading = group_title(messages);
  std::string list;
  std::string names;
  const std::size_t listed = std::min(messages.size(), k_max_listed);
  for (std::size_t i = 0; i < listed; ++i) {
    const Message& message = messages[i];
    std::string line = fmt::format("*{}*: {}", target_label(message), state_word(message));
    if (!message.event.message.empty()) {
      line += " — " + message.event.message;
    }
    if (message.flapping) {
      line += " (flapping)";
    }
    list += "• " + mrkdwn(truncate(line, k_max_list_line)) + "\n";
    names += (i == 0 ? "" : ", ") + target_label(message);
  }
  if (messages.size() > listed) {
    const std::string more = fmt::format("and {} more", messages.size() - listed);
    list += more;
    names += " " + more;
  }
  const bool recovered = all_recoveries(messages);
  const EventLevel level = group_level(messages);
  const std::string_view word = level_word(level, recovered);
  const std::string fallback =
      truncate(fmt::format("[{}] {}: {}", word, heading, names), k_max_section);
  return {{"text", fallback},
          {"blocks", {header_block(heading)}},
          {"attachments",
           {{{"color", colour(level, recovered)},
             {"fallback", fallback},
             {"blocks", {section_block(list)}}}}}};
}

// The webhook URL with its scheme, host and port replaced by `api_url` (for a proxy or a test
// server); the path, which carries the credential, is kept.
std::string endpoint(const config::Channel& channel)
{
  if (channel.api_url.empty()) {
    return channel.url;
  }
  std::string base = channel.api_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + path_of(channel.url);
}

class SlackSender final : public Sender {
public:
  explicit SlackSender(config::Channel channel)
      : m_channel(std::move(channel))
  {
    m_secrets.push_back(m_channel.url);
    m_secrets.push_back(endpoint(m_channel));
    if (const std::string path = path_of(m_channel.url); path.size() > 1) {
      m_secrets.push_back(path);
      m_secrets.push_back(path.substr(1));
    }
  }

  SendResult send(const std::vector<Message>& messages, const SendContext& context) override
  {
    const nlohmann::json payload =
        messages.size() == 1 ? single_payload(messages.front()) : grouped_payload(messages);
    const util::HttpResponse response = context.http.perform(post_request(
        m_channel, context, endpoint(m_channel), "application/json", json_body(payload)));
    return classify(response, k_what, m_secrets, context);
  }

private:
  config::Channel m_channel;
  std::vector<std::string> m_secrets;
};

} // namespace

std::unique_ptr<Sender> make_slack_sender(const config::Channel& channel)
{
  return std::make_unique<SlackSender>(channel);
}

} // namespace hb::delivery
