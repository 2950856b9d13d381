// SPDX-License-Identifier: MIT
#pragma once

// What every channel says the same way: the title of a notification, its level word, times,
// the grouped summary, and the JSON body machines get (webhook, command; documented in
// docs/channels.md). Each channel only lays these out for its medium.

#include "delivery/channel.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hb::delivery {

// The version of the JSON body; raised when a field changes meaning or goes away.
inline constexpr int k_body_version = 1;

// Returns the name people know the message's target by: its name, else its id, else
// "heartbeat" (a system event).
std::string target_label(const Message& message);

// Returns what happened, as a phrase: "payments is failing", "payments recovered",
// "backup is late", "discovery failed".
std::string title(const Message& message);

// Returns the state a message leaves its target in, one word for lists: "failing",
// "recovered", "offline", "late" (the event's new state when it has one).
std::string state_word(const Message& message);

// Returns "CRITICAL", "ALERT", "WARNING" or "INFO"; "RESOLVED" for a recovery.
std::string_view level_word(EventLevel level, bool recovery);
std::string_view level_word(const Message& message);

// Returns the level a group is shown with: the most urgent of its messages that are not
// recoveries, or `info` when every one is a recovery.
EventLevel group_level(const std::vector<Message>& messages);

// Returns true when every message of `messages` is a recovery.
bool all_recoveries(const std::vector<Message>& messages);

// Returns the title of a grouped message: "5 targets failing" when they share one state,
// "5 targets changed state" otherwise.
std::string group_title(const std::vector<Message>& messages);

// "2026-02-18T14:02:00Z" and "14:02Z".
std::string format_time(TimePoint at);
std::string format_clock(TimePoint at);

// Returns the JSON body of `message` (see docs/channels.md, "Webhook").
nlohmann::json message_json(const Message& message);

// Returns `value` as compact JSON text; invalid UTF-8 in it is replaced, never thrown about.
std::string json_body(const nlohmann::json& value);

// Returns `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary, ending in "..."
// when it was cut.
std::string truncate(std::string_view text, std::size_t max_bytes);

// Returns `text` as one line that is safe to show: control characters and invalid UTF-8
// replaced, white space runs collapsed, at most `max_bytes` bytes.
std::string one_line(std::string_view text, std::size_t max_bytes);

} // namespace hb::delivery
