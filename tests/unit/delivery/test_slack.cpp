// SPDX-License-Identifier: MIT
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using hb::ChannelType;
using hb::delivery::SendResult;
using hb::test::failing_group;
using hb::test::failing_message;
using hb::test::http_answer;
using hb::test::http_failure;
using hb::test::recovery_message;
using hb::test::send_through;
using Failure = hb::util::HttpResponse::Failure;

namespace {

constexpr const char* k_webhook = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX";

hb::config::Channel slack()
{
  hb::config::Channel channel = hb::test::channel_of(ChannelType::slack, "ops-slack");
  channel.url = k_webhook;
  return channel;
}

nlohmann::json body_of(const hb::test::Sent& sent)
{
  REQUIRE(sent.requests.size() == 1);
  return nlohmann::json::parse(sent.requests.front().body);
}

// Every piece of text in a Block Kit payload, joined: what a person could read.
std::string all_text(const nlohmann::json& value)
{
  std::string out;
  if (value.is_string()) {
    return value.get<std::string>() + "\n";
  }
  if (value.is_structured()) {
    for (const auto& item : value) {
      out += all_text(item);
    }
  }
  return out;
}

} // namespace

TEST_CASE("slack sender", "[delivery][slack]")
{
  SECTION("posts Block Kit JSON to the webhook")
  {
    const auto sent = send_through(slack(), {failing_message()}, http_answer(200, "ok"));
    CHECK(sent.result.kind == SendResult::Kind::sent);
    const auto& request = sent.requests.front();
    CHECK(request.method == "POST");
    CHECK(request.url == k_webhook);
    CHECK(request.max_redirects == 0);
    CHECK(hb::test::header(request, "Content-Type") == "application/json");
    const auto body = body_of(sent);
    CHECK(body["text"] == "[ALERT] Payments API is failing: HTTP 503 from /health");
    CHECK(body["blocks"][0]["type"] == "header");
    CHECK(body["blocks"][0]["text"]["text"] == "Payments API is failing");
    CHECK(body["blocks"][1]["text"]["text"] == "HTTP 503 from /health");
    CHECK(body["attachments"][0]["color"] == "#d00000");
    const std::string text = all_text(body);
    CHECK(text.find("Payments API (payments)") != std::string::npos);
    CHECK(text.find("failing: healthy → failing") != std::string::npos);
    CHECK(text.find("2026-02-18T14:02:00Z") != std::string::npos);
  }

  SECTION("colours: red for critical and alert, amber for warning, green for info and recovery")
  {
    auto message = failing_message();
    message.level = hb::EventLevel::critical;
    CHECK(body_of(send_through(slack(), {message}, http_answer(200)))["attachments"][0]["color"] ==
          "#d00000");
    message.level = hb::EventLevel::warning;
    CHECK(body_of(send_through(slack(), {message}, http_answer(200)))["attachments"][0]["color"] ==
          "#f2a900");
    message.level = hb::EventLevel::info;
    CHECK(body_of(send_through(slack(), {message}, http_answer(200)))["attachments"][0]["color"] ==
          "#2eb67d");
    const auto recovered = body_of(send_through(slack(), {recovery_message()}, http_answer(200)));
    CHECK(recovered["attachments"][0]["color"] == "#2eb67d");
    CHECK(recovered["text"] == "[RESOLVED] Payments API recovered: HTTP 200");
  }

  SECTION("flapping and the note are shown")
  {
    auto message = failing_message();
    message.flapping = true;
    message.note = "after maintenance sunday-patching";
    const std::string text = all_text(body_of(send_through(slack(), {message}, http_answer(200))));
    CHECK(text.find("flapping") != std::string::npos);
    CHECK(text.find("Note: after maintenance sunday-patching") != std::string::npos);
  }

  SECTION("mrkdwn control characters are escaped")
  {
    auto message = failing_message();
    message.event.message = "<!channel> & <http://evil|click>";
    const auto body = body_of(send_through(slack(), {message}, http_answer(200)));
    CHECK(body["blocks"][1]["text"]["text"] == "&lt;!channel&gt; &amp; &lt;http://evil|click&gt;");
  }

  SECTION("api_url replaces the webhook's scheme, host and port, keeping its path")
  {
    auto channel = slack();
    channel.api_url = "http://127.0.0.1:8080/";
    const auto sent = send_through(channel, {failing_message()}, http_answer(200));
    CHECK(sent.requests.front().url == "http://127.0.0.1:8080/services/T000/B000/XXXXsecretXXXX");
  }

  SECTION("a group is one message listing each target, capped")
  {
    const auto body = body_of(send_through(slack(), failing_group(25), http_answer(200)));
    CHECK(body["blocks"][0]["text"]["text"] == "25 targets failing");
    const std::string list = body["attachments"][0]["blocks"][0]["text"]["text"];
    CHECK(list.find("• *t1*: failing — HTTP 503 from /health") != std::string::npos);
    CHECK(list.find("*t20*") != std::string::npos);
    CHECK(list.find("*t21*") == std::string::npos);
    CHECK(list.find("and 5 more") != std::string::npos);
    CHECK(body["text"].get<std::string>().rfind("[ALERT] 25 targets failing: t1, t2,", 0) == 0);
  }

  SECTION("a mixed group says so")
  {
    auto messages = failing_group(2);
    messages.push_back(recovery_message());
    const auto body = body_of(send_through(slack(), messages, http_answer(200)));
    CHECK(body["blocks"][0]["text"]["text"] == "3 targets changed state");
    CHECK(body["attachments"][0]["color"] == "#d00000");
  }
}

TEST_CASE("slack sender: errors never show the webhook URL", "[delivery][slack]")
{
  SECTION("404 channel_not_found fails")
  {
    const auto sent =
        send_through(slack(), {failing_message()}, http_answer(404, "channel_not_found"));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error == "slack webhook: HTTP 404: channel_not_found");
  }

  SECTION("429 rate_limited is retried after Retry-After")
  {
    auto answer = http_answer(429, "rate_limited");
    answer.retry_after = "7";
    const auto sent = send_through(slack(), {failing_message()}, answer);
    CHECK(sent.result.kind == SendResult::Kind::retry);
    REQUIRE(sent.result.retry_after);
    CHECK(*sent.result.retry_after == hb::Duration(7'000));
  }

  SECTION("a network error naming the URL is scrubbed")
  {
    const auto sent = send_through(
        slack(), {failing_message()},
        http_failure(Failure::protocol, std::string("failure posting to ") + k_webhook +
                                            " (path /services/T000/B000/XXXXsecretXXXX)"));
    CHECK(sent.result.kind == SendResult::Kind::retry);
    CHECK(sent.result.error.find("XXXXsecretXXXX") == std::string::npos);
    CHECK(sent.result.error.find("T000/B000") == std::string::npos);
    CHECK(sent.result.error.rfind("slack webhook: ", 0) == 0);
  }
}
