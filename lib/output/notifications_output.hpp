// SPDX-License-Identifier: MIT
#pragma once

// How hb-status shows notifications: delivery health per channel in the overview, and the
// notifications of a target's recent events in its detail view.

#include "core/model/notify.hpp"
#include "output/style.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

namespace hb::output {

// A CHANNEL table (pending, held, sent and failed in 24h, oldest waiting, last error); nothing
// when there are no channels.
void print_channel_health(const std::vector<ChannelHealth>& channels, TimePoint now,
                          std::ostream& out, const Style& style);
nlohmann::json channel_health_to_json(const std::vector<ChannelHealth>& channels);

// "notifications:" and one line per row (at, channel, event, state, attempts, reason or error).
void print_notifications(const std::vector<OutboxItem>& items, std::ostream& out,
                         const Style& style);
nlohmann::json notifications_to_json(const std::vector<OutboxItem>& items);

} // namespace hb::output
