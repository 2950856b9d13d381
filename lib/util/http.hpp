// SPDX-License-Identifier: MIT
#pragma once

#include "util/chrono.hpp"

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hb::util {

// One HTTP request, as every HttpClient takes it.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout{10'000};       // for the whole request, redirects included
  Duration connect_timeout{0};    // 0: same as timeout
  // Redirects (301, 302, 303, 307, 308) followed; 0: the redirect itself is the response. The
  // headers above and the body go only to the origin (scheme, host, port) of `url`; see
  // http_redirect.hpp.
  int max_redirects = 5;
  bool allow_insecure_redirect = false; // follow a redirect from https to http
  bool verify_tls = true;
  std::string ca_file;            // extra CA bundle; empty: system default
  std::size_t max_body = 1024 * 1024;  // bytes kept; a longer body is cut off, not an error
  const std::atomic<bool>* cancel = nullptr;  // when it becomes true the transfer is aborted
};

struct HttpResponse {
  enum class Failure {
    none,       // a response arrived; `status` is valid
    bad_url,    // not an http/https URL
    dns,
    connect,
    tls,
    timeout,
    cancelled,
    protocol,   // malformed response, reset connection, too many redirects, a redirect to a
                // scheme other than http or https...
    insecure_redirect, // a redirect from https to http, not allowed by the request
    other,
  };
  Failure failure = Failure::other;
  long status = 0;
  std::string body;
  bool body_truncated = false;
  Duration elapsed{0};
  std::string error;      // for people, with credentials removed from any URL
  std::string final_url;  // after redirects, with credentials removed
  // The response's Retry-After header as sent (seconds or an HTTP date; see parse_retry_after),
  // "" when it had none. Rate-limited providers (Slack, Twilio, PagerDuty) send it with 429.
  std::string retry_after;
};

// Sends HTTP requests. Abstract so that code which makes requests (the http check, notification
// channels) can be unit tested with a fake; end-to-end tests use CurlHttpClient against real
// local servers. Implementations must be safe to call from many threads at once.
class HttpClient {
public:
  virtual ~HttpClient() = default;

  // Performs one request. Returns the response, or in `failure` why none arrived; never throws
  // for network failures.
  virtual HttpResponse perform(const HttpRequest& request) = 0;
};

// The real client, on libcurl. Only http:// and https:// URLs are accepted; TLS is verified
// unless `verify_tls` is false; curl's verbose output is never enabled, so headers (and the
// secrets in them) are never printed. libcurl is opened with dlopen() on the first request, so
// constructing one costs nothing. Each thread keeps its own handle so connections to the same
// host are reused.
class CurlHttpClient final : public HttpClient {
public:
  HttpResponse perform(const HttpRequest& request) override;
};

// Returns the process-wide CurlHttpClient, for callers not given another client. Never
// destroyed, so requests on threads that outlive main() stay safe.
HttpClient& default_http_client();

// Returns `url` with userinfo and query string removed, for logs and the database:
// "https://user:pw@h/p?token=x" -> "https://h/p".
std::string redact_url(const std::string& url);

// Returns how long a Retry-After value asks to wait, as of `now`: delay-seconds ("120") or an
// IMF-fixdate HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"; one in the past is 0). Returns
// std::nullopt for anything else (empty, negative, another date format).
std::optional<Duration> parse_retry_after(std::string_view value, TimePoint now);

// Returns true when `url` starts with http:// or https:// (case-insensitive) and has a host.
bool is_http_url(const std::string& url);

} // namespace hb::util
