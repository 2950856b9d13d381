// SPDX-License-Identifier: MIT
#include "pulse/ping.hpp"

#include "util/log.hpp"

#include <fmt/format.h>

namespace hb::pulse {

bool ping_watcher(const config::Config& config, PingKind kind, util::HttpClient& http)
{
  const std::string& base = config.pulse.ping_url;
  if (base.empty() || (kind == PingKind::start && !config.pulse.ping_start)) {
    return false;
  }
  std::string url = base;
  if (kind != PingKind::success) {
    // Healthchecks: <url>/start, <url>/fail; a query string stays at the end.
    const auto query = url.find('?');
    const std::string suffix = kind == PingKind::start ? "/start" : "/fail";
    std::string path = url.substr(0, query);
    while (!path.empty() && path.back() == '/') {
      path.pop_back();
    }
    url = path + suffix + (query == std::string::npos ? "" : url.substr(query));
  }
  util::HttpRequest request;
  request.url = url;
  request.timeout = Duration(10'000);
  const util::HttpResponse response = http.perform(request);
  if (response.failure == util::HttpResponse::Failure::none && response.status >= 200
      && response.status < 300) {
    return true;
  }
  const std::string why = response.failure == util::HttpResponse::Failure::none
                              ? fmt::format("HTTP {}", response.status)
                              : response.error;
  util::log_warning(config.redactor.redact(
      fmt::format("could not ping {}: {}", util::redact_url(url), why)));
  return false;
}

} // namespace hb::pulse
