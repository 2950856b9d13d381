// SPDX-License-Identifier: MIT
#pragma once

// Watching the watcher: a Healthchecks-style dead man's switch pinged by every pulse, so that the
// monitor's own silence is noticed by something that is not the monitor.

#include "config/config.hpp"
#include "util/http.hpp"

namespace hb::pulse {

enum class PingKind { start, success, fail };

// GETs pulse.ping_url (`/start` or `/fail` appended for those kinds) with a 10 s timeout, when a
// ping URL is configured. A failed ping is logged as a warning (secrets redacted) and never
// thrown: it must not fail the pulse. Returns true when the URL answered 2xx.
bool ping_watcher(const config::Config& config, PingKind kind, util::HttpClient& http);

} // namespace hb::pulse
