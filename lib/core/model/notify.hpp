// SPDX-License-Identifier: MIT
#pragma once

// Notifications (SPEC §2 "Notification"): the routing policy as the database keeps it (no
// secrets: those stay in the config and are read only by the tools that deliver), and the
// outbox rows the one event writer fills. Plain records shared by the config, the routing
// (lib/notify), the store and delivery (lib/delivery); no I/O.

#include "core/model/active_hours.hpp"
#include "core/model/event.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb {

enum class ChannelType { slack, webhook, email, sms, whatsapp, pagerduty, command, dashboard };

// How urgent an event is, for `min_severity` and quiet hours. Recoveries take the level of the
// incident they end. Only `critical` goes through quiet hours.
enum class EventLevel { info, warning, alert, critical };

// pending → sent | failed | held (quiet hours, released when they end) | suppressed (maintenance,
// a failing dependency, flapping rate limit; kept for the record, never delivered).
enum class OutboxState { pending, sent, failed, held, suppressed };

std::string_view to_string(ChannelType type);
std::string_view to_string(EventLevel level);
std::string_view to_string(OutboxState state);
std::optional<ChannelType> parse_channel_type(std::string_view text);
std::optional<EventLevel> parse_event_level(std::string_view text);
std::optional<OutboxState> parse_outbox_state(std::string_view text);

// Human channels (Slack, email, SMS, WhatsApp) get a grouped message when one run has more than
// their group_threshold notifications for them; machines (webhook, command, PagerDuty) and the
// dashboard always get one per event.
bool is_human_channel(ChannelType type);

// A window in a timezone: quiet hours of a channel or a target.
struct QuietHours {
  ActiveHours hours;
  std::string timezone = "UTC";
};

// What routing and the delivery policy need of a channel; no secrets.
struct ChannelPolicy {
  std::string name;
  ChannelType type = ChannelType::dashboard;
  std::optional<QuietHours> quiet_hours;
  int max_attempts = 10;
  Duration retry_backoff{30'000};        // doubling, with full jitter
  Duration retry_backoff_max{3'600'000};
  Duration timeout{10'000};
  std::string fallback;                   // another channel's name, "" for none
  int group_threshold = 5;
};

// One entry of `notify`: the channels an event goes to when every filter set matches it.
struct NotifyRule {
  std::vector<std::string> channels;
  std::vector<std::string> targets;   // ids or globs ("acme-*"); empty: any
  std::vector<std::string> tags;      // the target has any of them; empty: any
  std::vector<TargetKind> kinds;      // empty: any
  std::vector<EventType> events;      // empty: any ("failing" also matches its reminders)
  EventLevel min_severity = EventLevel::info;
  std::string source;                 // "heartbeat.json: notify[1]"
};

// One entry of `maintenance`: recurring (cron + duration in a timezone) or one-off (start, end).
// Applies to the targets it names (ids or globs) or tags; to every target when it names neither.
struct MaintenanceWindow {
  std::string name;
  std::string cron;                   // 5-field cron, "" for a one-off window
  Duration duration{0};               // recurring: how long each occurrence lasts
  std::string timezone = "UTC";
  std::optional<TimePoint> start;     // one-off
  std::optional<TimePoint> end;
  std::vector<std::string> targets;
  std::vector<std::string> tags;
};

// A target's notification settings (from the target or `defaults`).
struct TargetNotifySettings {
  std::optional<QuietHours> quiet_hours;
  Duration repeat_every{4 * 3'600'000};  // 0: "never"
  std::vector<std::string> depends_on;   // target ids
  double impact = 1.0;                   // for the health score
};

// Everything routing needs, synced from the config into the database by hb-pulse, so that every
// tool that writes events (hb-beat on a host without the channel secrets included) routes them
// the same way.
struct NotifyPolicy {
  std::vector<ChannelPolicy> channels;
  std::vector<NotifyRule> rules;
  std::vector<MaintenanceWindow> maintenance;
  std::map<std::string, TargetNotifySettings> targets;  // by target id; absent: defaults
  TargetNotifySettings defaults;
  // recovery.escalation.channels: where escalated / escalation_resolved events go.
  std::vector<std::string> escalation_channels;

  const ChannelPolicy* find_channel(std::string_view name) const;
  const TargetNotifySettings& settings_of(const std::string& target_id) const;
};

// One outbox row: one event (or a reminder) for one channel.
struct Notification {
  std::int64_t id = 0;                 // assigned by the store
  std::int64_t event_id = 0;
  std::string channel;
  OutboxState state = OutboxState::pending;
  EventLevel level = EventLevel::alert;
  std::int64_t incident_id = 0;        // the event that opened the incident (PagerDuty dedup key)
  std::string reason;                  // why held or suppressed, for people
  bool flapping = false;               // the target was flapping when the event was written
  int attempts = 0;
  TimePoint created_at;
  std::optional<TimePoint> next_attempt_at;  // pending/held: not before this
  std::optional<TimePoint> sent_at;
  std::string last_error;              // secret-free
  std::string provider_id;             // Slack: none; Twilio: the message SID; PagerDuty: dedup key
  std::int64_t fallback_of = 0;        // set on a row created for the fallback channel
};

// An outbox row with what delivery and hb-status show of it.
struct OutboxItem {
  Notification notification;
  Event event;
  std::string target_name;  // "" for the system or a target no longer known
};

// How a channel's deliveries stand, for hb-status.
struct ChannelHealth {
  std::string channel;
  int pending = 0;          // waiting for delivery or a retry
  int held = 0;             // in quiet hours
  int sent = 0;             // in the window
  int failed = 0;           // gave up, in the window
  long long failed_total = 0;  // gave up, ever (failed rows are never pruned)
  std::optional<TimePoint> oldest_pending;  // created_at of the oldest pending or held row
  std::string last_error;   // of the latest attempt that failed, secret-free
  std::optional<TimePoint> last_error_at;
};

// What the store knows about a target's past notices, for reminders (notify::reminder_due).
struct NoticeMarks {
  // The last bad event that was routed: to someone (held counts), or to nobody because no rule
  // wanted it. Events that were only suppressed or in grace do not count.
  std::optional<TimePoint> last_spoken_bad;
  std::optional<TimePoint> last_reminder;  // the last still_failing event
};

} // namespace hb
