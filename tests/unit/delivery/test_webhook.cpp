// SPDX-License-Identifier: MIT
#include "delivery/encoding.hpp"
#include "support/test_server.hpp"
#include "unit/delivery/delivery_test.hpp"
#include "util/process.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>

using hb::ChannelType;
using hb::Duration;
using hb::delivery::SendResult;
using hb::test::failing_message;
using hb::test::header;
using hb::test::http_answer;
using hb::test::http_failure;
using hb::test::send_through;
using Failure = hb::util::HttpResponse::Failure;

namespace {

constexpr const char* k_secret = "whsec-correct-horse-battery";

hb::config::Channel
webhook(std::string url = "https://hooks.example.org/in/T0K3Nabcdef?key=q1w2e3r4")
{
  hb::config::Channel channel = hb::test::channel_of(ChannelType::webhook, "ops-hook");
  channel.url = std::move(url);
  channel.secret = k_secret;
  channel.headers = {{"X-Team", "ops"}, {"Authorization", "Bearer tok-0123456789"}};
  return channel;
}

// The signature as the openssl command computes it over `body`: an implementation apart from
// the one under test.
std::string openssl_hmac(const std::string& key, const std::string& body)
{
  hb::util::ProcessSpec spec;
  spec.argv = {"openssl", "dgst", "-sha256", "-hmac", key};
  spec.stdin_data = body;
  spec.stderr_mode = hb::util::ProcessSpec::Stderr::separate;
  const hb::util::ProcessResult result = hb::util::run_process(spec);
  REQUIRE(result.end == hb::util::ProcessResult::End::exited);
  REQUIRE(result.exit_code == 0);
  // "SHA2-256(stdin)= 5bdc...\n"
  const std::size_t at = result.output.rfind("= ");
  REQUIRE(at != std::string::npos);
  std::string hex = result.output.substr(at + 2);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) {
    hex.pop_back();
  }
  return hex;
}

} // namespace

TEST_CASE("webhook sender", "[delivery][webhook]")
{
  SECTION("posts the documented JSON body")
  {
    const auto sent = send_through(webhook(), {failing_message()}, http_answer(200));
    CHECK(sent.result.kind == SendResult::Kind::sent);
    REQUIRE(sent.requests.size() == 1);
    const auto& request = sent.requests.front();
    CHECK(request.method == "POST");
    CHECK(request.url == "https://hooks.example.org/in/T0K3Nabcdef?key=q1w2e3r4");
    CHECK(request.max_redirects == 0);
    CHECK(request.verify_tls);
    CHECK(request.timeout == Duration(3'000));
    const auto body = nlohmann::json::parse(request.body);
    CHECK(body["version"] == 1);
    CHECK(body["id"] == "hb-42");
    CHECK(body["notification_id"] == 42);
    CHECK(body["event"]["id"] == 40);
    CHECK(body["event"]["type"] == "failing");
    CHECK(body["event"]["at"] == "2026-02-18T14:02:00Z");
    CHECK(body["event"]["old_state"] == "healthy");
    CHECK(body["event"]["new_state"] == "failing");
    CHECK(body["event"]["message"] == "HTTP 503 from /health");
    CHECK(body["target"] == nlohmann::json{{"id", "payments"}, {"name", "Payments API"}});
    CHECK(body["severity"] == "alert");
    CHECK(body["flapping"] == false);
    CHECK(body["recovery"] == false);
    CHECK(body["incident_key"] == "heartbeat/payments/40");
    CHECK(body["note"] == "");
  }

  SECTION("a system event has a null target")
  {
    auto message = failing_message();
    message.event.target_id = "";
    message.target_name = "";
    message.event.type = hb::EventType::pulse_stale;
    const auto sent = send_through(webhook(), {message}, http_answer(204));
    CHECK(sent.result.kind == SendResult::Kind::sent);
    CHECK(nlohmann::json::parse(sent.requests.front().body)["target"].is_null());
  }

  SECTION("headers: content type, idempotency key, signature, the configured ones")
  {
    const auto sent = send_through(webhook(), {failing_message()}, http_answer(200));
    const auto& request = sent.requests.front();
    CHECK(header(request, "Content-Type") == "application/json");
    CHECK(header(request, "Idempotency-Key") == "hb-42");
    CHECK(header(request, "X-Team") == "ops");
    CHECK(header(request, "Authorization") == "Bearer tok-0123456789");
    const std::string signature = header(request, "X-Heartbeat-Signature");
    REQUIRE(signature.rfind("sha256=", 0) == 0);
    CHECK(signature.size() == 7 + 64);
  }

  SECTION("the signature is openssl's HMAC-SHA256 of the exact body")
  {
    const auto sent = send_through(webhook(), {failing_message()}, http_answer(200));
    const auto& request = sent.requests.front();
    CHECK(header(request, "X-Heartbeat-Signature") ==
          "sha256=" + openssl_hmac(k_secret, request.body));
  }

  SECTION("no secret, no signature")
  {
    auto channel = webhook();
    channel.secret = "";
    const auto sent = send_through(channel, {failing_message()}, http_answer(200));
    for (const auto& [name, value] : sent.requests.front().headers) {
      CHECK(name != "X-Heartbeat-Signature");
    }
  }
}

TEST_CASE("webhook sender: how answers are judged", "[delivery][webhook]")
{
  SECTION("500 is retried")
  {
    const auto sent = send_through(webhook(), {failing_message()}, http_answer(500, "oops"));
    CHECK(sent.result.kind == SendResult::Kind::retry);
    CHECK(sent.result.error == "webhook https://hooks.example.org: HTTP 500: oops");
    CHECK_FALSE(sent.result.retry_after);
  }

  SECTION("429 with Retry-After: 30 is retried after 30 s")
  {
    auto answer = http_answer(429, "slow down");
    answer.retry_after = "30";
    const auto sent = send_through(webhook(), {failing_message()}, answer);
    CHECK(sent.result.kind == SendResult::Kind::retry);
    REQUIRE(sent.result.retry_after);
    CHECK(*sent.result.retry_after == Duration(30'000));
  }

  SECTION("408 and 503 are retried")
  {
    CHECK(send_through(webhook(), {failing_message()}, http_answer(408)).result.kind ==
          SendResult::Kind::retry);
    CHECK(send_through(webhook(), {failing_message()}, http_answer(503)).result.kind ==
          SendResult::Kind::retry);
  }

  SECTION("400 fails, saying why")
  {
    const auto sent = send_through(webhook(), {failing_message()},
                                   http_answer(400, R"({"error":"unknown field \"severity\""})"));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error ==
          R"(webhook https://hooks.example.org: HTTP 400: unknown field "severity")");
  }

  SECTION("404 fails")
  {
    const auto sent = send_through(webhook(), {failing_message()}, http_answer(404));
    CHECK(sent.result.kind == SendResult::Kind::failed);
    CHECK(sent.result.error == "webhook https://hooks.example.org: HTTP 404");
  }

  SECTION("a redirect is not followed: it fails")
  {
    CHECK(send_through(webhook(), {failing_message()}, http_answer(302)).result.kind ==
          SendResult::Kind::failed);
  }

  SECTION("network failures are retried")
  {
    for (const Failure failure :
         {Failure::dns, Failure::connect, Failure::tls, Failure::timeout, Failure::protocol}) {
      const auto sent =
          send_through(webhook(), {failing_message()}, http_failure(failure, "timed out after 3s"));
      CHECK(sent.result.kind == SendResult::Kind::retry);
    }
    const auto sent =
        send_through(webhook(), {failing_message()},
                     http_failure(Failure::timeout, "timed out after 3s (hooks.example.org:443)"));
    CHECK(sent.result.error ==
          "webhook https://hooks.example.org: timed out after 3s (hooks.example.org:443)");
  }

  SECTION("a bad URL fails")
  {
    CHECK(
        send_through(webhook(), {failing_message()}, http_failure(Failure::bad_url, "invalid URL"))
            .result.kind == SendResult::Kind::failed);
  }

  SECTION("no secret reaches the error: URL token, query, header values, redactor's secrets")
  {
    const std::string echo =
        "bad request to https://hooks.example.org/in/T0K3Nabcdef?key=q1w2e3r4 with "
        "Bearer tok-0123456789, signed whsec-correct-horse-battery, db pw hunter22";
    const hb::util::Redactor redactor({"hunter22"});
    for (const auto& answer : {http_answer(400, echo), http_failure(Failure::protocol, echo)}) {
      const auto sent = send_through(webhook(), {failing_message()}, answer, redactor);
      CHECK(sent.result.error.find("T0K3Nabcdef") == std::string::npos);
      CHECK(sent.result.error.find("q1w2e3r4") == std::string::npos);
      CHECK(sent.result.error.find("tok-0123456789") == std::string::npos);
      CHECK(sent.result.error.find("correct-horse") == std::string::npos);
      CHECK(sent.result.error.find("hunter22") == std::string::npos);
      CHECK(sent.result.error.find("***") != std::string::npos);
    }
  }

  SECTION("a long error body is cut to 200 bytes on one line")
  {
    const auto sent = send_through(webhook(), {failing_message()},
                                   http_answer(422, std::string(5000, 'x') + "\n\x1b[31mred"));
    const std::string prefix = "webhook https://hooks.example.org: HTTP 422: ";
    REQUIRE(sent.result.error.rfind(prefix, 0) == 0);
    CHECK(sent.result.error.size() - prefix.size() <= 200);
    CHECK(sent.result.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("webhook sender against a real HTTP server", "[delivery][webhook]")
{
  hb::test::TestHttpServer server;
  const hb::util::Redactor redactor;

  SECTION("the body and every header arrive; the signature checks out")
  {
    const auto sender = hb::delivery::make_sender(webhook(server.url("/record/hook")));
    const SendResult result = sender->send(
        {failing_message()}, hb::delivery::SendContext{hb::util::default_http_client(), redactor});
    CHECK(result.kind == SendResult::Kind::sent);
    CHECK(result.error.empty());
    const auto recorded = server.recorded();
    REQUIRE(recorded.size() == 1);
    const auto& request = recorded.front();
    CHECK(request.method == "POST");
    CHECK(request.header("Content-Type") == "application/json");
    CHECK(request.header("Idempotency-Key") == "hb-42");
    CHECK(request.header("X-Team") == "ops");
    CHECK(request.header("X-Heartbeat-Signature") ==
          "sha256=" + openssl_hmac(k_secret, request.body));
    CHECK(nlohmann::json::parse(request.body)["id"] == "hb-42");
  }

  SECTION("a real 429's Retry-After is honoured")
  {
    const auto sender =
        hb::delivery::make_sender(webhook(server.url("/record/hook?status=429&retry_after=30")));
    const SendResult result = sender->send(
        {failing_message()}, hb::delivery::SendContext{hb::util::default_http_client(), redactor});
    CHECK(result.kind == SendResult::Kind::retry);
    REQUIRE(result.retry_after);
    CHECK(*result.retry_after == Duration(30'000));
    CHECK(result.error.find("HTTP 429") != std::string::npos);
  }

  SECTION("a real 400 fails with the server's reason")
  {
    const auto sender =
        hb::delivery::make_sender(webhook(server.url("/record/hook?status=400&body=no+such+hook")));
    const SendResult result = sender->send(
        {failing_message()}, hb::delivery::SendContext{hb::util::default_http_client(), redactor});
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error ==
          fmt::format("webhook http://127.0.0.1:{}: HTTP 400: no such hook", server.port()));
  }

  SECTION("nobody listening is retried")
  {
    const auto sender = hb::delivery::make_sender(
        webhook(fmt::format("http://127.0.0.1:{}/hook", hb::test::closed_port())));
    const SendResult result = sender->send(
        {failing_message()}, hb::delivery::SendContext{hb::util::default_http_client(), redactor});
    CHECK(result.kind == SendResult::Kind::retry);
  }
}
