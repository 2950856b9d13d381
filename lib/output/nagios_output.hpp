// SPDX-License-Identifier: MIT
#pragma once

// hb-status --nagios: the overview as a Nagios / Monitoring Plugins check result (the plugin
// API in docs/operations.md, "hb-status --nagios"): one status line with performance data,
// then the problems, most severe first, in under 4 KiB whatever the size of the fleet.

#include "status/status.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace hb::output {

// The most --nagios prints, in bytes, newlines included: under 4 KiB, well within the 8 KiB
// that Nagios and Naemon keep of a plugin's output.
inline constexpr std::size_t k_nagios_max_output = 4000;

// Returns the plugin output for `report`, ending in '\n': "HEARTBEAT <OK|WARNING|CRITICAL|
// UNKNOWN> - <summary> | <perfdata>", then one line per problem (targets, the pulse, tasks,
// hb-recover), critical before warning, cut with "... and N more" to stay within
// k_nagios_max_output. The state is the report's exit code.
std::string status_to_nagios(const status::StatusReport& report);

// Returns "HEARTBEAT UNKNOWN - <reason>\n": what --nagios prints when it cannot tell (no
// database, an unreadable one, a config or usage error), on one line, within the limit.
std::string nagios_unknown(std::string_view reason);

} // namespace hb::output
