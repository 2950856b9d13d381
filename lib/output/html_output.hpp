// SPDX-License-Identifier: MIT
#pragma once

// hb-status --html: one self-contained static page (docs/operations.md, "hb-status --html"). No
// network fetch of any kind: the CSS and the charts (SVG) are inline, and a Content Security
// Policy forbids the browser anything else, so the page works offline and from file://.

#include "status/dashboard.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace hb::output {

// The page of `dashboard`: the system pulse dot, counts and fleet figures, open incidents and
// escalations, every target with its state, score, uptime, 24-hour strip and latency trend,
// scheduled tasks, channels and the last notifications.
std::string status_to_html(const status::Dashboard& dashboard);

// Replaces `path` with `page` atomically (a reader or web server sees the old page or the new
// one), mode 0644. Throws hb::IoError (exit 74) naming the path and the reason.
void write_page_file(const std::filesystem::path& path, std::string_view page);

} // namespace hb::output
