// SPDX-License-Identifier: MIT
#include "support/raw_server.hpp"
#include "support/test_server.hpp"
#include "util/http.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using hb::Duration;
using hb::test::TestHttpServer;
using hb::util::HttpRequest;
using hb::util::HttpResponse;
using Failure = hb::util::HttpResponse::Failure;

namespace {

HttpRequest get(const std::string& url)
{
  HttpRequest request;
  request.url = url;
  request.timeout = Duration(5'000);
  return request;
}

HttpResponse http_perform(const HttpRequest& request)
{
  hb::util::CurlHttpClient client;
  return client.perform(request);
}

Duration since(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
}

// The query-string form of `text`: every byte but unreserved ones percent-encoded.
std::string url_encode(const std::string& text)
{
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// The path on the test server that answers `code` with `Location: to`.
std::string redirect_path(const std::string& to, int code = 302, int delay_ms = 0)
{
  std::string path = fmt::format("/redirect-to?code={}&url={}", code, url_encode(to));
  if (delay_ms > 0) {
    path += fmt::format("&delay={}", delay_ms);
  }
  return path;
}

HttpRequest with_secret(const std::string& url, const std::string& method = "GET",
                        const std::string& body = "")
{
  HttpRequest request = get(url);
  request.method = method;
  request.body = body;
  request.headers = {{"X-Api-Key", "k3y"}, {"Cookie", "session=c00kie"}};
  return request;
}

} // namespace

TEST_CASE("http_perform")
{
  TestHttpServer server;

  SECTION("200 with its body")
  {
    const HttpResponse r = http_perform(get(server.url("/ok")));
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    CHECK_FALSE(r.body_truncated);
    CHECK(r.error.empty());
    CHECK(r.final_url == server.url("/ok"));
    CHECK(server.hits("/ok") == 1);
  }

  SECTION("404 is a response, not a failure")
  {
    const HttpResponse r = http_perform(get(server.url("/status/404")));
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 404);
    CHECK(r.body == "status 404");
  }

  SECTION("Retry-After is kept as sent, and only when sent")
  {
    const HttpResponse limited =
        http_perform(get(server.url("/record/x?status=429&retry_after=30")));
    CHECK(limited.failure == Failure::none);
    CHECK(limited.status == 429);
    CHECK(limited.retry_after == "30");
    const HttpResponse plain = http_perform(get(server.url("/ok")));
    CHECK(plain.retry_after.empty());
  }

  SECTION("a slow server and a short timeout give a timeout")
  {
    HttpRequest request = get(server.url("/slow/3000"));
    request.timeout = Duration(200);
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::timeout);
    CHECK(r.error == "timed out after 200ms (127.0.0.1:" + std::to_string(server.port()) + ")");
    CHECK(since(start) < Duration(2'000));
    CHECK(r.elapsed >= Duration(150));
  }

  SECTION("an endless body is cut off at max_body and the request returns at once")
  {
    HttpRequest request = get(server.url("/endless"));
    request.max_body = 64 * 1024;
    request.timeout = Duration(20'000);
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    CHECK(r.body_truncated);
    CHECK(r.body.size() == 64 * 1024);
    CHECK(r.body.find_first_not_of('x') == std::string::npos);
    CHECK(since(start) < Duration(3'000));
  }

  SECTION("a body of exactly max_body is not truncated")
  {
    HttpRequest request = get(server.url("/body/12345"));
    request.max_body = 5;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.body == "12345");
    CHECK_FALSE(r.body_truncated);
  }

  SECTION("redirects are followed up to max_redirects")
  {
    const HttpResponse r = http_perform(get(server.url("/redirect/3")));
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    CHECK(r.final_url == server.url("/ok"));
    CHECK(server.hits("/redirect/0") == 1);
  }

  SECTION("max_redirects 0 returns the redirect itself")
  {
    HttpRequest request = get(server.url("/redirect/3"));
    request.max_redirects = 0;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 302);
    CHECK(r.final_url == server.url("/redirect/3"));
    CHECK(server.hits("/redirect/2") == 0);
  }

  SECTION("more redirects than max_redirects is a protocol failure")
  {
    HttpRequest request = get(server.url("/redirect/3"));
    request.max_redirects = 2;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::protocol);
    CHECK(r.error == "Maximum (2) redirects followed");
  }

  SECTION("the cancel flag aborts a request the server never answers")
  {
    std::atomic<bool> cancel{false};
    HttpRequest request = get(server.url("/hang"));
    request.timeout = Duration(30'000);
    request.cancel = &cancel;
    std::chrono::steady_clock::time_point cancelled_at;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      cancelled_at = std::chrono::steady_clock::now();
      cancel.store(true);
    });
    const HttpResponse r = http_perform(request);
    const auto returned_at = std::chrono::steady_clock::now();
    canceller.join();
    CHECK(r.failure == Failure::cancelled);
    CHECK(r.error == "cancelled");
    CHECK(r.elapsed >= Duration(90));
    // libcurl's own progress callback would only notice after up to a second.
    CHECK(std::chrono::duration_cast<Duration>(returned_at - cancelled_at) < Duration(300));
    CHECK(server.hits("/hang") == 1);
  }

  SECTION("a cancel flag that is already set sends nothing")
  {
    std::atomic<bool> cancel{true};
    HttpRequest request = get(server.url("/ok"));
    request.cancel = &cancel;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::cancelled);
    CHECK(server.total_hits() == 0);
  }

  SECTION("a closed port is a connect failure")
  {
    const int port = hb::test::closed_port();
    const HttpResponse r =
        http_perform(get("http://127.0.0.1:" + std::to_string(port) + "/health"));
    CHECK(r.failure == Failure::connect);
    CHECK(r.error == "Connection refused (127.0.0.1:" + std::to_string(port) + ")");
  }

  SECTION("an unknown host is a dns failure")
  {
    const HttpResponse r = http_perform(get("http://no-such-host.invalid/health"));
    CHECK(r.failure == Failure::dns);
    CHECK(r.error == "could not resolve host \"no-such-host.invalid\"");
  }

  SECTION("other schemes are refused before anything is sent, with credentials removed")
  {
    const HttpResponse r = http_perform(get("ftp://user:pw@example.com/file?token=abc"));
    CHECK(r.failure == Failure::bad_url);
    CHECK(r.error == "only http:// and https:// URLs are allowed, got \"ftp://example.com/file\"");

    const HttpResponse file = http_perform(get("file:///etc/passwd"));
    CHECK(file.failure == Failure::bad_url);
  }

  SECTION("an unparseable http URL is a bad_url failure without its password")
  {
    const HttpResponse r = http_perform(get("http://user:s3cret@127.0.0.1:99999/x?token=abc"));
    CHECK(r.failure == Failure::bad_url);
    CHECK(r.error == "invalid URL \"http://127.0.0.1:99999/x\"");
  }

  SECTION("https to a plain-HTTP port fails, it does not succeed")
  {
    const HttpResponse r =
        http_perform(get("https://127.0.0.1:" + std::to_string(server.port()) + "/ok"));
    CHECK((r.failure == Failure::tls || r.failure == Failure::protocol));
    CHECK_FALSE(r.error.empty());
  }

  SECTION("credentials and query never reach final_url or the error")
  {
    const int port = hb::test::closed_port();
    const HttpResponse r = http_perform(
        get("http://admin:hunter2@127.0.0.1:" + std::to_string(port) + "/x?token=s3cret#frag"));
    CHECK(r.failure == Failure::connect);
    CHECK(r.final_url == "http://127.0.0.1:" + std::to_string(port) + "/x");
    CHECK(r.error.find("hunter2") == std::string::npos);
    CHECK(r.error.find("s3cret") == std::string::npos);
  }

  SECTION("sends the User-Agent, the method, the body and the headers")
  {
    const HttpResponse agent = http_perform(get(server.url("/header/User-Agent")));
    CHECK(agent.body == "heartbeat/" HB_VERSION);

    HttpRequest post = get(server.url("/echo"));
    post.method = "POST";
    post.body = "hello";
    CHECK(http_perform(post).body == "POST hello");

    HttpRequest put = post;
    put.method = "PUT";
    CHECK(http_perform(put).body == "PUT hello");

    HttpRequest del = get(server.url("/echo"));
    del.method = "DELETE";
    CHECK(http_perform(del).body == "DELETE ");

    HttpRequest with_header = get(server.url("/header/X-Token"));
    with_header.headers = {{"X-Token", "abc123"}};
    CHECK(http_perform(with_header).body == "abc123");
  }

  SECTION("HEAD returns the status and no body")
  {
    HttpRequest request = get(server.url("/ok"));
    request.method = "HEAD";
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
  }

  SECTION("a header with a line break is refused")
  {
    HttpRequest request = get(server.url("/ok"));
    request.headers = {{"X-Token", "abc\r\nX-Evil: 1"}};
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::other);
    CHECK(r.error == "invalid header \"X-Token\"");
    CHECK(server.total_hits() == 0);
  }

  SECTION("consecutive requests from one thread reuse the connection")
  {
    for (int i = 0; i < 20; ++i) {
      REQUIRE(http_perform(get(server.url("/ok"))).status == 200);
    }
    CHECK(server.total_hits() == 20);
    CHECK(server.connections() == 1);
  }

  SECTION("many threads at once")
  {
    constexpr int k_threads = 32;
    constexpr int k_per_thread = 20;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < k_per_thread; ++i) {
          const HttpResponse r = http_perform(get(server.url("/ok")));
          if (r.failure == Failure::none && r.status == 200 && r.body == "ok") {
            ++ok;
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    CHECK(ok.load() == k_threads * k_per_thread);
    CHECK(server.hits("/ok") == k_threads * k_per_thread);
  }
}

TEST_CASE("http_perform redirects")
{
  TestHttpServer server;
  TestHttpServer other; // another port: another origin
  const std::string other_host =
      fmt::format("http://localhost:{}", server.port()); // the same server by another name

  SECTION("the request's headers follow a redirect to the same origin, relative or absolute")
  {
    for (const std::string& to :
         {std::string("/record/relative"), server.url("/record/absolute")}) {
      INFO(to);
      const HttpResponse r = http_perform(with_secret(server.url(redirect_path(to))));
      CHECK(r.failure == Failure::none);
      CHECK(r.status == 200);
      CHECK(r.body == "recorded");
    }
    const auto seen = server.recorded();
    REQUIRE(seen.size() == 2);
    for (const auto& request : seen) {
      CHECK(request.header("X-Api-Key") == "k3y");
      CHECK(request.header("Cookie") == "session=c00kie");
    }
  }

  SECTION("a redirect to another port does not get them")
  {
    const HttpResponse r =
        http_perform(with_secret(server.url(redirect_path(other.url("/record/x")))));
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    CHECK(r.final_url == other.url("/record/x"));
    const auto seen = other.recorded();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK_FALSE(seen[0].has_header("X-Api-Key"));
    CHECK_FALSE(seen[0].has_header("Cookie"));
    CHECK(seen[0].header("User-Agent").rfind("heartbeat/", 0) == 0);
  }

  SECTION("a redirect to another name of the same host does not get them")
  {
    const HttpResponse r =
        http_perform(with_secret(server.url(redirect_path(other_host + "/record/x"))));
    CHECK(r.failure == Failure::none);
    const auto seen = server.recorded();
    REQUIRE(seen.size() == 1);
    CHECK_FALSE(seen[0].has_header("X-Api-Key"));
  }

  SECTION("only the original origin gets them, also after a detour")
  {
    // server -> other -> other -> server: the two hops on the other server get nothing.
    const std::string back = server.url("/record/back");
    const std::string detour = other.url(redirect_path(other.url(redirect_path(back))));
    const HttpResponse r = http_perform(with_secret(server.url(redirect_path(detour))));
    CHECK(r.failure == Failure::none);
    CHECK(r.final_url == back);
    CHECK(other.hits("/redirect-to") == 2);
    const auto seen = server.recorded();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].header("X-Api-Key") == "k3y");
  }

  SECTION("credentials in the URL reach the same origin, never another")
  {
    const std::string with_user = fmt::format("http://alice:s3cret@127.0.0.1:{}", server.port());
    CHECK(http_perform(get(with_user + redirect_path("/record/same"))).failure == Failure::none);
    CHECK(http_perform(get(with_user + redirect_path(other.url("/record/other")))).failure ==
          Failure::none);
    const auto same = server.recorded();
    REQUIRE(same.size() == 1);
    CHECK(same[0].header("Authorization") == "Basic YWxpY2U6czNjcmV0");
    const auto elsewhere = other.recorded();
    REQUIRE(elsewhere.size() == 1);
    CHECK_FALSE(elsewhere[0].has_header("Authorization"));
  }

  SECTION("a POST becomes a GET without its body on 301, 302 and 303, as browsers do")
  {
    for (const int code : {301, 302, 303}) {
      INFO(code);
      const HttpResponse r =
          http_perform(with_secret(server.url(redirect_path("/record/x", code)), "POST", "data"));
      CHECK(r.failure == Failure::none);
    }
    const auto seen = server.recorded();
    REQUIRE(seen.size() == 3);
    for (const auto& request : seen) {
      CHECK(request.method == "GET");
      CHECK(request.body.empty());
      CHECK(request.header("X-Api-Key") == "k3y"); // the origin did not change
    }
  }

  SECTION("307 and 308 keep the method and the body on the same origin")
  {
    for (const int code : {307, 308}) {
      const HttpResponse r =
          http_perform(with_secret(server.url(redirect_path("/record/x", code)), "POST", "data"));
      CHECK(r.failure == Failure::none);
    }
    http_perform(with_secret(server.url(redirect_path("/record/x", 307)), "PUT", "put-data"));
    const auto seen = server.recorded();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].body == "data");
    CHECK(seen[1].method == "POST");
    CHECK(seen[1].body == "data");
    CHECK(seen[2].method == "PUT");
    CHECK(seen[2].body == "put-data");
  }

  SECTION("307 to another origin keeps the method but not the body nor the headers")
  {
    const HttpResponse r = http_perform(
        with_secret(server.url(redirect_path(other.url("/record/x"), 307)), "POST", "data"));
    CHECK(r.failure == Failure::none);
    const auto seen = other.recorded();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].body.empty());
    CHECK_FALSE(seen[0].has_header("X-Api-Key"));
  }

  SECTION("a redirect to another scheme is not followed")
  {
    const HttpResponse r = http_perform(get(server.url(redirect_path("ftp://127.0.0.1/x?pw=1"))));
    CHECK(r.failure == Failure::protocol);
    CHECK(r.status == 302);
    CHECK(r.error ==
          "redirect to \"ftp://127.0.0.1/x\" not followed: only http:// and https:// URLs are");
  }

  SECTION("a 3xx the client does not follow is the response")
  {
    const HttpResponse r = http_perform(get(server.url(redirect_path("/record/x", 300))));
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 300);
    CHECK(server.recorded().empty());
  }

  SECTION("the timeout is one deadline for the whole chain")
  {
    // Two hops of 400 ms each fit a 600 ms timeout apiece, but not together.
    HttpRequest request =
        get(server.url(redirect_path(server.url(redirect_path("/ok", 302, 400)), 302, 400)));
    request.timeout = Duration(600);
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse r = http_perform(request);
    CHECK(since(start) < Duration(1'500));
    CHECK(r.failure == Failure::timeout);
    CHECK(r.error == fmt::format("timed out after 600ms (127.0.0.1:{})", server.port()));
    CHECK(server.hits("/ok") == 0);
  }
}

TEST_CASE("http_perform redirects from https")
{
  TestHttpServer secure(TestHttpServer::Options{0, 16, 1, true});
  TestHttpServer plain;
  const auto from_https = [&](const std::string& to) {
    HttpRequest request = with_secret(secure.url(redirect_path(to)));
    request.ca_file = secure.ca_file();
    return request;
  };

  SECTION("to http is refused and nothing is sent in the clear")
  {
    const HttpResponse r = http_perform(from_https(plain.url("/record/x?token=abc")));
    CHECK(r.failure == Failure::insecure_redirect);
    CHECK(r.error ==
          fmt::format("redirect from https to http refused (to \"{}\")", plain.url("/record/x")));
    CHECK(plain.total_hits() == 0);
  }

  SECTION("to http is followed when allowed, without the headers")
  {
    HttpRequest request = from_https(plain.url("/record/x"));
    request.allow_insecure_redirect = true;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.status == 200);
    const auto seen = plain.recorded();
    REQUIRE(seen.size() == 1);
    CHECK_FALSE(seen[0].has_header("X-Api-Key"));
  }

  SECTION("within the same https origin, the headers follow")
  {
    const HttpResponse r = http_perform(from_https("/record/x"));
    CHECK(r.failure == Failure::none);
    const auto seen = secure.recorded();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].header("X-Api-Key") == "k3y");
  }
}

TEST_CASE("http_perform: a huge response header")
{
  SECTION("is a protocol failure of the server, not our lack of memory")
  {
    hb::test::RawTcpServer server(hb::test::RawTcpServer::Behaviour::huge_header);
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse r = http_perform(get(server.url("/")));
    CHECK(since(start) < Duration(4'000));
    CHECK(r.failure == Failure::protocol);
    CHECK(r.error ==
          fmt::format("response header over 102400 bytes from 127.0.0.1:{}", server.port()));
  }
}

TEST_CASE("parse_retry_after")
{
  using hb::util::parse_retry_after;
  // 2015-10-21T07:28:00Z
  const hb::TimePoint now{Duration(1'445'412'480'000LL)};

  SECTION("delay-seconds")
  {
    CHECK(parse_retry_after("30", now) == Duration(30'000));
    CHECK(parse_retry_after(" 0 ", now) == Duration(0));
  }
  SECTION("an HTTP date, as of now")
  {
    CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == Duration(0));
    CHECK(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now) == Duration(90'000));
    CHECK(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now) == Duration(86'400'000));
  }
  SECTION("a date in the past is no wait")
  {
    CHECK(parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now) == Duration(0));
  }
  SECTION("anything else is no value")
  {
    CHECK_FALSE(parse_retry_after("", now));
    CHECK_FALSE(parse_retry_after("-5", now));
    CHECK_FALSE(parse_retry_after("1.5", now));
    CHECK_FALSE(parse_retry_after("soon", now));
    CHECK_FALSE(parse_retry_after("9999999999999", now));
    CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 PST", now));
    CHECK_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", now));
    CHECK_FALSE(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now));
    CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT trailing", now));
  }
}

TEST_CASE("default_http_client")
{
  SECTION("is the one libcurl client of the process")
  {
    hb::util::HttpClient& client = hb::util::default_http_client();
    CHECK(&client == &hb::util::default_http_client());
    CHECK(dynamic_cast<hb::util::CurlHttpClient*>(&client) != nullptr);
  }
}

TEST_CASE("http_perform over TLS")
{
  TestHttpServer server(TestHttpServer::Options{0, 16, 1, true});

  SECTION("a certificate nobody vouches for is refused by default")
  {
    const HttpResponse r = http_perform(get(server.url("/ok")));
    CHECK(r.failure == Failure::tls);
    CHECK(r.error.find("certificate") != std::string::npos);
    CHECK(server.total_hits() == 0);
  }

  SECTION("verify_tls false accepts it")
  {
    HttpRequest request = get(server.url("/ok"));
    request.verify_tls = false;
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.body == "ok");
  }

  SECTION("ca_file makes it trusted")
  {
    HttpRequest request = get(server.url("/ok"));
    request.ca_file = server.ca_file();
    const HttpResponse r = http_perform(request);
    CHECK(r.failure == Failure::none);
    CHECK(r.body == "ok");
  }
}

TEST_CASE("redact_url")
{
  using hb::util::redact_url;

  SECTION("removes userinfo and query")
  {
    CHECK(redact_url("https://user:pw@h/p?token=x") == "https://h/p");
  }
  SECTION("removes the fragment and keeps the port")
  {
    CHECK(redact_url("http://h:8080/a/b#secret") == "http://h:8080/a/b");
  }
  SECTION("leaves a clean URL as it is")
  {
    CHECK(redact_url("https://api.example.com/health") == "https://api.example.com/health");
  }
  SECTION("a user name alone is removed too")
  {
    CHECK(redact_url("https://token@h/p") == "https://h/p");
  }
  SECTION("works for other schemes")
  {
    CHECK(redact_url("ftp://user:pw@example.com/file?x=1") == "ftp://example.com/file");
  }
  SECTION("an unparseable URL still loses its credentials")
  {
    CHECK(redact_url("http://user:pw@h:99999/x?token=abc") == "http://h:99999/x");
  }
  SECTION("a password containing '/' is not shown")
  {
    const std::string redacted = redact_url("https://user:p/ss@h/x?token=abc");
    CHECK(redacted.find("p/ss") == std::string::npos);
    CHECK(redacted.find("abc") == std::string::npos);
  }
  SECTION("text without a scheme loses its query")
  {
    CHECK(redact_url("example.com/health?key=1") == "example.com/health");
  }
}

TEST_CASE("is_http_url")
{
  using hb::util::is_http_url;

  SECTION("http and https with a host")
  {
    CHECK(is_http_url("http://example.com"));
    CHECK(is_http_url("https://example.com/health?x=1"));
    CHECK(is_http_url("HTTPS://Example.com/"));
    CHECK(is_http_url("http://127.0.0.1:8080/ok"));
    CHECK(is_http_url("http://[::1]:8080/ok"));
  }
  SECTION("other schemes")
  {
    CHECK_FALSE(is_http_url("ftp://example.com/file"));
    CHECK_FALSE(is_http_url("file:///etc/passwd"));
    CHECK_FALSE(is_http_url("gopher://example.com"));
  }
  SECTION("no scheme, no host or malformed")
  {
    CHECK_FALSE(is_http_url("example.com/health"));
    CHECK_FALSE(is_http_url("http://"));
    CHECK_FALSE(is_http_url("https:///path"));
    CHECK_FALSE(is_http_url("http://exa mple.com/"));
    CHECK_FALSE(is_http_url(""));
  }
}
