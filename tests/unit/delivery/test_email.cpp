// SPDX-License-Identifier: MIT
#include "delivery/email.hpp"
#include "support/raw_server.hpp"
#include "support/smtp_server.hpp"
#include "support/test_server.hpp"
#include "support/tool_runner.hpp"
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

using hb::ChannelType;
using hb::delivery::SendResult;
using hb::test::failing_group;
using hb::test::failing_message;
using hb::test::SmtpTestServer;
using hb::test::TempDir;

namespace {

hb::config::Channel email(const std::string& url, hb::config::Channel::StartTls starttls)
{
  hb::config::Channel channel = hb::test::channel_of(ChannelType::email, "ops-mail");
  channel.smtp_url = url;
  channel.starttls = starttls;
  channel.from = "Heartbeat <heartbeat@example.org>";
  channel.to = {"ops@example.org", "Duty Person <duty@example.org>"};
  return channel;
}

SendResult send(const hb::config::Channel& channel,
                const std::vector<hb::delivery::Message>& messages = {failing_message()},
                const hb::util::Redactor& redactor = {})
{
  hb::test::FakeHttpClient http(hb::test::http_answer(500));
  return hb::delivery::make_sender(channel)->send(messages,
                                                  hb::delivery::SendContext{http, redactor});
}

const nlohmann::json& part(const nlohmann::json& mail, const std::string& type)
{
  for (const auto& p : mail["parts"]) {
    if (p["content_type"] == type) {
      return p;
    }
  }
  FAIL("no " << type << " part in " << mail.dump());
  throw std::logic_error("unreachable");
}

// A part's decoded text with CRLF line ends made "\n".
std::string text_of(const nlohmann::json& p)
{
  std::string out;
  for (const char c : p["text"].get<std::string>()) {
    if (c != '\r') {
      out += c;
    }
  }
  return out;
}

} // namespace

TEST_CASE("compose_email", "[delivery][email]")
{
  const auto channel = email("smtp://mail.example.org", hb::config::Channel::StartTls::required);
  const hb::TimePoint now = *hb::util::parse_rfc3339("2026-02-18T14:02:05Z");

  SECTION("headers")
  {
    const std::string mail = hb::delivery::compose_email(channel, {failing_message()}, now);
    CHECK(mail.find("Date: Wed, 18 Feb 2026 14:02:05 +0000\r\n") != std::string::npos);
    CHECK(mail.find("From: Heartbeat <heartbeat@example.org>\r\n") != std::string::npos);
    CHECK(mail.find("To: ops@example.org, Duty Person <duty@example.org>\r\n") !=
          std::string::npos);
    CHECK(mail.find("Subject: [heartbeat] ALERT Payments API is failing\r\n") != std::string::npos);
    CHECK(mail.find("Message-ID: <heartbeat.hb-42@example.org>\r\n") != std::string::npos);
    CHECK(mail.find("MIME-Version: 1.0\r\n") != std::string::npos);
    CHECK(
        mail.find("Content-Type: multipart/alternative;\r\n boundary=\"=_heartbeat_hb_42\"\r\n") !=
        std::string::npos);
  }

  SECTION("every line ends in CRLF and fits SMTP's limit")
  {
    auto message = failing_message();
    message.event.message = std::string(3000, 'z') + "\nsecond line";
    const std::string mail = hb::delivery::compose_email(channel, {message}, now);
    std::size_t start = 0;
    while (start < mail.size()) {
      const std::size_t end = mail.find("\r\n", start);
      REQUIRE(end != std::string::npos);
      CHECK(end - start <= 78);
      CHECK(mail.substr(start, end - start).find('\n') == std::string::npos);
      start = end + 2;
    }
  }

  SECTION("no header injection, HTML escaped, non-ASCII subjects encoded")
  {
    auto message = failing_message();
    message.target_name = "pay\r\nBcc: victim@example.org <script>ü";
    const std::string mail = hb::delivery::compose_email(channel, {message}, now);
    const std::string headers = mail.substr(0, mail.find("\r\n\r\n"));
    CHECK(headers.find("\r\nBcc:") == std::string::npos);
    CHECK(headers.find("Subject: =?UTF-8?B?") != std::string::npos);
  }

  SECTION("a group")
  {
    const std::string mail = hb::delivery::compose_email(channel, failing_group(3), now);
    CHECK(mail.find("Subject: [heartbeat] ALERT 3 targets failing\r\n") != std::string::npos);
    CHECK(mail.find("Message-ID: <heartbeat.hb-101.group3@example.org>\r\n") != std::string::npos);
  }
}

TEST_CASE("email sender against a real SMTP server", "[delivery][email]")
{
  TempDir dir;

  SECTION("plain SMTP: both parts and the headers arrive")
  {
    SmtpTestServer server(dir.path());
    auto message = failing_message();
    message.note = "after maintenance <sunday-patching>";
    message.flapping = true;
    const SendResult result =
        send(email(server.url(), hb::config::Channel::StartTls::off), {message});
    CHECK(result.kind == SendResult::Kind::sent);
    CHECK(result.error.empty());
    CHECK(result.provider_id == "heartbeat.hb-42@example.org");
    const auto mails = server.messages();
    REQUIRE(mails.size() == 1);
    const auto& mail = mails.front();
    CHECK(mail["mail_from"] == "heartbeat@example.org");
    CHECK(mail["rcpt_tos"] == nlohmann::json({"ops@example.org", "duty@example.org"}));
    CHECK(mail["tls"] == false);
    CHECK(mail["content_type"] == "multipart/alternative");
    CHECK(mail["headers"]["Subject"] == "[heartbeat] ALERT Payments API is failing");
    CHECK(mail["headers"]["From"] == "Heartbeat <heartbeat@example.org>");
    CHECK(mail["headers"]["To"] == "ops@example.org, Duty Person <duty@example.org>");
    CHECK(mail["headers"]["Message-ID"] == "<heartbeat.hb-42@example.org>");
    CHECK(mail["headers"]["MIME-Version"] == "1.0");
    CHECK(mail["headers"].contains("Date"));
    const std::string text = text_of(part(mail, "text/plain"));
    CHECK(text.find("Payments API is failing\n\nHTTP 503 from /health\n") == 0);
    CHECK(text.find("Target:   Payments API (payments)") != std::string::npos);
    CHECK(text.find("Time:     2026-02-18T14:02:00Z") != std::string::npos);
    CHECK(text.find("Flapping: this target changes state too often") != std::string::npos);
    CHECK(text.find("Note:     after maintenance <sunday-patching>") != std::string::npos);
    CHECK(part(mail, "text/plain")["charset"] == "utf-8");
    const std::string html = text_of(part(mail, "text/html"));
    CHECK(html.find("<h2>Payments API is failing</h2>") != std::string::npos);
    CHECK(html.find("after maintenance &lt;sunday-patching&gt;") != std::string::npos);
    CHECK(html.find("healthy → failing") != std::string::npos);
  }

  SECTION("STARTTLS required, with the server's certificate as ca_file")
  {
    SmtpTestServer server(dir.path(), SmtpTestServer::Options{true});
    auto channel = email(server.url(), hb::config::Channel::StartTls::required);
    channel.ca_file = server.ca_file();
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::sent);
    CHECK(result.error.empty());
    const auto mails = server.messages();
    REQUIRE(mails.size() == 1);
    CHECK(mails.front()["tls"] == true);
  }

  SECTION("STARTTLS with a certificate nobody vouches for is not sent")
  {
    SmtpTestServer server(dir.path(), SmtpTestServer::Options{true});
    const SendResult result = send(email(server.url(), hb::config::Channel::StartTls::required));
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(server.messages().empty());
  }

  SECTION("STARTTLS required and a server without it: failed, nothing sent in clear")
  {
    SmtpTestServer server(dir.path());
    const SendResult result = send(email(server.url(), hb::config::Channel::StartTls::required));
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error ==
          "email: the server does not offer STARTTLS, which is required: nothing was sent");
    CHECK(server.messages().empty());
  }

  SECTION("a recipient refused with 550 fails")
  {
    SmtpTestServer server(dir.path());
    auto channel = email(server.url(), hb::config::Channel::StartTls::off);
    channel.to = {"reject-me@example.org"};
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error.find("550") != std::string::npos);
    CHECK(server.messages().empty());
  }

  SECTION("a recipient deferred with 451 is retried")
  {
    SmtpTestServer server(dir.path());
    auto channel = email(server.url(), hb::config::Channel::StartTls::off);
    channel.to = {"busy@example.org"};
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(result.error.find("451") != std::string::npos);
  }

  SECTION("nobody listening is retried")
  {
    const SendResult result =
        send(email(fmt::format("smtp://127.0.0.1:{}", hb::test::closed_port()),
                   hb::config::Channel::StartTls::off));
    CHECK(result.kind == SendResult::Kind::retry);
  }

  SECTION("a grouped mail")
  {
    SmtpTestServer server(dir.path());
    const SendResult result =
        send(email(server.url(), hb::config::Channel::StartTls::off), failing_group(3));
    CHECK(result.kind == SendResult::Kind::sent);
    const auto mails = server.messages();
    REQUIRE(mails.size() == 1);
    CHECK(mails.front()["headers"]["Subject"] == "[heartbeat] ALERT 3 targets failing");
    const std::string text = text_of(part(mails.front(), "text/plain"));
    CHECK(text.find("- t1: failing - HTTP 503 from /health") != std::string::npos);
    CHECK(text.find("- t3: failing") != std::string::npos);
  }

  SECTION("a server that never greets: the timeout bounds it, and it is retried")
  {
    hb::test::RawTcpServer silent(hb::test::RawTcpServer::Behaviour::silent);
    auto channel = email(fmt::format("smtp://127.0.0.1:{}", silent.port()),
                         hb::config::Channel::StartTls::off);
    channel.policy.timeout = hb::Duration(300);
    const auto start = std::chrono::steady_clock::now();
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  }

  SECTION("the cancel flag ends a session at once, to be retried")
  {
    hb::test::RawTcpServer silent(hb::test::RawTcpServer::Behaviour::silent);
    auto channel = email(fmt::format("smtp://127.0.0.1:{}", silent.port()),
                         hb::config::Channel::StartTls::off);
    channel.policy.timeout = hb::Duration(60'000);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      cancel = true;
    });
    hb::test::FakeHttpClient http(hb::test::http_answer(500));
    const hb::util::Redactor redactor;
    const auto start = std::chrono::steady_clock::now();
    const SendResult result = hb::delivery::make_sender(channel)->send(
        {failing_message()}, hb::delivery::SendContext{http, redactor, &cancel});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    canceller.join();
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(result.error == "email: cancelled");
    // Far below the 60 s timeout: the flag, not the timeout, ended it.
    CHECK(elapsed < std::chrono::seconds(10));
  }

  SECTION("the password never reaches an error")
  {
    SmtpTestServer server(dir.path());
    auto channel = email(fmt::format("smtp://hb:sm7p-pa55word@127.0.0.1:{}", server.port()),
                         hb::config::Channel::StartTls::off);
    channel.username = "hb";
    channel.password = "sm7p-pa55word";
    channel.to = {"reject@example.org"};
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error.find("sm7p-pa55word") == std::string::npos);
  }
}
