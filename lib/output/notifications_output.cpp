// SPDX-License-Identifier: MIT
#include "output/notifications_output.hpp"

#include "output/table.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

nlohmann::json optional_time(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

Tone tone_of(OutboxState state)
{
  switch (state) {
  case OutboxState::sent:
    return Tone::good;
  case OutboxState::failed:
    return Tone::bad;
  case OutboxState::pending:
  case OutboxState::held:
    return Tone::warn;
  case OutboxState::suppressed:
    return Tone::muted;
  }
  return Tone::plain;
}

} // namespace

void print_channel_health(const std::vector<ChannelHealth>& channels, TimePoint now,
                          std::ostream& out, const Style& style)
{
  if (channels.empty()) {
    return;
  }
  out << '\n';
  Table table({"CHANNEL", "PENDING", "HELD", "SENT 24H", "FAILED 24H", "OLDEST WAITING",
               "LAST ERROR"});
  for (const auto& c : channels) {
    table.add({c.channel,
               c.pending > 0 ? style.paint(std::to_string(c.pending), Tone::warn) : "0",
               std::to_string(c.held), std::to_string(c.sent),
               c.failed > 0 ? style.paint(std::to_string(c.failed), Tone::bad) : "0",
               c.oldest_pending ? util::format_age(*c.oldest_pending, now) : "-",
               c.last_error.empty()
                   ? "-"
                   : truncate(c.last_error, 60)
                         + (c.last_error_at ? " (" + util::format_age(*c.last_error_at, now) + ")"
                                            : "")});
  }
  table.print(out);
}

nlohmann::json channel_health_to_json(const std::vector<ChannelHealth>& channels)
{
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : channels) {
    out.push_back({{"channel", c.channel},
                   {"pending", c.pending},
                   {"held", c.held},
                   {"sent24h", c.sent},
                   {"failed24h", c.failed},
                   {"oldestWaiting", optional_time(c.oldest_pending)},
                   {"lastError", c.last_error.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(c.last_error)},
                   {"lastErrorAt", optional_time(c.last_error_at)}});
  }
  return out;
}

void print_notifications(const std::vector<OutboxItem>& items, std::ostream& out,
                         const Style& style)
{
  if (items.empty()) {
    return;
  }
  out << "\nnotifications:\n";
  Table table({"AT", "CHANNEL", "EVENT", "STATE", "ATTEMPTS", "DETAIL"});
  for (const auto& item : items) {
    const Notification& n = item.notification;
    std::string detail = n.state == OutboxState::failed || n.state == OutboxState::pending
                             ? n.last_error
                             : n.reason;
    if (n.state == OutboxState::pending && n.next_attempt_at && n.attempts > 0) {
      detail = fmt::format("retry at {}: {}", util::format_rfc3339(*n.next_attempt_at), detail);
    }
    if (n.flapping) {
      detail = "flapping" + std::string(detail.empty() ? "" : "; ") + detail;
    }
    table.add({util::format_rfc3339(n.created_at), n.channel, std::string(to_string(item.event.type)),
               style.paint(to_string(n.state), tone_of(n.state)), std::to_string(n.attempts),
               truncate(detail, 70)});
  }
  table.print(out, "  ");
}

nlohmann::json notifications_to_json(const std::vector<OutboxItem>& items)
{
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) {
    const Notification& n = item.notification;
    out.push_back({{"id", n.id},
                   {"eventId", n.event_id},
                   {"event", to_string(item.event.type)},
                   {"channel", n.channel},
                   {"state", to_string(n.state)},
                   {"severity", to_string(n.level)},
                   {"attempts", n.attempts},
                   {"createdAt", util::format_rfc3339(n.created_at)},
                   {"nextAttemptAt", optional_time(n.next_attempt_at)},
                   {"sentAt", optional_time(n.sent_at)},
                   {"reason", n.reason},
                   {"lastError", n.last_error},
                   {"providerId", n.provider_id},
                   {"flapping", n.flapping},
                   {"fallbackOf", n.fallback_of == 0 ? nlohmann::json(nullptr)
                                                     : nlohmann::json(n.fallback_of)}});
  }
  return out;
}

} // namespace hb::output
