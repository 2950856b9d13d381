// SPDX-License-Identifier: MIT
#pragma once

// Reading the notification settings of the config (SPEC §2 "Notification"): `channels`,
// `notify`, `maintenance`, the per-target keys (`quiet_hours`, `repeat_every`, `depends_on`,
// `impact`, also in `defaults`) and the pulse's dead man's switch (`ping_url`, `ping_start`).
// Internal to the loader; the result lands in Config::channels and Config::notify.

#include "config/config.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hb::config {

// The names of the `channels` object of the main file's `text`, in the order they are written:
// parsed JSON keeps keys sorted, and channels keep the order of the file. `text` must be valid
// JSON (with comments).
std::vector<std::string> channel_names_in_order(const std::string& text);

// Parses `channels` (in `order`, the names as written), `notify` and `maintenance` of the main
// file into config.channels, config.notify.channels, .rules and .maintenance, and checks every
// reference between them (rules and fallbacks name defined channels; no fallback cycle). Throws
// hb::ConfigError naming the file and JSON path.
void parse_notifications(const ConfigNode& root, const std::vector<std::string>& order,
                         Config& config);

// Reads `ping_url` and `ping_start` of the `pulse` object into `pulse`.
void parse_ping(const ConfigNode& pulse_node, PulseSettings& pulse);

// The notification keys of `defaults`: what targets inherit.
struct NotifyDefaults {
  TargetNotifySettings settings;  // quiet hours in the default timezone: Config::notify.defaults
  std::optional<ActiveHours> quiet_window;  // read in each target's own timezone
  std::vector<std::pair<std::string, ConfigNode>> depends_on;  // id, where it is written
  std::optional<ConfigNode> depends_on_node;
};

// The keys of `defaults` that NotifyDefaults holds (for its reject_unknown_keys).
inline constexpr std::string_view k_notify_target_keys[] = {"quiet_hours", "repeat_every",
                                                            "depends_on", "impact"};

// `defaults_node` may be null; `timezone` is that of `defaults`. Throws hb::ConfigError.
NotifyDefaults parse_notify_defaults(const ConfigNode& defaults_node,
                                     const std::string& timezone);

// A target's dependencies as configured, for check_dependencies().
struct Dependencies {
  std::string target_id;
  std::vector<std::pair<std::string, ConfigNode>> ids;  // id, where it is written
  ConfigNode node;  // the depends_on list (the target's own, or that of `defaults`)
};

// The notification settings of the target at `node` (id `target_id`, quiet hours read in
// `timezone`), falling back to `defaults`; a dependency on itself inherited from `defaults` is
// dropped. Appends its dependencies to `dependencies`. Throws hb::ConfigError.
TargetNotifySettings parse_target_notify(const ConfigNode& node, const NotifyDefaults& defaults,
                                         const std::string& target_id,
                                         const std::string& timezone,
                                         std::vector<Dependencies>& dependencies);

// Checks `depends_on` once every target is known: each id names a target (only when
// `all_targets_known`: a failed discovery may have lost the one named) and there is no cycle
// (a -> b -> a, a -> a). Throws hb::ConfigError naming the list that closes the cycle.
void check_dependencies(const Config& config, const std::vector<Dependencies>& dependencies,
                        bool all_targets_known);

} // namespace hb::config
