// SPDX-License-Identifier: MIT
#include "config/retention.hpp"

#include "config/readers.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>

namespace hb::config {

Retention parse_retention(const ConfigNode& node)
{
  Retention retention;
  if (node.is_null()) {
    return retention;
  }
  if (!node.is_object()) {
    node.fail(R"(an object like {"raw": "14d", "hourly": "90d", "daily": "2y", "beats": "2d"})");
  }
  node.reject_unknown_keys({"raw", "hourly", "daily", "beats"});
  retention.raw = positive_duration(node, "raw", retention.raw, "14d");
  retention.hourly = positive_duration(node, "hourly", retention.hourly, "90d");
  retention.daily = positive_duration(node, "daily", retention.daily, "2y");
  retention.beats = positive_duration(node, "beats", retention.beats, "2d");
  constexpr Duration k_two_days{2 * 86'400'000};
  if (retention.hourly < k_two_days) {
    node["hourly"].fail_message(fmt::format(
        "hourly ({}) must be at least 2d: the 24-hour uptime reads the hourly roll-ups",
        util::format_duration(retention.hourly)));
  }
  if (retention.daily < retention.hourly) {
    node["daily"].fail_message(fmt::format("daily ({}) is shorter than hourly ({})",
                                           util::format_duration(retention.daily),
                                           util::format_duration(retention.hourly)));
  }
  return retention;
}

} // namespace hb::config
