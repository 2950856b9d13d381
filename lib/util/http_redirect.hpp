// SPDX-License-Identifier: MIT
#pragma once

// Which redirects CurlHttpClient follows and what each may carry. libcurl's own following
// (CURLOPT_FOLLOWLOCATION) resends custom headers — API keys — and the body to whatever host
// `Location` names, https to http included, so the client follows redirects itself, one request
// at a time, deciding each with plan_redirect.

#include "util/http.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hb::util {

// Returns true for the statuses that are followed: 301, 302, 303, 307 and 308. Other 3xx
// answers (300, 304, ...) are final.
bool is_followed_redirect(long status);

// Returns the origin of an http or https URL, "scheme://host:port" with the scheme and host in
// lowercase and the default port filled in ("https://api.example.com:443"), or std::nullopt when
// `url` is not an http(s) URL libcurl can parse (or libcurl cannot be loaded).
std::optional<std::string> url_origin(const std::string& url);

// How to follow one redirect.
struct RedirectPlan {
  enum class Verdict {
    follow,
    not_http,  // the target is not an http:// or https:// URL: never followed
    downgrade, // from https to http, and the request does not allow it
  };
  Verdict verdict = Verdict::follow;
  // The next request's method: 303 makes it GET (HEAD stays HEAD); 301 and 302 turn a POST into
  // a GET, as browsers do; 307 and 308 keep it.
  std::string method;
  // The target has the original request's origin (scheme, host and port): the request's own
  // headers go along. Only to that origin, even after a detour through another.
  bool same_origin = false;
  // The body goes along (if the request still carries one): the method was kept and the target
  // has the original origin.
  bool keep_body = false;
};

// Returns how to follow a `status` redirect to `to_url` (absolute) from a request sent to
// `from_url` with `method`, in the chain that began with `original`. Never throws.
RedirectPlan plan_redirect(const HttpRequest& original, const std::string& from_url,
                           std::string_view method, long status, const std::string& to_url);

} // namespace hb::util
