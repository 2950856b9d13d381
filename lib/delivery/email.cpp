// SPDX-License-Identifier: MIT
// Email: SMTP through libcurl, a text and an HTML part (docs/channels.md, "Email").

#include "delivery/email.hpp"

#include "delivery/encoding.hpp"
#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"
#include "util/smtp.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

namespace hb::delivery {
namespace {

// A grouped mail lists this many targets, then "and N more".
constexpr std::size_t k_max_listed = 50;
constexpr std::size_t k_max_message = 4000;

std::string trim(std::string_view text)
{
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

// "Thu, 21 Oct 2015 07:28:00 +0000" (RFC 5322 section 3.3), in UTC.
std::string mail_date(TimePoint now)
{
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  static constexpr std::array<std::string_view, 7> k_days = {"Sun", "Mon", "Tue", "Wed",
                                                             "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> k_months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", k_days[utc.tm_wday % 7],
                     utc.tm_mday, k_months[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour,
                     utc.tm_min, utc.tm_sec);
}

// A From or To value as a header holds it: a non-ASCII display name is encoded, the address
// never is.
std::string address_header(std::string_view value)
{
  const std::size_t open = value.rfind('<');
  if (open == std::string_view::npos || open == 0) {
    return header_text(trim(value));
  }
  const std::string name = trim(value.substr(0, open));
  return fmt::format("{} <{}>", header_text(name), header_text(mail_address(value)));
}

struct Line {
  std::string name;
  std::string value;
};

// The labelled facts of one message, shared by the text and the HTML part.
std::vector<Line> facts(const Message& message)
{
  std::vector<Line> lines;
  std::string target = target_label(message);
  if (!message.event.target_id.empty() && message.event.target_id != target) {
    target += fmt::format(" ({})", message.event.target_id);
  }
  lines.push_back({"Target", target});
  std::string event = std::string(to_string(message.event.type));
  if (!message.event.old_state.empty() || !message.event.new_state.empty()) {
    event +=
        fmt::format(" ({} → {})", message.event.old_state.empty() ? "?" : message.event.old_state,
                    message.event.new_state.empty() ? "?" : message.event.new_state);
  }
  lines.push_back({"Event", event});
  lines.push_back({"Level", std::string(level_word(message))});
  lines.push_back({"Time", format_time(message.event.at)});
  if (message.flapping) {
    lines.push_back({"Flapping", "this target changes state too often"});
  }
  if (!message.note.empty()) {
    lines.push_back({"Note", message.note});
  }
  return lines;
}

std::string text_part(const std::vector<Message>& messages)
{
  std::string out;
  if (messages.size() == 1) {
    const Message& message = messages.front();
    out += title(message) + "\n\n";
    if (!message.event.message.empty()) {
      out += truncate(message.event.message, k_max_message) + "\n\n";
    }
    for (const auto& line : facts(message)) {
      out += fmt::format("{:<9} {}\n", line.name + ":", line.value);
    }
  } else {
    out += group_title(messages) + "\n\n";
    const std::size_t listed = std::min(messages.size(), k_max_listed);
    for (std::size_t i = 0; i < listed; ++i) {
      const Message& message = messages[i];
      out += fmt::format("- {}: {}", target_label(message), state_word(message));
      if (!message.event.message.empty()) {
        out += " - " + one_line(message.event.message, 300);
      }
      if (message.flapping) {
        out += " (flapping)";
      }
      out += fmt::format(" ({})\n", format_time(message.event.at));
    }
    if (messages.size() > listed) {
      out += fmt::format("and {} more\n", messages.size() - listed);
    }
  }
  out += "\n-- \nheartbeat\n";
  return out;
}

std::string html_part(const std::vector<Message>& messages)
{
  std::string out = "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n";
  if (messages.size() == 1) {
    const Message& message = messages.front();
    out += fmt::format("<h2>{}</h2>\n", html_escape(title(message)));
    if (!message.event.message.empty()) {
      out += fmt::format("<pre style=\"white-space: pre-wrap\">{}</pre>\n",
                         html_escape(truncate(message.event.message, k_max_message)));
    }
    out += "<table>\n";
    for (const auto& line : facts(message)) {
      out += fmt::format("<tr><th align=\"left\">{}</th><td>{}</td></tr>\n", html_escape(line.name),
                         html_escape(line.value));
    }
    out += "</table>\n";
  } else {
    out += fmt::format("<h2>{}</h2>\n<ul>\n", html_escape(group_title(messages)));
    const std::size_t listed = std::min(messages.size(), k_max_listed);
    for (std::size_t i = 0; i < listed; ++i) {
      const Message& message = messages[i];
      std::string item = fmt::format("<b>{}</b>: {}", html_escape(target_label(message)),
                                     html_escape(state_word(message)));
      if (!message.event.message.empty()) {
        item += " &mdash; " + html_escape(one_line(message.event.message, 300));
      }
      if (message.flapping) {
        item += " (flapping)";
      }
      out += fmt::format("<li>{} <small>{}</small></li>\n", item,
                         html_escape(format_time(message.event.at)));
    }
    out += "</ul>\n";
    if (messages.size() > listed) {
      out += fmt::format("<p>and {} more</p>\n", messages.size() - listed);
    }
  }
  out += "<p style=\"color: #888\">heartbeat</p>\n</body></html>\n";
  return out;
}

std::string subject(const std::vector<Message>& messages)
{
  if (messages.size() == 1) {
    return fmt::format("[heartbeat] {} {}", level_word(messages.front()), title(messages.front()));
  }
  return fmt::format("[heartbeat] {} {}",
                     level_word(group_level(messages), all_recoveries(messages)),
                     group_title(messages));
}

std::string message_id(const config::Channel& channel, const std::vector<Message>& messages)
{
  const std::string from = mail_address(channel.from);
  const std::size_t at = from.rfind('@');
  const std::string domain = at == std::string::npos ? "heartbeat.invalid" : from.substr(at + 1);
  // The same notification keeps its Message-ID across retries, so that a mail that did arrive
  // before a failure was reported is recognisably the same one.
  std::string local = "heartbeat." + messages.front().idempotency_key;
  if (messages.size() > 1) {
    local += fmt::format(".group{}", messages.size());
  }
  std::string safe;
  for (const char c : local) {
    safe += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ? c : '-';
  }
  return fmt::format("{}@{}", safe, header_text(domain));
}

SendResult judge(const util::SmtpResult& smtp, const std::vector<std::string>& secrets,
                 const SendContext& context)
{
  using Failure = util::SmtpResult::Failure;
  SendResult result;
  switch (smtp.failure) {
  case Failure::none:
    result.kind = SendResult::Kind::sent;
    return result;
  case Failure::refused:
    result.kind = smtp.reply_code >= 500 ? SendResult::Kind::failed : SendResult::Kind::retry;
    break;
  case Failure::bad_url:
  case Failure::no_starttls:
  case Failure::login_denied:
    result.kind = SendResult::Kind::failed;
    break;
  case Failure::dns:
  case Failure::connect:
  case Failure::tls:
  case Failure::timeout:
  case Failure::cancelled:
  case Failure::other:
    result.kind = SendResult::Kind::retry;
    break;
  }
  result.error = scrub("email: " + one_line(smtp.error, 300), secrets, context.redactor);
  return result;
}

class EmailSender final : public Sender {
public:
  explicit EmailSender(config::Channel channel)
      : m_channel(std::move(channel))
      , m_secrets{m_channel.password, m_channel.smtp_url}
  {
  }

  SendResult send(const std::vector<Message>& messages, const SendContext& context) override
  {
    util::SmtpRequest request;
    request.url = m_channel.smtp_url;
    switch (m_channel.starttls) {
    case config::Channel::StartTls::required:
      request.starttls = util::SmtpRequest::StartTls::required;
      break;
    case config::Channel::StartTls::optional:
      request.starttls = util::SmtpRequest::StartTls::optional;
      break;
    case config::Channel::StartTls::off:
      request.starttls = util::SmtpRequest::StartTls::off;
      break;
    }
    request.verify_tls = !m_channel.insecure;
    request.ca_file = m_channel.ca_file;
    request.username = m_channel.username;
    request.password = m_channel.password;
    request.mail_from = mail_address(m_channel.from);
    for (const auto& to : m_channel.to) {
      request.recipients.push_back(mail_address(to));
    }
    request.message =
        compose_email(m_channel, messages,
                      std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
    request.timeout = m_channel.policy.timeout;
    request.cancel = context.cancel;
    SendResult result = judge(util::send_mail(request), m_secrets, context);
    if (result.kind == SendResult::Kind::sent) {
      result.provider_id = message_id(m_channel, messages);
    }
    return result;
  }

private:
  config::Channel m_channel;
  std::vector<std::string> m_secrets;
};

} // namespace

std::string mail_address(std::string_view value)
{
  const std::size_t open = value.rfind('<');
  const std::size_t close = value.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return trim(value.substr(open + 1, close - open - 1));
  }
  return trim(value);
}

std::string compose_email(const config::Channel& channel, const std::vector<Message>& messages,
                          TimePoint now)
{
  // "=_" never occurs in quoted-printable text, so no part can contain the boundary.
  std::string boundary = "=_heartbeat_";
  for (const char c : messages.front().idempotency_key.substr(0, 40)) {
    boundary += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  }
  std::vector<std::string> to;
  for (const auto& address : channel.to) {
    to.push_back(address_header(address));
  }
  std::string out;
  out += fmt::format("Date: {}\r\n", mail_date(now));
  out += fmt::format("From: {}\r\n", address_header(channel.from));
  out += fmt::format("To: {}\r\n", fmt::join(to, ", "));
  out += fmt::format("Subject: {}\r\n", header_text(subject(messages)));
  out += fmt::format("Message-ID: <{}>\r\n", message_id(channel, messages));
  out += "MIME-Version: 1.0\r\n";
  // RFC 3834: tells vacation responders not to answer.
  out += "Auto-Submitted: auto-generated\r\n";
  out += fmt::format("Content-Type: multipart/alternative;\r\n boundary=\"{}\"\r\n", boundary);
  out += "\r\n";
  out += "This is a MIME message: a text and an HTML version of one notification.\r\n";
  out += fmt::format("\r\n--{}\r\n", boundary);
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(text_part(messages));
  out += fmt::format("\r\n--{}\r\n", boundary);
  out += "Content-Type: text/html; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(html_part(messages));
  out += fmt::format("\r\n--{}--\r\n", boundary);
  return out;
}

std::unique_ptr<Sender> make_email_sender(const config::Channel& channel)
{
  return std::make_unique<EmailSender>(channel);
}

} // namespace hb::delivery
