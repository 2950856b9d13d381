// SPDX-License-Identifier: MIT
#include "util/http_redirect.hpp"

#include "util/curl_api.hpp"

#include <algorithm>
#include <cctype>

namespace hb::util {
namespace {

std::string lowercase(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

} // namespace

bool is_followed_redirect(long status)
{
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::optional<std::string> url_origin(const std::string& url)
{
  if (!has_http_scheme(url) || curl_load().curl == nullptr) {
    return std::nullopt;
  }
  UrlHandle parsed;
  if (!parsed.parse(url, 0)) {
    return std::nullopt;
  }
  const auto scheme = parsed.get(CURLUPART_SCHEME);
  const auto host = parsed.get(CURLUPART_HOST);
  const auto port = parsed.get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || host->empty() || !port) {
    return std::nullopt;
  }
  return lowercase(*scheme) + "://" + lowercase(*host) + ":" + *port;
}

RedirectPlan plan_redirect(const HttpRequest& original, const std::string& from_url,
                           std::string_view method, long status, const std::string& to_url)
{
  RedirectPlan plan;
  const auto to = url_origin(to_url);
  if (!to) {
    plan.verdict = RedirectPlan::Verdict::not_http;
    return plan;
  }
  if (starts_with_nocase(from_url, "https://") && starts_with_nocase(to_url, "http://") &&
      !original.allow_insecure_redirect) {
    plan.verdict = RedirectPlan::Verdict::downgrade;
    return plan;
  }
  plan.method = std::string(method);
  if (status == 303 && method != "HEAD") {
    plan.method = "GET";
  } else if ((status == 301 || status == 302) && method == "POST") {
    plan.method = "GET";
  }
  const auto first = url_origin(original.url);
  plan.same_origin = first && *first == *to;
  plan.keep_body = plan.same_origin && plan.method == method;
  return plan;
}

} // namespace hb::util
