// SPDX-License-Identifier: MIT
#include "util/http_redirect.hpp"

#include <catch2/catch.hpp>

using hb::util::HttpRequest;
using hb::util::plan_redirect;
using hb::util::RedirectPlan;
using hb::util::url_origin;
using Verdict = RedirectPlan::Verdict;

namespace {

HttpRequest request_to(const std::string& url, const std::string& method = "GET")
{
  HttpRequest request;
  request.url = url;
  request.method = method;
  return request;
}

} // namespace

TEST_CASE("url_origin")
{
  SECTION("scheme, host and port, the default port filled in")
  {
    CHECK(url_origin("https://api.example.com/health") == "https://api.example.com:443");
    CHECK(url_origin("http://api.example.com/health") == "http://api.example.com:80");
    CHECK(url_origin("http://127.0.0.1:8080/x?y=1#z") == "http://127.0.0.1:8080");
    CHECK(url_origin("http://[::1]:81/") == "http://[::1]:81");
  }

  SECTION("scheme and host in any case are the same origin; credentials are not part of it")
  {
    CHECK(url_origin("HTTPS://API.Example.COM/x") == "https://api.example.com:443");
    CHECK(url_origin("https://user:pw@api.example.com:443/") == "https://api.example.com:443");
  }

  SECTION("other schemes and malformed URLs have none")
  {
    CHECK_FALSE(url_origin("ftp://example.com/x"));
    CHECK_FALSE(url_origin("file:///etc/passwd"));
    CHECK_FALSE(url_origin("javascript:alert(1)"));
    CHECK_FALSE(url_origin("http://"));
    CHECK_FALSE(url_origin(""));
  }
}

TEST_CASE("plan_redirect")
{
  const HttpRequest get = request_to("https://api.example.com/v1");

  SECTION("the same origin keeps the headers")
  {
    const RedirectPlan plan =
        plan_redirect(get, get.url, "GET", 302, "https://api.example.com:443/v2");
    CHECK(plan.verdict == Verdict::follow);
    CHECK(plan.method == "GET");
    CHECK(plan.same_origin);
  }

  SECTION("another host, port or scheme is another origin: no headers, no body")
  {
    for (const std::string to : {"https://evil.example.net/v1", "https://api.example.com:8443/v1",
                                 "https://API.example.com.evil.net/", "https://127.0.0.1/v1"}) {
      INFO(to);
      const RedirectPlan plan = plan_redirect(get, get.url, "GET", 302, to);
      CHECK(plan.verdict == Verdict::follow);
      CHECK_FALSE(plan.same_origin);
      CHECK_FALSE(plan.keep_body);
    }
  }

  SECTION("the origin is the original request's, not the previous hop's")
  {
    // A detour through another host comes back to the original origin with the headers again,
    // and a second hop on the other host does not get them.
    CHECK(plan_redirect(get, "https://cdn.example.net/a", "GET", 302, "https://api.example.com/b")
              .same_origin);
    CHECK_FALSE(
        plan_redirect(get, "https://cdn.example.net/a", "GET", 302, "https://cdn.example.net/b")
            .same_origin);
  }

  SECTION("https to http is refused unless allowed")
  {
    CHECK(plan_redirect(get, get.url, "GET", 301, "http://api.example.com/v1").verdict ==
          Verdict::downgrade);
    HttpRequest allowed = get;
    allowed.allow_insecure_redirect = true;
    const RedirectPlan plan =
        plan_redirect(allowed, get.url, "GET", 301, "http://api.example.com/v1");
    CHECK(plan.verdict == Verdict::follow);
    CHECK_FALSE(plan.same_origin); // another scheme: the headers stay behind all the same
  }

  SECTION("http to https and http to http are followed")
  {
    const HttpRequest plain = request_to("http://api.example.com/v1");
    CHECK(plan_redirect(plain, plain.url, "GET", 301, "https://api.example.com/v1").verdict ==
          Verdict::follow);
    CHECK(plan_redirect(plain, plain.url, "GET", 301, "http://other.example.com/").verdict ==
          Verdict::follow);
  }

  SECTION("only http and https are followed")
  {
    for (const std::string to : {"ftp://api.example.com/x", "file:///etc/passwd",
                                 "gopher://api.example.com/", "not a url"}) {
      INFO(to);
      CHECK(plan_redirect(get, get.url, "GET", 302, to).verdict == Verdict::not_http);
    }
  }

  SECTION("the method follows browsers")
  {
    const HttpRequest post = request_to("https://api.example.com/v1", "POST");
    const std::string same = "https://api.example.com/v2";
    struct Case {
      std::string method;
      long status;
      std::string next;
      bool keep_body;
    };
    for (const Case& c : std::vector<Case>{{"POST", 301, "GET", false},
                                           {"POST", 302, "GET", false},
                                           {"POST", 303, "GET", false},
                                           {"POST", 307, "POST", true},
                                           {"POST", 308, "POST", true},
                                           {"PUT", 302, "PUT", true},
                                           {"PUT", 303, "GET", false},
                                           {"DELETE", 303, "GET", false},
                                           {"HEAD", 303, "HEAD", true},
                                           {"HEAD", 301, "HEAD", true}}) {
      INFO(c.method << " " << c.status);
      const RedirectPlan plan = plan_redirect(post, post.url, c.method, c.status, same);
      CHECK(plan.method == c.next);
      CHECK(plan.keep_body == c.keep_body);
    }
  }

  SECTION("a kept method still drops the body for another origin")
  {
    const HttpRequest post = request_to("https://api.example.com/v1", "POST");
    const RedirectPlan plan =
        plan_redirect(post, post.url, "POST", 307, "https://other.example.com/v1");
    CHECK(plan.method == "POST");
    CHECK_FALSE(plan.keep_body);
  }
}
