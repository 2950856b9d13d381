// SPDX-License-Identifier: MIT
#pragma once

// The ladder of hb-recover (SPEC §4.3 step 2) for one target: (a) a forced check run, (b) the most
// specific action, a wait and a verifying re-check, every step recorded; then the counters,
// backoff, budget and escalation the attempt's result calls for. recover.cpp runs it on
// `concurrency` threads.

#include "config/config.hpp"
#include "recovery/assess.hpp"
#include "recovery/recover.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace hb::recovery {

// The wait after an action before the verifying re-check: the target's own, else the top-level.
Duration verify_after(const config::Config& config, const config::Target& target);

// The counters after a verified recovery (or --reset): nothing spent, counted from `at`.
RecoveryState fresh_state(const std::string& id, TimePoint at);

// An action's argv for people and the database: quoted, secret options masked, secrets redacted.
std::string describe_action(const config::Config& config, const std::vector<std::string>& argv);

// How much longer than escalation.command's timeout its claim lasts: time enough to record what
// it did.
inline constexpr Duration k_escalation_claim_margin{5'000};

// One run of hb-recover as its worker threads share it: the ladder for one target at a time
// (climb), the writes and escalations it makes, the stop flag. Every store call goes through
// `locked`: the worker threads share one store.
class Ladder {
public:
  Ladder(const config::Config& config, store::Store& store, const util::Clock& clock,
      const RecoverOptions& options, RecoverReport& report)
    : m_config(config), m_store(store), m_clock(clock), m_options(options), m_report(report)
  {
    if (options.jitter) {
      m_jitter = options.jitter;
    } else {
      m_jitter = [this] {
        std::lock_guard lock(m_random_mutex);
        return std::uniform_real_distribution<double>(0.0, 1.0)(m_random);
      };
    }
  }

  template <typename F>
  auto locked(F&& f)
  {
    std::lock_guard lock(m_store_mutex);
    return f(m_store);
  }

  bool stopping() const { return m_cancel.load(); }
  const std::atomic<bool>& cancel_flag() const { return m_cancel; }
  void cancel() { m_cancel = true; }

  // Sleeps `d`, waking early when the run is stopped. Returns false when stopped.
  bool wait(Duration d);

  // Runs the ladder for one target; returns its attempt as recorded.
  RecoveryAttempt climb(const config::Target& target, Assessment assessment,
                        const std::optional<RecoveryState>& previous, int attempts_in_window,
                        TargetReport& out);

  // Writes `write`; collects its events and escalations into the report.
  void record(RecoveryWrite& write)
  {
    locked([&](store::Store& s) { s.record_recovery(write); });
    std::lock_guard lock(m_report_mutex);
    for (const auto& event : write.events) {
      m_report.events.push_back(event);
    }
    if (write.open) {
      m_report.escalations_opened.push_back(*write.open);
    }
  }

  void add_events(const std::vector<Event>& events)
  {
    std::lock_guard lock(m_report_mutex);
    m_report.events.insert(m_report.events.end(), events.begin(), events.end());
  }

  // Runs escalation.command with the escalation JSON on stdin and records what it did, once it
  // has claimed it (Store::claim_escalation_command): not when another run holds it or it has
  // a result already.
  void run_escalation_command(const Escalation& escalation);

  // Resolves escalation `id` (of `target_id`, "" for a shared cause) with an event.
  void resolve_escalation(const Escalation& escalation, TimePoint at, const std::string& why,
                          RecoveryWrite& write);

private:
  // Step a / the verifying re-check: runs the target's checks (or re-reads its beats) and
  // returns whether it is healthy, the step, and (checks) the failing check's name and phase.
  bool check_now(const config::Target& target, std::string_view kind, Assessment& assessment,
                 AttemptStep& step);

  const config::Config& m_config;
  store::Store& m_store;
  const util::Clock& m_clock;
  const RecoverOptions& m_options;
  RecoverReport& m_report;
  std::mutex m_store_mutex;
  std::mutex m_report_mutex;
  std::mutex m_random_mutex;
  std::mt19937_64 m_random{std::random_device{}()};
  std::function<double()> m_jitter;
  std::atomic<bool> m_cancel{false};
};

} // namespace hb::recovery
