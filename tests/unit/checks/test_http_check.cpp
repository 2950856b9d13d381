// SPDX-License-Identifier: MIT
#include "checks/http_check.hpp"

#include "support/fake_http_client.hpp"
#include "support/test_helpers.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using hb::CheckStatus;
using hb::Duration;
using hb::checks::CheckContext;
using hb::checks::CheckDef;
using hb::checks::CheckResult;
using hb::Metric;
using hb::test::config_error;
using hb::test::find_metric;
using hb::test::parse_check;
using hb::test::run_check;
using hb::test::TestHttpServer;
using nlohmann::json;

json http_spec(const std::string& url)
{
  return json{{"name", "web"}, {"type", "http"}, {"url", url}};
}

// Returns the result of one run of the check `spec` defines, its requests going to `client`.
CheckResult run_with(const json& spec, hb::util::HttpClient& client,
                     const std::atomic<bool>& cancel, Duration timeout = Duration(5'000))
{
  const CheckDef def = parse_check(spec);
  return def.probe->run(CheckContext{cancel, timeout, hb::test::system_clock(), client});
}

} // namespace

TEST_CASE("http check run")
{
  TestHttpServer server;

  SECTION("a 200 is ok, with time, status and size metrics")
  {
    const CheckResult r = run_check(http_spec(server.url("/ok")));
    CHECK(r.status == CheckStatus::ok);
    CHECK(r.message.rfind("HTTP 200 in ", 0) == 0);
    CHECK(r.message.find("ms") != std::string::npos);
    CHECK(r.phase.empty());
    const Metric* time = find_metric(r, "time");
    REQUIRE(time != nullptr);
    CHECK(time->unit == "s");
    CHECK(time->value >= 0.0);
    CHECK(time->value < 5.0);
    const Metric* status = find_metric(r, "status");
    REQUIRE(status != nullptr);
    CHECK(status->value == 200.0);
    CHECK(status->unit.empty());
    const Metric* size = find_metric(r, "size");
    REQUIRE(size != nullptr);
    CHECK(size->value == 2.0);
    CHECK(size->unit == "B");
  }

  SECTION("an unexpected status is a failure of the configured severity")
  {
    const CheckResult r = run_check(http_spec(server.url("/status/503")));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "http_status");
    CHECK(r.message == "HTTP 503 (expected 200-399)");
  }

  SECTION("severity warning makes the same failure a warning")
  {
    json spec = http_spec(server.url("/status/503"));
    spec["severity"] = "warning";
    const CheckResult r = run_check(spec);
    CHECK(r.status == CheckStatus::warning);
    CHECK(r.phase == "http_status");
  }

  SECTION("expect_status accepts integers, ranges and lists")
  {
    json spec = http_spec(server.url("/status/404"));
    spec["expect_status"] = 404;
    CHECK(run_check(spec).status == CheckStatus::ok);
    spec["expect_status"] = "400-404";
    CHECK(run_check(spec).status == CheckStatus::ok);
    spec["expect_status"] = json::array({200, "401-403"});
    const CheckResult r = run_check(spec);
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.message == "HTTP 404 (expected 200, 401-403)");
  }

  SECTION("a status override on the server turns a passing check into a failing one")
  {
    const json spec = http_spec(server.url("/ok"));
    CHECK(run_check(spec).status == CheckStatus::ok);
    server.set_status("/ok", 500);
    CHECK(run_check(spec).message == "HTTP 500 (expected 200-399)");
    server.clear_status("/ok");
    CHECK(run_check(spec).status == CheckStatus::ok);
  }

  SECTION("body_contains")
  {
    json spec = http_spec(server.url("/body/all%20systems%20go"));
    spec["body_contains"] = "systems";
    CHECK(run_check(spec).status == CheckStatus::ok);
    spec["body_contains"] = "ok";
    const CheckResult r = run_check(spec);
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "body");
    CHECK(r.message == "body does not contain \"ok\"");
  }

  SECTION("body_regex matches anywhere in the body")
  {
    json spec = http_spec(server.url("/body/status:%20green,%20version%201.2.3"));
    spec["body_regex"] = "version \\d+\\.\\d+";
    CHECK(run_check(spec).status == CheckStatus::ok);
    spec["body_regex"] = "^status: (green|yellow)";
    CHECK(run_check(spec).status == CheckStatus::ok);
    spec["body_regex"] = "^version";
    const CheckResult r = run_check(spec);
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "body");
    CHECK(r.message == "body does not match \"^version\"");
  }

  SECTION("body_regex on a large body neither overflows the stack nor goes quadratic")
  {
    // 200 kB: a backtracking engine recurses once per byte here, and a search restarted at
    // every byte would take minutes; one linear pass takes well under a second.
    json spec = http_spec(server.url("/bytes/200000"));
    spec["body_regex"] = ".*y";
    const auto start = std::chrono::steady_clock::now();
    const CheckResult r = run_check(spec, Duration(20'000));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.message == "body does not match \".*y\"");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  }

  SECTION("an endless body is checked as far as it was kept")
  {
    json spec = http_spec(server.url("/endless"));
    spec["body_contains"] = "y";
    const CheckResult r = run_check(spec, Duration(20'000));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.message == "body does not contain \"y\" (first 1048576 bytes checked)");
  }

  SECTION("slower than max_latency is a warning even when all else passed")
  {
    json spec = http_spec(server.url("/slow/300"));
    spec["max_latency"] = "100ms";
    const CheckResult r = run_check(spec);
    CHECK(r.status == CheckStatus::warning);
    CHECK(r.phase == "latency");
    CHECK(r.message.rfind("slow: ", 0) == 0);
    CHECK(r.message.find(" > 100ms") != std::string::npos);
    CHECK(r.latency >= Duration(300));
  }

  SECTION("a timeout is a failure, phase timeout")
  {
    const CheckResult r = run_check(http_spec(server.url("/slow/2000")), Duration(200));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "timeout");
    CHECK(r.message == "timed out after 200ms (127.0.0.1:" + std::to_string(server.port()) + ")");
  }

  SECTION("connection refused means the service is down")
  {
    const int port = hb::test::closed_port();
    const CheckResult r = run_check(http_spec("http://127.0.0.1:" + std::to_string(port) + "/"));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "connect");
    CHECK(r.message ==
          "connect failed: Connection refused (127.0.0.1:" + std::to_string(port) + ")");
  }

  SECTION("an unknown host means the service is down")
  {
    const CheckResult r = run_check(http_spec("http://no-such-host.invalid/health"));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "dns");
    CHECK(r.message == "dns lookup failed: could not resolve host \"no-such-host.invalid\"");
  }

  SECTION("cut off by the cancel flag is an error, not a failure")
  {
    const CheckDef def = parse_check(http_spec(server.url("/hang")));
    const auto [r, elapsed] = hb::test::run_cancelled_after(def, Duration(100));
    CHECK(r.status == CheckStatus::error);
    CHECK(r.phase == "cancelled");
    CHECK(r.message == "cut off: pulse deadline or shutdown");
    CHECK(elapsed < std::chrono::seconds(2));
  }

  SECTION("follow_redirects")
  {
    json spec = http_spec(server.url("/redirect/2"));
    CHECK(run_check(spec).message.rfind("HTTP 200", 0) == 0);
    spec["follow_redirects"] = false;
    CHECK(run_check(spec).message.rfind("HTTP 302", 0) == 0);
    spec["expect_status"] = 200;
    CHECK(run_check(spec).message == "HTTP 302 (expected 200)");
  }

  SECTION("method, headers and body are sent")
  {
    json spec = http_spec(server.url("/echo"));
    spec["method"] = "put";
    spec["body"] = "payload";
    spec["body_contains"] = "PUT payload";
    CHECK(run_check(spec).status == CheckStatus::ok);

    json headers = http_spec(server.url("/header/Authorization"));
    ::setenv("HB_TEST_HTTP_TOKEN", "Bearer s3cret", 1);
    headers["headers"] = {{"Authorization", "${HB_TEST_HTTP_TOKEN}"}};
    headers["body_contains"] = "Bearer s3cret";
    CHECK(run_check(headers).status == CheckStatus::ok);
  }

  SECTION("HEAD")
  {
    json spec = http_spec(server.url("/ok"));
    spec["method"] = "HEAD";
    CHECK(run_check(spec).status == CheckStatus::ok);
    CHECK(server.hits("/ok") == 1);
  }
}

TEST_CASE("http check run with a fake client")
{
  using Failure = hb::util::HttpResponse::Failure;
  using hb::test::FakeHttpClient;
  const std::atomic<bool> cancel{false};
  // Nothing listens here: every answer below comes from the fake.
  const json spec = http_spec("https://api.example.invalid/health");

  SECTION("the request carries the check's settings, timeout and cancel flag")
  {
    FakeHttpClient client(hb::test::http_answer(200, "ok", Duration(40)));
    json post = spec;
    post["method"] = "post";
    post["headers"] = {{"Authorization", "Bearer abc"}};
    post["body"] = "ping";
    const CheckResult r = run_with(post, client, cancel, Duration(1'500));
    CHECK(r.status == CheckStatus::ok);
    CHECK(r.message == "HTTP 200 in 40ms");
    const auto requests = client.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].url == "https://api.example.invalid/health");
    const std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer abc"}};
    CHECK(requests[0].headers == headers);
    CHECK(requests[0].body == "ping");
    CHECK(requests[0].timeout == Duration(1'500));
    CHECK(requests[0].cancel == &cancel);
  }

  SECTION("a 503 is an alert")
  {
    FakeHttpClient client(hb::test::http_answer(503));
    const CheckResult r = run_with(spec, client, cancel);
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "http_status");
    CHECK(r.message == "HTTP 503 (expected 200-399)");
  }

  SECTION("a timeout is a failure with the client's message")
  {
    FakeHttpClient client(hb::test::http_failure(
        Failure::timeout, "timed out after 5s (api.example.invalid:443)", Duration(5'000)));
    const CheckResult r = run_with(spec, client, cancel);
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "timeout");
    CHECK(r.message == "timed out after 5s (api.example.invalid:443)");
    CHECK(r.latency == Duration(5'000));
  }

  SECTION("a slow answer is a warning past max_latency")
  {
    FakeHttpClient client(hb::test::http_answer(200, "ok", Duration(900)));
    json slow = spec;
    slow["max_latency"] = "500ms";
    const CheckResult r = run_with(slow, client, cancel);
    CHECK(r.status == CheckStatus::warning);
    CHECK(r.phase == "latency");
    CHECK(r.message == "slow: 900ms > 500ms");
  }
}

TEST_CASE("http check TLS")
{
  TestHttpServer server(TestHttpServer::Options{0, 16, 1, true});

  SECTION("an untrusted certificate means the service is down, phase tls")
  {
    const CheckResult r = run_check(http_spec(server.url("/ok")));
    CHECK(r.status == CheckStatus::alert);
    CHECK(r.phase == "tls");
    CHECK(r.message.rfind("TLS failed: ", 0) == 0);
  }

  SECTION("insecure skips verification")
  {
    json spec = http_spec(server.url("/ok"));
    spec["insecure"] = true;
    CHECK(run_check(spec).status == CheckStatus::ok);
  }

  SECTION("ca_file trusts a private CA")
  {
    json spec = http_spec(server.url("/ok"));
    spec["ca_file"] = server.ca_file();
    CHECK(run_check(spec).status == CheckStatus::ok);
  }
}

TEST_CASE("http check describe")
{
  SECTION("method and URL without credentials or query")
  {
    json spec = http_spec("https://user:pw@api.example.com/health?token=abc");
    CHECK(parse_check(spec).probe->describe() == "GET https://api.example.com/health");
    spec["method"] = "POST";
    CHECK(parse_check(spec).probe->describe() == "POST https://api.example.com/health");
  }

  SECTION("insecure says so")
  {
    json spec = http_spec("https://self-signed.internal/");
    spec["insecure"] = true;
    CHECK(parse_check(spec).probe->describe() ==
          "GET https://self-signed.internal/ (TLS not verified)");
  }

  SECTION("a secret from the environment in the path shows as its placeholder")
  {
    ::setenv("HB_TEST_PING_KEY", "0f1e2d3c4b5a", 1);
    const json spec = http_spec("https://hc-ping.com/${HB_TEST_PING_KEY}/web");
    CHECK(parse_check(spec).probe->describe() == "GET https://hc-ping.com/${HB_TEST_PING_KEY}/web");
  }

  SECTION("a URL that is a secret as a whole is not shown")
  {
    ::setenv("HB_TEST_PING_URL", "https://hc-ping.com/0f1e2d3c4b5a", 1);
    json spec = http_spec("");
    spec["url"] = {{"env", "HB_TEST_PING_URL"}};
    CHECK(parse_check(spec).probe->describe() == "GET <URL from {\"env\":\"HB_TEST_PING_URL\"}>");
  }
}

TEST_CASE("http check config errors")
{
  const std::string at = "test.json: targets[0].checks[0]";

  SECTION("url must be http or https")
  {
    CHECK(config_error(http_spec("ftp://x")) ==
          at + ".url: expected an http:// or https:// URL, got \"ftp://x\"");
    CHECK(config_error(http_spec("example.com/health")) ==
          at + ".url: expected an http:// or https:// URL, got \"example.com/health\"");
  }

  SECTION("an invalid URL quotes the config text, not the resolved secret")
  {
    ::setenv("HB_TEST_BAD_HOST", "bad host", 1);
    CHECK(config_error(http_spec("https://${HB_TEST_BAD_HOST}/")) ==
          at + ".url: expected an http:// or https:// URL, got \"https://${HB_TEST_BAD_HOST}/\"");
  }

  SECTION("url is required")
  {
    const json spec = {{"name", "web"}, {"type", "http"}};
    CHECK(config_error(spec) == at + ": missing \"url\"");
  }

  SECTION("method")
  {
    json spec = http_spec("https://example.com/");
    spec["method"] = "FETCH";
    CHECK(config_error(spec) ==
          at + ".method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "
               "\"FETCH\"");
  }

  SECTION("expect_status")
  {
    json spec = http_spec("https://example.com/");
    spec["expect_status"] = 600;
    CHECK(config_error(spec) ==
          at + ".expect_status: expected an HTTP status from 100 to 599, got 600");
    spec["expect_status"] = "299-200";
    CHECK(config_error(spec) ==
          at + ".expect_status: expected a status range like \"200-299\" (statuses from 100 "
               "to 599, low to high), got \"299-200\"");
    spec["expect_status"] = json::array({200, "2xx"});
    CHECK(config_error(spec) ==
          at + ".expect_status[1]: expected a status range like \"200-299\" (statuses from "
               "100 to 599, low to high), got \"2xx\"");
    spec["expect_status"] = true;
    CHECK(config_error(spec) ==
          at + ".expect_status: expected an HTTP status from 100 to 599, a range like "
               "\"200-299\", or an array of them, got true");
    spec["expect_status"] = json::array();
    CHECK(config_error(spec) ==
          at + ".expect_status: expected an HTTP status from 100 to 599, a range like "
               "\"200-299\", or an array of them, got []");
  }

  SECTION("body_regex must compile")
  {
    json spec = http_spec("https://example.com/");
    spec["body_regex"] = "([a-z";
    CHECK(config_error(spec) ==
          at + ".body_regex: invalid regular expression \"([a-z\": unexpected character "
               "within '[...]' in regular expression");
    spec["body_regex"] = "(a)\\1";
    CHECK(config_error(spec) ==
          at + ".body_regex: invalid regular expression \"(a)\\\\1\": back-references like "
               "\\1 are not supported");
  }

  SECTION("a HEAD request has no body to check")
  {
    json spec = http_spec("https://example.com/");
    spec["method"] = "HEAD";
    spec["body_contains"] = "ok";
    CHECK(config_error(spec) == at + ".body_contains: a HEAD request has no body to check");
  }

  SECTION("max_latency")
  {
    json spec = http_spec("https://example.com/");
    spec["max_latency"] = "fast";
    CHECK(config_error(spec) ==
          at + ".max_latency: expected a duration like \"30s\", got \"fast\"");
  }

  SECTION("headers")
  {
    json spec = http_spec("https://example.com/");
    spec["headers"] = {{"X-Count", 5}};
    CHECK(config_error(spec) == at + ".headers.X-Count: expected a string, got 5");
    spec["headers"] = {{"Bad Name", "x"}};
    CHECK(config_error(spec) == at + ".headers.Bad Name: invalid header name \"Bad Name\"");
    ::setenv("HB_TEST_MULTILINE", "a\r\nX-Evil: 1", 1);
    spec["headers"] = {{"Authorization", "${HB_TEST_MULTILINE}"}};
    CHECK(config_error(spec) ==
          at + ".headers.Authorization: the value of header \"Authorization\" contains a "
               "line break");
  }

  SECTION("booleans")
  {
    json spec = http_spec("https://example.com/");
    spec["insecure"] = "yes";
    CHECK(config_error(spec) == at + ".insecure: expected true or false, got \"yes\"");
  }

  SECTION("an unknown key suggests the closest one")
  {
    json spec = http_spec("https://example.com/");
    spec["timout"] = "5s";
    CHECK(config_error(spec) == at + ".timout: unknown key \"timout\" (did you mean \"timeout\"?)");
    spec.erase("timout");
    spec["body_contain"] = "ok";
    CHECK(config_error(spec) ==
          at + ".body_contain: unknown key \"body_contain\" (did you mean \"body_contains\"?)");
  }
}
