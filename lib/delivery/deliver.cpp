// SPDX-License-Identifier: MIT
#include "delivery/deliver.hpp"

#include "delivery/channel.hpp"
#include "notify/route.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace hb::delivery {

int DeliveryReport::total(int ChannelTally::*field) const
{
  int sum = 0;
  for (const auto& [name, tally] : channels) {
    sum += tally.*field;
  }
  return sum;
}

Duration retry_delay(const ChannelPolicy& channel, int attempt, std::optional<Duration> retry_after,
                     double jitter)
{
  const Duration base = std::max(channel.retry_backoff, Duration(1));
  const Duration cap = std::max(channel.retry_backoff_max, base);
  Duration ceiling = base;
  for (int i = 1; i < attempt && ceiling < cap; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, cap);
  const double unit = std::clamp(jitter, 0.0, 1.0);
  Duration delay(static_cast<Duration::rep>(static_cast<double>(ceiling.count()) * unit));
  if (retry_after) {
    delay = std::max(delay, std::min(*retry_after, cap));
  }
  return delay;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

Message message_of(const OutboxItem& item, const std::string& note)
{
  Message m;
  m.notification_id = item.notification.id;
  m.idempotency_key = fmt::format("hb-{}", item.notification.id);
  m.incident_key = fmt::format("heartbeat/{}/{}",
                               item.event.target_id.empty() ? "system" : item.event.target_id,
                               item.notification.incident_id);
  m.event = item.event;
  m.target_name = item.target_name;
  m.level = item.notification.level;
  m.flapping = item.notification.flapping;
  m.recovery = notify::ends_incident(item.event.type);
  m.note = note;
  return m;
}

// One run's work, shared by the channel threads: the store is one connection, so every write
// to it goes through `m_store_mutex`.
class Run {
public:
  Run(const config::Config& config, store::Store& store, const util::Clock& clock,
      const DeliverOptions& options, SteadyClock::time_point until)
    : m_config(config),
      m_store(store),
      m_clock(clock),
      m_options(options),
      m_until(until),
      m_http(options.http != nullptr ? *options.http : util::default_http_client()),
      m_random(std::random_device{}())
  {
  }

  // Delivers `items` of one channel, in order.
  void deliver_channel(const config::Channel& channel, std::vector<OutboxItem> items,
                       ChannelTally& tally)
  {
    const std::unique_ptr<Sender> sender = make_sender(channel);
    const SendContext context{m_http, m_config.redactor, m_options.cancel};
    const ChannelPolicy& policy = channel.policy;
    const bool grouped = is_human_channel(policy.type)
                         && static_cast<int>(items.size()) > policy.group_threshold;
    std::size_t next = 0;
    while (next < items.size()) {
      if (out_of_time()) {
        return;  // unfinished rows are released for the next run
      }
      const std::size_t count = grouped ? items.size() - next : 1;
      std::vector<Message> messages;
      for (std::size_t i = next; i < next + count; ++i) {
        messages.push_back(message_of(items[i], note_of(items[i])));
      }
      SendResult result;
      if (sender == nullptr) {
        result.kind = SendResult::Kind::sent;  // the dashboard: delivered by being stored
      } else {
        result = sender->send(messages, context);
        ++tally.requests;
      }
      result.error = m_config.redactor.redact(result.error);
      for (std::size_t i = next; i < next + count; ++i) {
        record(policy, items[i], result, tally);
      }
      next += count;
    }
  }

  // Records that `item`'s channel is no longer configured.
  void record_unknown_channel(const OutboxItem& item, ChannelTally& tally)
  {
    SendResult result;
    result.kind = SendResult::Kind::failed;
    result.error = fmt::format("channel \"{}\" is not configured any more", item.notification.channel);
    ChannelPolicy none;
    none.name = item.notification.channel;
    record(none, item, result, tally);
  }

  // Holds `item` again when its quiet hours have not ended (the config may have moved them).
  bool still_quiet(const ChannelPolicy& policy, const OutboxItem& item, ChannelTally& tally)
  {
    if (item.notification.level >= EventLevel::critical) {
      return false;
    }
    const TargetNotifySettings* settings =
        item.event.target_id.empty() ? nullptr : &m_config.notify.settings_of(item.event.target_id);
    const auto end = notify::quiet_end(policy, settings, m_clock.now());
    if (!end) {
      return false;
    }
    Notification row = item.notification;
    row.state = OutboxState::held;
    row.next_attempt_at = *end;
    row.reason = fmt::format("quiet hours until {}", util::format_rfc3339(*end));
    std::vector<Notification> none;
    finish(row, none);
    ++tally.held;
    return true;
  }

  bool out_of_time() const
  {
    return SteadyClock::now() >= m_until
           || (m_options.cancel != nullptr && m_options.cancel->load());
  }

private:
  static std::string note_of(const OutboxItem& item)
  {
    if (item.notification.fallback_of != 0) {
      return item.notification.reason;
    }
    if (item.notification.reason.rfind("quiet hours", 0) == 0) {
      return "held in quiet hours";
    }
    return "";
  }

  double jitter()
  {
    if (m_options.jitter) {
      return m_options.jitter();
    }
    std::lock_guard lock(m_random_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(m_random);
  }

  void record(const ChannelPolicy& policy, const OutboxItem& item, const SendResult& result,
              ChannelTally& tally)
  {
    const TimePoint now = m_clock.now();
    Notification row = item.notification;
    row.attempts += 1;
    row.provider_id = result.provider_id.empty() ? row.provider_id : result.provider_id;
    std::vector<Notification> follow_ups;
    if (result.kind == SendResult::Kind::sent) {
      row.state = OutboxState::sent;
      row.sent_at = now;
      row.next_attempt_at.reset();
      ++tally.sent;
    } else {
      row.last_error = result.error;
      tally.last_error = result.error;
      const bool give_up = result.kind == SendResult::Kind::failed
                           || row.attempts >= std::max(policy.max_attempts, 1);
      if (give_up) {
        row.state = OutboxState::failed;
        row.next_attempt_at.reset();
        ++tally.failed;
        if (!policy.fallback.empty()) {
          Notification fallback = item.notification;
          fallback.id = 0;
          fallback.channel = policy.fallback;
          fallback.state = OutboxState::pending;
          fallback.attempts = 0;
          fallback.created_at = now;
          fallback.next_attempt_at = now;
          fallback.sent_at.reset();
          fallback.last_error.clear();
          fallback.provider_id.clear();
          fallback.fallback_of = row.id;
          fallback.reason = fmt::format("fallback: {} failed ({})", policy.name, result.error);
          follow_ups.push_back(std::move(fallback));
        }
        util::log_warning(fmt::format("notification {} to {} failed after {} attempt(s): {}",
                                      row.id, policy.name, row.attempts, result.error));
      } else {
        row.state = OutboxState::pending;
        row.next_attempt_at = now + retry_delay(policy, row.attempts, result.retry_after, jitter());
        ++tally.retrying;
      }
    }
    finish(row, follow_ups);
  }

  void finish(const Notification& row, std::vector<Notification>& follow_ups)
  {
    std::lock_guard lock(m_store_mutex);
    m_store.finish_notification(row, follow_ups);
  }

  const config::Config& m_config;
  store::Store& m_store;
  const util::Clock& m_clock;
  const DeliverOptions& m_options;
  SteadyClock::time_point m_until;
  util::HttpClient& m_http;
  std::mutex m_store_mutex;
  std::mutex m_random_mutex;
  std::mt19937_64 m_random;
};

} // namespace

DeliveryReport deliver(const config::Config& config, store::Store& store, const util::Clock& clock,
                       const DeliverOptions& options)
{
  DeliveryReport report;
  const auto until = SteadyClock::now() + options.budget;
  Run run(config, store, clock, options, until);
  // The lease outlives the budget by the longest send (and a margin for recording it), so a
  // live deliverer keeps its rows, and a killed one's are free soon after it would have ended.
  Duration longest{0};
  for (const auto& channel : config.channels) {
    longest = std::max(longest, channel.policy.timeout);
  }
  const Duration lease = options.budget + longest + Duration(5'000);

  // Rounds: the fallback rows a round creates are due in the next one. A row is tried at most
  // once per run: a retry waits for a later run, however short its backoff.
  std::set<std::int64_t> attempted;
  for (int round = 0; round < 10 && !run.out_of_time(); ++round) {
    std::vector<OutboxItem> items =
        store.claim_notifications(options.owner, clock.now(), lease, options.batch);
    std::erase_if(items, [&](const OutboxItem& item) {
      return !attempted.insert(item.notification.id).second;
    });
    if (items.empty()) {
      break;
    }
    std::map<std::string, std::vector<OutboxItem>> by_channel;
    for (OutboxItem& item : items) {
      const config::Channel* channel = config.find_channel(item.notification.channel);
      ChannelTally& tally = report.channels[item.notification.channel];
      if (channel == nullptr) {
        run.record_unknown_channel(item, tally);
      } else if (!run.still_quiet(channel->policy, item, tally)) {
        by_channel[item.notification.channel].push_back(std::move(item));
      }
    }
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    for (auto& [name, channel_items] : by_channel) {
      // Pointers into `config` and into the report's map, whose nodes never move.
      const config::Channel* channel = config.find_channel(name);
      ChannelTally* tally = &report.channels[name];
      threads.emplace_back([&run, &failure, &failure_mutex, channel, tally,
                            items_of = std::move(channel_items)]() mutable {
        try {
          run.deliver_channel(*channel, std::move(items_of), *tally);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          failure = std::current_exception();
        }
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    if (failure) {
      store.release_notifications(options.owner);
      std::rethrow_exception(failure);
    }
  }
  store.release_notifications(options.owner);
  return report;
}

} // namespace hb::delivery
