// SPDX-License-Identifier: MIT
#include "pulse/runner.hpp"

#include "util/duration.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace hb::pulse {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long past its timeout (or past cancellation) a check may take to return before it is
// abandoned. Built-in checks enforce their own timeouts, so this only catches bugs.
constexpr Duration k_abandon_grace{3'000};

enum class SlotState { pending, running, done, abandoned };

std::atomic<bool> g_threads_abandoned{false};

struct Slot {
  SlotState state = SlotState::pending;
  SteadyClock::time_point started_at;
  JobOutcome outcome;
};

// Everything workers touch; shared-owned so an abandoned worker never outlives it.
struct Shared {
  explicit Shared(TimePoint now) : clock(now) {}

  util::OffsetClock clock;  // what checks read the time from
  SteadyClock::time_point cutoff;
  const std::atomic<int>* signal_stop = nullptr;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<CheckJob> jobs;
  std::deque<Slot> slots;  // a deque: workers keep references to their slot while jobs are added
  int live_workers = 0;    // threads inside worker_loop
  std::size_t next = 0;
  bool stop_starting = false;
  std::deque<std::size_t> finished;
  std::atomic<bool> cancel{false};
};

CheckResultRecord run_one(const CheckJob& job, const std::atomic<bool>& cancel,
                                 const util::Clock& clock, bool& threw)
{
  CheckResultRecord record;
  record.check_name = job.name;
  const auto start = SteadyClock::now();
  try {
    checks::CheckContext context{cancel, job.timeout, clock};
    checks::CheckResult result = job.probe->run(context);
    record.status = result.status;
    record.message = std::move(result.message);
    record.latency = result.latency;
    record.phase = std::move(result.phase);
    record.metrics = std::move(result.metrics);
  } catch (const std::exception& e) {
    threw = true;
    record.status = CheckStatus::error;
    record.message = fmt::format("check failed internally: {}", e.what());
    record.phase = "exception";
  } catch (...) {
    threw = true;
    record.status = CheckStatus::error;
    record.message = "check failed internally with an unknown exception";
    record.phase = "exception";
  }
  if (record.latency.count() == 0) {
    record.latency = std::chrono::duration_cast<Duration>(SteadyClock::now() - start);
  }
  return record;
}

void worker_loop(const std::shared_ptr<Shared>& shared)
{
  std::unique_lock lock(shared->mutex);
  // Counts this thread out when it leaves, under the lock (held whenever the loop ends). An
  // abandoned thread was counted out when it was abandoned.
  struct Leave {
    Shared& shared;
    bool counted = true;
    ~Leave()
    {
      if (counted) {
        --shared.live_workers;
      }
    }
  } leave{*shared};
  while (!shared->stop_starting && shared->next < shared->jobs.size()) {
    // Never start a check past the cutoff or after a signal, even before the runner has noticed.
    if (SteadyClock::now() >= shared->cutoff
        || (shared->signal_stop != nullptr && shared->signal_stop->load() != 0)) {
      break;
    }
    const std::size_t index = shared->next++;
    Slot& slot = shared->slots[index];
    slot.state = SlotState::running;
    slot.started_at = SteadyClock::now();
    const CheckJob job = shared->jobs[index];
    lock.unlock();

    bool threw = false;
    CheckResultRecord record = run_one(job, shared->cancel, shared->clock, threw);
    if (threw) {
      record.phase = "exception";
    }

    lock.lock();
    if (slot.state == SlotState::running) {
      slot.state = SlotState::done;
      slot.outcome.started = true;
      slot.outcome.result = std::move(record);
      slot.outcome.started_at = slot.started_at;
      slot.outcome.finished_at = SteadyClock::now();
      shared->finished.push_back(index);
      shared->changed.notify_all();
    }
    if (slot.state == SlotState::abandoned) {
      // Its result was already reported and a replacement thread took this one's place: leave,
      // so the concurrency bound holds.
      leave.counted = false;
      return;
    }
  }
}

} // namespace

bool threads_were_abandoned() { return g_threads_abandoned.load(); }

ParallelRunner::ParallelRunner(int concurrency, SteadyClock::time_point cutoff,
                               const std::atomic<int>* signal_stop, const util::Clock& clock)
  : m_concurrency(std::max(1, concurrency)), m_cutoff(cutoff), m_signal_stop(signal_stop),
    m_clock(clock)
{
}

RunStats ParallelRunner::run(const std::vector<CheckJob>& initial_jobs,
                             const std::function<void(std::size_t, JobOutcome&&)>& on_done,
                             const std::function<void(int, int)>& on_tick, const Refill& refill)
{
  RunStats stats;
  auto shared = std::make_shared<Shared>(m_clock.now());
  shared->cutoff = m_cutoff;
  shared->signal_stop = m_signal_stop;
  shared->jobs = initial_jobs;
  shared->slots.resize(initial_jobs.size());
  const std::vector<CheckJob>& jobs = shared->jobs;  // grows with each refill (under the lock)
  int total = static_cast<int>(jobs.size());
  bool refill_done = !refill;

  std::vector<std::thread> workers;
  // Starts threads until `concurrency` run or every job waiting to start has one. Under the lock.
  auto staff = [&] {
    const auto waiting = static_cast<int>(jobs.size() - shared->next);
    const int wanted = std::min(m_concurrency, shared->live_workers + waiting);
    while (shared->live_workers < wanted) {
      ++shared->live_workers;
      workers.emplace_back([shared] { worker_loop(shared); });
    }
  };
  int stuck_workers = 0;

  int done = 0;
  SteadyClock::time_point cancelled_at{};
  std::unique_lock lock(shared->mutex);
  staff();
  for (;;) {
    // Keep work queued: ask for more while fewer than `concurrency` jobs wait to start.
    while (!refill_done && !shared->stop_starting && !shared->cancel
           && SteadyClock::now() < m_cutoff
           && (m_signal_stop == nullptr || m_signal_stop->load() == 0)
           && static_cast<int>(jobs.size() - shared->next) < m_concurrency) {
      lock.unlock();
      std::vector<CheckJob> more = refill();
      lock.lock();
      if (more.empty()) {
        refill_done = true;
        break;
      }
      for (auto& job : more) {
        shared->jobs.push_back(std::move(job));
        shared->slots.emplace_back();
      }
      total = static_cast<int>(jobs.size());
      staff();
    }

    // Report finished work without holding the lock during callbacks.
    while (!shared->finished.empty()) {
      const std::size_t index = shared->finished.front();
      shared->finished.pop_front();
      JobOutcome outcome = std::move(shared->slots[index].outcome);
      if (outcome.result.phase == "exception") {
        ++stats.exceptions;
      }
      if (shared->cancel && outcome.result.phase == "cancelled") {
        ++stats.cut_off;
      }
      ++stats.started;
      ++done;
      lock.unlock();
      on_done(index, std::move(outcome));
      lock.lock();
    }

    const bool nothing_left_to_start =
      shared->stop_starting || (shared->next >= jobs.size() && (refill_done || shared->cancel));
    bool any_running = false;
    for (const auto& slot : shared->slots) {
      if (slot.state == SlotState::running) {
        any_running = true;
        break;
      }
    }
    if (nothing_left_to_start && !any_running && shared->finished.empty()) {
      break;
    }

    const auto now = SteadyClock::now();
    if (!shared->cancel) {
      StopReason reason = StopReason::none;
      if (m_signal_stop != nullptr && m_signal_stop->load() != 0) {
        reason = StopReason::signal;
      } else if (now >= m_cutoff) {
        reason = StopReason::deadline;
      }
      if (reason != StopReason::none) {
        stats.stop = reason;
        shared->cancel = true;
        shared->stop_starting = true;
        cancelled_at = now;
      }
    }

    // Abandon checks that outlive their timeout (or cancellation) by the grace period.
    for (std::size_t i = 0; i < shared->slots.size(); ++i) {
      Slot& slot = shared->slots[i];
      if (slot.state != SlotState::running) {
        continue;
      }
      const auto limit = shared->cancel
                           ? std::max(cancelled_at, slot.started_at) + k_abandon_grace
                           : slot.started_at + jobs[i].timeout + k_abandon_grace;
      if (now < limit) {
        continue;
      }
      slot.state = SlotState::abandoned;
      ++stats.abandoned;
      ++stuck_workers;
      JobOutcome outcome;
      outcome.started = true;
      outcome.started_at = slot.started_at;
      outcome.finished_at = now;
      outcome.result.check_name = jobs[i].name;
      outcome.result.status = CheckStatus::error;
      outcome.result.phase = "abandoned";
      outcome.result.latency = std::chrono::duration_cast<Duration>(now - slot.started_at);
      outcome.result.message =
        shared->cancel
          ? "check did not stop when cut off; abandoned"
          : fmt::format("check did not return within its timeout ({}); abandoned",
                        util::format_duration(jobs[i].timeout));
      ++stats.started;
      ++done;
      lock.unlock();
      on_done(i, std::move(outcome));
      lock.lock();
      // Keep the configured concurrency: a stuck thread is replaced (it no longer counts).
      --shared->live_workers;
      if (!shared->stop_starting) {
        staff();
      }
    }

    if (on_tick) {
      lock.unlock();
      on_tick(done, total);
      lock.lock();
    }
    shared->changed.wait_for(lock, std::chrono::milliseconds(20));
  }

  // Jobs that never started.
  std::vector<std::size_t> never_started;
  for (std::size_t i = 0; i < shared->slots.size(); ++i) {
    if (shared->slots[i].state == SlotState::pending) {
      never_started.push_back(i);
    }
  }
  lock.unlock();

  for (auto i : never_started) {
    JobOutcome outcome;
    outcome.started = false;
    outcome.result.check_name = jobs[i].name;
    outcome.result.status = CheckStatus::error;
    outcome.result.phase = "not_started";
    ++stats.not_started;
    on_done(i, std::move(outcome));
  }
  if (on_tick) {
    on_tick(total, total);
  }

  // Workers on abandoned checks cannot be joined; everyone else has finished its loop.
  if (stuck_workers == 0) {
    for (auto& worker : workers) {
      worker.join();
    }
  } else {
    g_threads_abandoned = true;
    for (auto& worker : workers) {
      worker.detach();
    }
  }
  return stats;
}

} // namespace hb::pulse
