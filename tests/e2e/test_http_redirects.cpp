// SPDX-License-Identifier: MIT
// http checks against servers that redirect or misbehave, through hb-pulse: the check's headers
// (where API keys go) reach only the origin it names, a redirect from https to http is refused
// unless allowed.
#include "e2e_helpers.hpp"

#include <fmt/format.h>

#include <cctype>

using namespace hb::test;
using nlohmann::json;

namespace {

constexpr const char* k_secret = "k3y-0f-th3-api";

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

std::string redirect_path(const std::string& to, int code = 302)
{
  return fmt::format("/redirect-to?code={}&url={}", code, url_encode(to));
}

json http_target(const std::string& id, const std::string& url, json extra = json::object())
{
  json check{{"name", "api"},
             {"type", "http"},
             {"url", url},
             {"timeout", "5s"},
             {"headers", {{"X-Api-Key", "${HB_TEST_API_KEY}"}}}};
  for (auto& [k, v] : extra.items()) {
    check[k] = v;
  }
  return json{{"id", id}, {"checks", {check}}};
}

json only_check(const json& pulse, const std::string& id)
{
  const auto d = detail(pulse, id);
  REQUIRE(d["checks"].size() == 1);
  return d["checks"][0];
}

} // namespace

TEST_CASE("http check: headers go only to the origin the check names")
{
  TestHttpServer origin;
  TestHttpServer elsewhere;
  TestHttpServer secure(TestHttpServer::Options{0, 16, 1, true});
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const json tls{{"ca_file", secure.ca_file()}};
  ws.write_config(json{
      {"targets",
       {http_target("same-origin", origin.url(redirect_path("/record/same")),
                    {{"body_contains", "recorded"}}),
        http_target("other-port", origin.url(redirect_path(elsewhere.url("/record/port")))),
        http_target("other-name", origin.url(redirect_path(fmt::format(
                                      "http://localhost:{}/record/name", origin.port())))),
        http_target("downgrade", secure.url(redirect_path(elsewhere.url("/record/down"))), tls),
        http_target("downgrade-allowed",
                    secure.url(redirect_path(elsewhere.url("/record/allowed"))),
                    {{"ca_file", secure.ca_file()}, {"allow_insecure_redirect", true}})}}}
                      .dump(2));

  const auto r = ws.pulse({"--json"}, "", {{"HB_TEST_API_KEY", k_secret}});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);

  for (const std::string id : {"same-origin", "other-port", "other-name", "downgrade-allowed"}) {
    INFO(id << ": " << only_check(out, id).dump());
    CHECK(only_check(out, id)["status"] == "ok");
  }

  // The origin got the key, after its own redirect too; the other origins never did.
  const auto at_origin = origin.recorded();
  REQUIRE(at_origin.size() == 2);
  for (const auto& request : at_origin) {
    INFO(request.path);
    if (request.path == "/record/same") {
      CHECK(request.header("X-Api-Key") == k_secret);
    } else {
      CHECK(request.path == "/record/name"); // localhost: the same server, another origin
      CHECK_FALSE(request.has_header("X-Api-Key"));
    }
  }
  const auto at_elsewhere = elsewhere.recorded();
  REQUIRE(at_elsewhere.size() == 2);
  CHECK(at_elsewhere[0].path != "/record/down");
  CHECK(at_elsewhere[1].path != "/record/down");
  for (const auto& request : at_elsewhere) {
    INFO(request.path);
    CHECK_FALSE(request.has_header("X-Api-Key"));
  }

  // https to http: refused, nothing sent in the clear.
  const auto down = only_check(out, "downgrade");
  CHECK(down["status"] == "alert");
  CHECK(down["phase"] == "tls");
  CHECK(down["message"] == fmt::format("redirect from https to http refused (to \"{}\"); set "
                                       "\"allow_insecure_redirect\": true to follow it",
                                       elsewhere.url("/record/down")));
  CHECK(elsewhere.hits("/record/down") == 0);

  // The key is in no message, stored or shown.
  CHECK(r.out.find(k_secret) == std::string::npos);
  CHECK(ws.scalar(fmt::format("SELECT count(*) FROM check_results WHERE message LIKE '%{}%'",
                              k_secret)) == 0);
}
