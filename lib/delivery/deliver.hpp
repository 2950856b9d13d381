// SPDX-License-Identifier: MIT
#pragma once

// Delivering the outbox (SPEC §4.1 step 7; hb-notify): claim the rows that are due with a lease,
// send each channel's rows on a thread of its own (one slow or dead channel never delays
// another), and record every outcome as it happens: sent; a temporary failure retried later
// with doubling backoff and full jitter, or the provider's Retry-After when longer; a permanent
// failure, or the last of max_attempts, failed and handed to the channel's fallback. Human
// channels get one grouped message when a run has more than group_threshold rows for them.

#include "config/config.hpp"
#include "store/store.hpp"
#include "util/http.hpp"
#include "util/time.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <string>

namespace hb::delivery {

struct DeliverOptions {
  std::string owner;                         // the lease owner: unique per tool run
  Duration budget{120'000};                  // no new send starts after this much time
  const std::atomic<bool>* cancel = nullptr; // set on SIGTERM: sends are cut off
  util::HttpClient* http = nullptr;          // nullptr: util::default_http_client()
  int batch = 500;                           // rows claimed at a time
  // A number in [0, 1) for full jitter; nullptr: a random one. Tests make backoff exact with it.
  std::function<double()> jitter;
};

struct ChannelTally {
  int sent = 0;
  int retrying = 0;   // failed this time, will be tried again
  int failed = 0;     // gave up (permanent, or attempts used up)
  int held = 0;       // still in quiet hours
  int requests = 0;   // sends made (a grouped message is one)
  std::string last_error;
};

struct DeliveryReport {
  std::map<std::string, ChannelTally> channels;  // by channel name
  int total(int ChannelTally::*field) const;
};

// Delivers every row due at clock.now(), and the fallback rows that creates, within the budget.
// Throws hb::StoreError / hb::TemporaryError when the database fails (rows already finished stay
// finished; the others are released for the next run).
DeliveryReport deliver(const config::Config& config, store::Store& store, const util::Clock& clock,
                       const DeliverOptions& options);

// The delay before retry number `attempt` (1 for the first retry): a random point in
// [0, min(retry_backoff_max, retry_backoff × 2^(attempt-1))] ("full jitter"), then at least
// `retry_after` when the provider sent one. `jitter` is in [0, 1).
Duration retry_delay(const ChannelPolicy& channel, int attempt, std::optional<Duration> retry_after,
                     double jitter);

} // namespace hb::delivery
