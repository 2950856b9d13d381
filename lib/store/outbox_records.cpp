// SPDX-License-Identifier: MIT
#include "store/outbox_records.hpp"

#include <algorithm>

namespace hb::store {

OutboxItem decode_outbox_item(const StoredRow& row)
{
  OutboxItem item;
  Notification& n = item.notification;
  n.id = row.int64(0);
  n.event_id = row.int64(1);
  n.channel = row.text(2);
  n.state = parse_or(parse_outbox_state(row.text(3)), OutboxState::pending);
  n.level = parse_or(parse_event_level(row.text(4)), EventLevel::alert);
  n.incident_id = row.int64(5);
  n.reason = row.text(6);
  n.flapping = row.boolean(7);
  n.attempts = row.integer(8);
  n.created_at = row.time(9);
  n.next_attempt_at = row.optional_time(10);
  n.sent_at = row.optional_time(11);
  n.last_error = row.text(12);
  n.provider_id = row.text(13);
  n.fallback_of = row.int64(14);
  Event& e = item.event;
  e.id = row.int64(15);
  e.target_id = row.text(16);
  e.at = row.time(17);
  e.type = parse_or(parse_event_type(row.text(18)), EventType::warning);
  e.old_state = row.text(19);
  e.new_state = row.text(20);
  e.message = row.text(21);
  e.in_grace = row.boolean(22);
  item.target_name = row.text(23);
  return item;
}

ChannelHealth decode_channel_health(const StoredRow& row)
{
  ChannelHealth h;
  h.channel = row.text(0);
  h.pending = row.integer(1);
  h.held = row.integer(2);
  h.sent = row.integer(3);
  h.failed = row.integer(4);
  h.oldest_pending = row.optional_time(5);
  h.last_error = row.is_null(6) ? "" : row.text(6);
  h.last_error_at = row.optional_time(7);
  return h;
}

TimePoint error_time(const Notification& row)
{
  return row.next_attempt_at.value_or(row.sent_at.value_or(row.created_at));
}

void set_failed_total(std::vector<ChannelHealth>& health, const std::string& channel,
                      long long total)
{
  auto it = std::find_if(health.begin(), health.end(),
                         [&](const ChannelHealth& h) { return h.channel == channel; });
  if (it == health.end()) {
    ChannelHealth h;
    h.channel = channel;
    it = health.insert(std::upper_bound(health.begin(), health.end(), h,
                                        [](const ChannelHealth& a, const ChannelHealth& b) {
                                          return a.channel < b.channel;
                                        }),
                       std::move(h));
  }
  it->failed_total = total;
}

} // namespace hb::store
