// SPDX-License-Identifier: MIT
#pragma once

// The outbox as both backends keep it: how a row becomes an OutboxItem or a channel's health,
// when a delivery's error is stamped, and how the count of failed rows joins the health list.
// None of it depends on the database, so it lives here once; each backend supplies its rows
// (StoredRow) and its SQL.

#include "core/model/notify.hpp"
#include "core/types.hpp"
#include "store/row_decoding.hpp"

#include <string>
#include <vector>

namespace hb::store {

// Returns the item in the columns of `row`: the outbox row's id, event_id, channel, state, level,
// incident_id, reason, flapping, attempts, created_at, next_attempt_at, sent_at, last_error,
// provider_id, fallback_of; its event's id, target_id, at, type, old_state, new_state, message,
// in_grace; and the target's name.
OutboxItem decode_outbox_item(const StoredRow& row);

// Returns a channel's health in the columns of `row`: channel, pending, held, sent, failed,
// oldest_pending, last_error (NULL for none), last_error_at. failed_total is left at 0.
ChannelHealth decode_channel_health(const StoredRow& row);

// The time finish() records as last_error_at when `row` brings a new error: when the delivery
// will be tried again, else when it was sent, else when it was created.
TimePoint error_time(const Notification& row);

// Sets the failed_total of `channel` in `health` (sorted by channel) to `total`, adding the
// channel in its place when it has nothing else to show.
void set_failed_total(std::vector<ChannelHealth>& health, const std::string& channel,
                      long long total);

} // namespace hb::store
