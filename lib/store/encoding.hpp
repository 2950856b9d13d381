// SPDX-License-Identifier: MIT
#pragma once

// How the store encodes values that have no column of their own, shared by every backend so
// that a database written by one reads the same through another: metrics, heartbeat settings
// and tags as JSON text, and the fingerprints that let a sync skip unchanged config.

#include "core/model/metric.hpp"
#include "core/model/notify.hpp"
#include "core/model/recovery.hpp"
#include "core/model/schedule.hpp"
#include "core/model/target.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::store {

// Returns `metrics` as the JSON text of checks::metrics_to_json.
std::string encode_metrics(const std::vector<Metric>& metrics);
// Returns the metrics of `text`; text that is not such an array yields no metrics.
std::vector<Metric> decode_metrics(std::string_view text);

// Returns the heartbeat settings as JSON text (durations in milliseconds).
std::string encode_heartbeat(const HeartbeatInfo& heartbeat);
// Returns the settings of `text`, defaults for missing keys; std::nullopt when `text` is not a
// JSON object.
std::optional<HeartbeatInfo> decode_heartbeat(std::string_view text);

// Returns the tags (or any list of strings: an escalation's targets) as a JSON array of strings.
std::string encode_tags(const std::vector<std::string>& tags);
// Returns the strings of the JSON array `text`; anything else yields none.
std::vector<std::string> decode_tags(std::string_view text);

// Returns a recovery attempt's steps as a JSON array of {kind, what, exit_code (null for none),
// output, duration_ms, result}.
std::string encode_attempt_steps(const std::vector<AttemptStep>& steps);
// Returns the steps of `text`; text that is not such an array yields none, and an element that is
// not an object is skipped.
std::vector<AttemptStep> decode_attempt_steps(std::string_view text);

// Returns a stable fingerprint (16 hex digits) of everything sync_targets stores for `targets`.
std::string targets_fingerprint(const std::vector<TargetInfo>& targets);
// The same for sync_schedules.
std::string schedules_fingerprint(const std::vector<ScheduleInfo>& schedules);

// Returns the routing policy as JSON text (durations in milliseconds, times in Unix ms); it holds
// no secrets. decode_notify_policy reads it back; std::nullopt when `text` is not such an object.
std::string encode_notify_policy(const NotifyPolicy& policy);
std::optional<NotifyPolicy> decode_notify_policy(std::string_view text);

} // namespace hb::store
