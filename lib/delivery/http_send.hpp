// SPDX-License-Identifier: MIT
#pragma once

// How every HTTP channel (Slack, webhook, Twilio, PagerDuty) posts and judges the answer: one
// request through SendContext::http with the channel's timeout, TLS verified and no redirect
// followed, and one classification of the response (docs/channels.md, "Errors").

#include "delivery/channel.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hb::delivery {

// Returns a POST of `body` to `url` with the channel's timeout and the cancel flag, TLS
// verified, no redirects followed (a POST that is redirected is an answer, not a hop).
util::HttpRequest post_request(const config::Channel& channel, const SendContext& context,
                               std::string url, std::string content_type, std::string body);

// Returns the scheme, host and port of `url` ("https://hooks.example.com:8443"), without
// userinfo, path or query, any of which may hold a credential.
std::string origin_of(std::string_view url);

// Returns the part of `url` after its origin ("/services/T0/B0/xyz?a=b"), "" when none.
std::string path_of(std::string_view url);

// Removes what must never reach an error: each of `secrets` (the channel's token, key, webhook
// URL...) and every secret the redactor knows.
std::string scrub(std::string text, const std::vector<std::string>& secrets,
                  const util::Redactor& redactor);

// Returns why a provider refused a request, from its error body, in at most 200 bytes of one
// line: a JSON body's "code", "message" and "errors" (Twilio, PagerDuty), or the text itself
// (Slack's "channel_not_found").
std::string provider_reason(std::string_view body);

// Judges one response: 2xx sent; 408, 429, 5xx and network failures (DNS, connect, TLS,
// timeout, protocol, cancelled) retry, with the Retry-After the provider sent; a bad URL, a
// refused redirect and other 4xx (3xx too, since nothing is followed) failed. `what` names the
// receiver in the error ("slack webhook", "pagerduty"); the error is scrubbed of `secrets`.
SendResult classify(const util::HttpResponse& response, std::string_view what,
                    const std::vector<std::string>& secrets, const SendContext& context);

} // namespace hb::delivery
