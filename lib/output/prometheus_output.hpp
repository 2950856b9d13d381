// SPDX-License-Identifier: MIT
#pragma once

// hb-status --prometheus: the overview as metrics in the Prometheus text format 0.0.4, for
// node_exporter's textfile collector (no timestamps). The metric families, their types and
// labels are listed in docs/operations.md ("hb-status --prometheus").

#include "status/status.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace hb::output {

// Returns the metrics of `report`: every family with its # HELP and # TYPE, label values
// escaped (backslash, double quote, newline) and made valid UTF-8, the last line ending in '\n'.
// Retired targets are left out.
std::string status_to_prometheus(const status::StatusReport& report);

// Returns `value` escaped for a label value between double quotes: '\' as "\\", '"' as "\"",
// a newline as "\n"; invalid UTF-8 replaced by U+FFFD and other control characters by spaces.
std::string prometheus_label_value(std::string_view value);

// Replaces `path` with `text` atomically, as the textfile collector needs: a temporary file in
// the same folder (named so that it does not match *.prom), mode 0644 whatever the umask,
// written and fsynced, then renamed over `path`, and the folder fsynced. A reader sees the old
// file or the new one, never a part. Throws hb::IoError (exit 74) naming the path and the
// reason; the temporary file is removed then.
void write_metrics_file(const std::filesystem::path& path, std::string_view text);

} // namespace hb::output
