// SPDX-License-Identifier: MIT
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using hb::ChannelType;
using hb::delivery::SendResult;
using hb::test::failing_message;
using hb::test::http_answer;
using hb::test::http_failure;
using hb::test::recovery_message;
using hb::test::send_through;

namespace {

constexpr const char* k_routing_key = "R0UT1NGKEY0123456789abcdefABCDEF";

hb::config::Channel pagerduty()
{
  hb::config::Channel channel = hb::test::channel_of(ChannelType::pagerduty, "pd");
  channel.routing_key = k_routing_key;
  return channel;
}

hb::util::HttpResponse accepted(const std::string& dedup_key)
{
  return http_answer(202, R"({"status":"success","message":"Event processed","dedup_key":")" +
                              dedup_key + R"("})");
}

nlohmann::json body_of(const hb::test::Sent& sent)
{
  REQUIRE(sent.requests.size() == 1);
  return nlohmann::json::parse(sent.requests.front().body);
}

} // namespace

TEST_CASE("pagerduty sender", "[delivery][pagerduty]")
{
  SECTION("a failure triggers an alert keyed by its incident")
  {
    const auto sent =
        send_through(pagerduty(), {failing_message()}, accepted("heartbeat/payments/40"));
    CHECK(sent.result.kind == SendResult::Kind::sent);
    CHECK(sent.result.provider_id == "heartbeat/payments/40");
    const auto& request = sent.requests.front();
    CHECK(request.url == "https://events.pagerduty.com/v2/enqueue");
    CHECK(request.max_redirects == 0);
    CHECK(hb::test::header(request, "Content-Type") == "application/json");
    const auto body = body_of(sent);
    CHECK(body["routing_key"] == k_routing_key);
    CHECK(body["event_action"] == "trigger");
    CHECK(body["dedup_key"] == "heartbeat/payments/40");
    CHECK(body["payload"]["summary"] == "Payments API is failing: HTTP 503 from /health");
    CHECK(body["payload"]["source"] == "payments");
    CHECK(body["payload"]["severity"] == "error");
    CHECK(body["payload"]["timestamp"] == "2026-02-18T14:02:00Z");
    CHECK(body["payload"]["custom_details"]["event"]["type"] == "failing");
    CHECK(body["payload"]["custom_details"]["id"] == "hb-42");
  }

  SECTION("its recovery resolves the same alert")
  {
    const auto trigger = body_of(send_through(pagerduty(), {failing_message()}, accepted("x")));
    const auto resolve = body_of(send_through(pagerduty(), {recovery_message()}, accepted("x")));
    CHECK(resolve["event_action"] == "resolve");
    CHECK(resolve["dedup_key"] == trigger["dedup_key"]);
    CHECK(resolve["routing_key"] == k_routing_key);
  }

  SECTION("severities")
  {
    auto message = failing_message();
    message.level = hb::EventLevel::critical;
    CHECK(body_of(send_through(pagerduty(), {message}, accepted("x")))["payload"]["severity"] ==
          "critical");
    message.level = hb::EventLevel::warning;
    CHECK(body_of(send_through(pagerduty(), {message}, accepted("x")))["payload"]["severity"] ==
          "warning");
    message.level = hb::EventLevel::info;
    CHECK(body_of(send_through(pagerduty(), {message}, accepted("x")))["payload"]["severity"] ==
          "info");
  }

  SECTION("a system event's source is heartbeat; the summary stays within 1024 characters")
  {
    auto message = failing_message();
    message.event.target_id = "";
    message.target_name = "";
    message.event.type = hb::EventType::discovery_failed;
    message.event.message = std::string(5000, 'y');
    const auto body = body_of(send_through(pagerduty(), {message}, accepted("x")));
    CHECK(body["payload"]["source"] == "heartbeat");
    CHECK(body["payload"]["summary"].get<std::string>().size() <= 1024);
  }

  SECTION("api_url replaces the API's base")
  {
    auto channel = pagerduty();
    channel.api_url = "http://127.0.0.1:7777";
    CHECK(send_through(channel, {failing_message()}, accepted("x")).requests.front().url ==
          "http://127.0.0.1:7777/v2/enqueue");
  }

  SECTION("400 fails with PagerDuty's reason and never the routing key")
  {
    const auto sent = send_through(
        pagerduty(), {failing_message()},
        http_answer(
            400,
            std::string(
                R"({"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' )") +
                k_routing_key + R"( is incorrect"]})"));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error == "pagerduty: HTTP 400: invalid event: Event object is invalid: "
                               "Length of 'routing_key' *** is incorrect");
  }

  SECTION("429 and 5xx are retried; so is a timeout")
  {
    CHECK(send_through(pagerduty(), {failing_message()}, http_answer(429)).result.kind ==
          SendResult::Kind::retry);
    CHECK(send_through(pagerduty(), {failing_message()}, http_answer(502)).result.kind ==
          SendResult::Kind::retry);
    const auto sent = send_through(pagerduty(), {failing_message()},
                                   http_failure(hb::util::HttpResponse::Failure::timeout,
                                                "timed out after 3s (events.pagerduty.com:443)"));
    CHECK(sent.result.kind == SendResult::Kind::retry);
    CHECK(sent.result.error == "pagerduty: timed out after 3s (events.pagerduty.com:443)");
  }
}
