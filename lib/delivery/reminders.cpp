// SPDX-License-Identifier: MIT
#include "delivery/reminders.hpp"

#include "health/judgement.hpp"
#include "health/windows.hpp"
#include "notify/route.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <map>

namespace hb::delivery {

std::vector<Event> write_reminders(const config::Config& config, store::Store& store,
                                   TimePoint now)
{
  const NotifyPolicy& policy = config.notify;
  std::vector<Event> written;
  if (policy.channels.empty()) {
    return written;
  }
  const auto records = store.targets(store::IncludeRetired::no);
  const auto states = store.target_states();
  const auto beats = store.beat_contexts();
  std::map<std::string, health::Judgement> judged;
  for (const TargetRecord& record : records) {
    const auto state = states.find(record.info.id);
    const auto beat = beats.find(record.info.id);
    health::BeatHealth beat_health;
    if (beat != beats.end()) {
      beat_health = {health::health_of(beat->second.state.state), beat->second.state.since};
    }
    judged[record.info.id] =
        health::judge(record, state != states.end() ? &state->second : nullptr,
                      beat != beats.end() ? &beat_health : nullptr, now);
  }
  const auto marks = store.notice_marks();
  for (const TargetRecord& record : records) {
    const std::string& id = record.info.id;
    const health::Judgement& judgement = judged.at(id);
    if (judgement.health != Health::failing || judgement.paused || judgement.retired) {
      continue;
    }
    const TargetNotifySettings& settings = policy.settings_of(id);
    const config::Target* configured = config.find_target(id);
    const Duration grace = configured != nullptr ? configured->new_target_grace
                           : record.info.heartbeat ? record.info.heartbeat->new_target_grace
                                                   : Duration(0);
    if (health::in_grace(record.first_seen, grace, now)
        || health::in_maintenance(policy.maintenance, id, record.info.tags, now)) {
      continue;
    }
    bool upstream_failing = false;
    for (const std::string& upstream : settings.depends_on) {
      const auto it = judged.find(upstream);
      upstream_failing = upstream_failing || (it != judged.end() && it->second.health == Health::failing);
    }
    if (upstream_failing) {
      continue;
    }
    const auto mark = marks.find(id);
    if (!notify::reminder_due(settings, judgement.since,
                              mark != marks.end() ? mark->second : NoticeMarks{}, now)) {
      continue;
    }
    Event event;
    event.target_id = id;
    event.at = now;
    event.type = EventType::still_failing;
    event.old_state = "failing";
    event.new_state = "failing";
    const auto state = states.find(id);
    const std::string last =
        state != states.end() && !state->second.last_message.empty()
            ? ": " + state->second.last_message
            : (beats.count(id) != 0 && !beats.at(id).state.last_message.empty()
                   ? ": " + beats.at(id).state.last_message
                   : "");
    event.message = judgement.since
                        ? fmt::format("still failing since {} ({}){}",
                                      util::format_rfc3339(*judgement.since),
                                      util::format_age(*judgement.since, now), last)
                        : "still failing" + last;
    store.record_event(event);
    written.push_back(std::move(event));
  }
  return written;
}

} // namespace hb::delivery
