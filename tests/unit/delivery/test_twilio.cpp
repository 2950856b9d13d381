// SPDX-License-Identifier: MIT
#include "delivery/encoding.hpp"
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using hb::ChannelType;
using hb::delivery::SendResult;
using hb::test::failing_group;
using hb::test::failing_message;
using hb::test::header;
using hb::test::http_answer;
using hb::test::recovery_message;
using hb::test::ScriptedHttpClient;
using hb::test::send_through;

namespace {

constexpr const char* k_sid = "AC0123456789abcdef";
constexpr const char* k_token = "twilio-auth-token-s3cret";

hb::config::Channel twilio(ChannelType type = ChannelType::sms)
{
  hb::config::Channel channel = hb::test::channel_of(type, "oncall-sms");
  channel.account_sid = k_sid;
  channel.auth_token = k_token;
  channel.from = "+15550001111";
  channel.to = {"+15550002222"};
  return channel;
}

std::string decode(const std::string& text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The fields of a form body.
std::map<std::string, std::string> form(const std::string& body)
{
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string::npos) {
      end = body.size();
    }
    const std::string pair = body.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    out[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

hb::util::HttpResponse created(const std::string& sid)
{
  return http_answer(201, R"({"sid": ")" + sid + R"(", "status": "queued"})");
}

} // namespace

TEST_CASE("twilio sender", "[delivery][twilio]")
{
  SECTION("posts a form to the Messages resource with Basic auth")
  {
    const auto sent = send_through(twilio(), {failing_message()}, created("SM111"));
    CHECK(sent.result.kind == SendResult::Kind::sent);
    CHECK(sent.result.provider_id == "SM111");
    REQUIRE(sent.requests.size() == 1);
    const auto& request = sent.requests.front();
    CHECK(request.method == "POST");
    CHECK(request.url ==
          "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json");
    CHECK(request.max_redirects == 0);
    CHECK(header(request, "Content-Type") == "application/x-www-form-urlencoded");
    CHECK(header(request, "Authorization") ==
          "Basic " + hb::delivery::base64(std::string(k_sid) + ":" + k_token));
    const auto fields = form(request.body);
    CHECK(fields.at("From") == "+15550001111");
    CHECK(fields.at("To") == "+15550002222");
    CHECK(fields.at("Body") == "[ALERT] Payments API failing: HTTP 503 from /health (14:02Z)");
  }

  SECTION("api_url replaces the API's base")
  {
    auto channel = twilio();
    channel.api_url = "http://127.0.0.1:9999/";
    const auto sent = send_through(channel, {failing_message()}, created("SM1"));
    CHECK(sent.requests.front().url ==
          "http://127.0.0.1:9999/2010-04-01/Accounts/AC0123456789abcdef/Messages.json");
  }

  SECTION("one request per recipient; the SIDs are the provider id")
  {
    auto channel = twilio();
    channel.to = {"+15550002222", "+15550003333"};
    ScriptedHttpClient http({created("SM1"), created("SM2")});
    const auto sender = hb::delivery::make_sender(channel);
    const SendResult result =
        sender->send({failing_message()}, hb::delivery::SendContext{http, hb::util::Redactor()});
    CHECK(result.kind == SendResult::Kind::sent);
    CHECK(result.provider_id == "SM1,SM2");
    const auto requests = http.requests();
    REQUIRE(requests.size() == 2);
    CHECK(form(requests[0].body).at("To") == "+15550002222");
    CHECK(form(requests[1].body).at("To") == "+15550003333");
  }

  SECTION("whatsapp prefixes From and To, unless already there")
  {
    auto channel = twilio(ChannelType::whatsapp);
    channel.to = {"+15550002222", "whatsapp:+15550003333"};
    ScriptedHttpClient http({created("SM1")});
    const auto sender = hb::delivery::make_sender(channel);
    CHECK(sender->send({failing_message()}, hb::delivery::SendContext{http, hb::util::Redactor()})
              .kind == SendResult::Kind::sent);
    const auto requests = http.requests();
    REQUIRE(requests.size() == 2);
    CHECK(form(requests[0].body).at("From") == "whatsapp:+15550001111");
    CHECK(form(requests[0].body).at("To") == "whatsapp:+15550002222");
    CHECK(form(requests[1].body).at("To") == "whatsapp:+15550003333");
  }

  SECTION("a long message is cut to fit one 160-character segment")
  {
    auto message = failing_message();
    message.event.message = std::string(500, 'x');
    const auto sent = send_through(twilio(), {message}, created("SM1"));
    const std::string body = form(sent.requests.front().body).at("Body");
    // 160 GSM-7 characters: "[" and "]" are from its extension table and take two each.
    CHECK(body.size() == 158);
    CHECK(body.rfind("[ALERT] Payments API failing: xxx", 0) == 0);
    CHECK(body.substr(body.size() - 12) == "... (14:02Z)");
  }

  SECTION("a recovery")
  {
    const auto sent = send_through(twilio(), {recovery_message()}, created("SM1"));
    CHECK(form(sent.requests.front().body).at("Body") ==
          "[RESOLVED] Payments API recovered: HTTP 200 (14:09Z)");
  }

  SECTION("a group is one short text naming what fits")
  {
    auto sent = send_through(twilio(), failing_group(5), created("SM1"));
    CHECK(form(sent.requests.front().body).at("Body") == "5 targets failing: t1, t2, t3, t4, t5");
    auto many = failing_group(40);
    for (auto& message : many) {
      message.target_name = "a-rather-long-target-name-" + message.event.target_id;
    }
    sent = send_through(twilio(), many, created("SM1"));
    const std::string body = form(sent.requests.front().body).at("Body");
    CHECK(body.size() <= 160);
    CHECK(body.rfind("40 targets failing: a-rather-long-target-name-t1, ", 0) == 0);
    CHECK(body.find(" +3") != std::string::npos);
  }
}

TEST_CASE("twilio sender: how answers are judged", "[delivery][twilio]")
{
  SECTION("an invalid number fails with Twilio's code and message, never the token")
  {
    const auto sent = send_through(
        twilio(), {failing_message()},
        http_answer(
            400,
            R"({"code": 21211, "message": "The 'To' number +15550002222 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})"));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error ==
          "twilio to +15550002222: HTTP 400: 21211: The 'To' number +15550002222 is not a valid "
          "phone number.");
  }

  SECTION("authentication failure fails; the token is scrubbed")
  {
    const auto sent = send_through(
        twilio(), {failing_message()},
        http_answer(401, std::string(R"({"code": 20003, "message": "Authenticate with )") +
                             k_token + R"("})"));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error.find(k_token) == std::string::npos);
  }

  SECTION("429 is retried after Retry-After")
  {
    auto answer = http_answer(429, R"({"code": 20429, "message": "Too Many Requests"})");
    answer.retry_after = "12";
    const auto sent = send_through(twilio(), {failing_message()}, answer);
    CHECK(sent.result.kind == SendResult::Kind::retry);
    REQUIRE(sent.result.retry_after);
    CHECK(*sent.result.retry_after == hb::Duration(12'000));
  }

  SECTION("one recipient failing for good fails the send, saying who")
  {
    auto channel = twilio();
    channel.to = {"+15550002222", "+15550003333"};
    ScriptedHttpClient http(
        {created("SM1"), http_answer(400, R"({"code": 21610, "message": "unsubscribed"})")});
    const auto sender = hb::delivery::make_sender(channel);
    const SendResult result =
        sender->send({failing_message()}, hb::delivery::SendContext{http, hb::util::Redactor()});
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.provider_id == "SM1");
    CHECK(result.error == "twilio to +15550003333: HTTP 400: 21610: unsubscribed (sent to 1 of 2)");
  }

  SECTION("a retry does not text again whoever already got it")
  {
    auto channel = twilio();
    channel.to = {"+15550002222", "+15550003333"};
    ScriptedHttpClient http({created("SM1"), http_answer(503), created("SM2")});
    const auto sender = hb::delivery::make_sender(channel);
    const hb::util::Redactor redactor;
    CHECK(sender->send({failing_message()}, hb::delivery::SendContext{http, redactor}).kind ==
          SendResult::Kind::retry);
    const SendResult again =
        sender->send({failing_message()}, hb::delivery::SendContext{http, redactor});
    CHECK(again.kind == SendResult::Kind::sent);
    const auto requests = http.requests();
    REQUIRE(requests.size() == 3);
    CHECK(form(requests[2].body).at("To") == "+15550003333");
  }
}
