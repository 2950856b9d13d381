// SPDX-License-Identifier: MIT
#include "delivery/http_send.hpp"

#include "delivery/format.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace hb::delivery {
namespace {

constexpr std::size_t k_max_reason = 200;

void replace_all(std::string& text, std::string_view from, std::string_view to)
{
  if (from.empty()) {
    return;
  }
  std::size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}

bool is_retryable_status(long status)
{
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::string json_text(const nlohmann::json& value)
{
  return value.is_string() ? value.get<std::string>() : value.dump();
}

} // namespace

std::string origin_of(std::string_view url)
{
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return "?";
  }
  const std::size_t end = std::min(url.find_first_of("/?#", scheme + 3), url.size());
  std::string_view authority = url.substr(scheme + 3, end - scheme - 3);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return fmt::format("{}://{}", url.substr(0, scheme), authority);
}

std::string path_of(std::string_view url)
{
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return "";
  }
  const std::size_t end = url.find_first_of("/?#", scheme + 3);
  return end == std::string_view::npos ? "" : std::string(url.substr(end));
}

util::HttpRequest post_request(const config::Channel& channel, const SendContext& context,
                               std::string url, std::string content_type, std::string body)
{
  util::HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", std::move(content_type));
  request.body = std::move(body);
  request.timeout = channel.policy.timeout;
  request.max_redirects = 0;
  request.verify_tls = true;
  request.max_body = 64 * 1024;
  request.cancel = context.cancel;
  return request;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets,
                  const util::Redactor& redactor)
{
  std::vector<std::string> sorted = secrets;
  // Longest first, so that a URL is hidden whole before a piece of it is.
  std::sort(sorted.begin(), sorted.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : sorted) {
    if (secret.size() >= 4) {
      replace_all(text, secret, util::k_mask);
    }
  }
  return redactor.redact(std::move(text));
}

std::string provider_reason(std::string_view body)
{
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    std::vector<std::string> parts;
    // "status" only when it is words (PagerDuty's "invalid event"), not Twilio's repeated 400.
    for (const char* key : {"status", "code", "error_code", "message", "error", "errors"}) {
      if (const auto it = parsed.find(key);
          it != parsed.end() && !it->is_null() &&
          (it->is_string() || key != std::string_view("status"))) {
        if (it->is_array()) {
          std::vector<std::string> items;
          for (const auto& item : *it) {
            items.push_back(json_text(item));
          }
          parts.push_back(fmt::format("{}", fmt::join(items, "; ")));
        } else {
          parts.push_back(json_text(*it));
        }
      }
    }
    if (!parts.empty()) {
      return one_line(fmt::format("{}", fmt::join(parts, ": ")), k_max_reason);
    }
  }
  return one_line(body, k_max_reason);
}

SendResult classify(const util::HttpResponse& response, std::string_view what,
                    const std::vector<std::string>& secrets, const SendContext& context)
{
  using Failure = util::HttpResponse::Failure;
  SendResult result;
  if (response.failure != Failure::none) {
    const bool permanent =
        response.failure == Failure::bad_url || response.failure == Failure::insecure_redirect;
    result.kind = permanent ? SendResult::Kind::failed : SendResult::Kind::retry;
    result.error = scrub(fmt::format("{}: {}", what, one_line(response.error, 300)), secrets,
                         context.redactor);
    return result;
  }
  if (response.status >= 200 && response.status <= 299) {
    result.kind = SendResult::Kind::sent;
    return result;
  }
  result.kind =
      is_retryable_status(response.status) ? SendResult::Kind::retry : SendResult::Kind::failed;
  const std::string reason = provider_reason(response.body);
  result.error =
      scrub(reason.empty() ? fmt::format("{}: HTTP {}", what, response.status)
                           : fmt::format("{}: HTTP {}: {}", what, response.status, reason),
            secrets, context.redactor);
  if (result.kind == SendResult::Kind::retry && !response.retry_after.empty()) {
    result.retry_after = util::parse_retry_after(
        response.retry_after,
        std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
  }
  return result;
}

} // namespace hb::delivery
