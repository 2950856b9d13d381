// SPDX-License-Identifier: MIT
#include "pulse/runner.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using hb::CheckStatus;
using hb::Duration;
using hb::checks::CheckContext;
using hb::checks::CheckResult;
using hb::pulse::CheckJob;
using hb::pulse::JobOutcome;
using hb::pulse::ParallelRunner;
using hb::pulse::RunStats;
using hb::pulse::StopReason;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const hb::util::SystemClock k_clock{};

// A check whose behaviour is a function; captured state must outlive every run (see the
// abandonment test, whose thread is detached).
class FnCheck final : public hb::checks::Check {
public:
  explicit FnCheck(std::function<CheckResult(const CheckContext&)> fn) : m_fn(std::move(fn)) {}
  CheckResult run(const CheckContext& context) const override { return m_fn(context); }
  std::string describe() const override { return "test check"; }

private:
  std::function<CheckResult(const CheckContext&)> m_fn;
};

CheckJob job(const std::string& name, std::function<CheckResult(const CheckContext&)> fn,
             Duration timeout = 10s)
{
  return CheckJob{0, name, timeout, std::make_shared<FnCheck>(std::move(fn))};
}

CheckResult ok_result(const std::string& message = "fine")
{
  CheckResult r;
  r.status = CheckStatus::ok;
  r.message = message;
  return r;
}

// Waits up to `limit` for cancellation, the way a well-behaved check does.
CheckResult wait_for_cancel(const CheckContext& context, Duration limit)
{
  const auto until = SteadyClock::now() + limit;
  while (!context.cancel.load() && SteadyClock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  CheckResult r;
  if (context.cancel.load()) {
    r.status = CheckStatus::error;
    r.message = "cancelled";
    r.phase = "cancelled";
  } else {
    r.status = CheckStatus::ok;
    r.message = "not cancelled";
  }
  return r;
}

struct Collected {
  std::map<std::size_t, JobOutcome> outcomes;
  int ticks = 0;
  RunStats stats;
};

Collected run_all(ParallelRunner& runner, const std::vector<CheckJob>& jobs)
{
  Collected c;
  c.stats = runner.run(
    jobs, [&](std::size_t index, JobOutcome&& outcome) {
      CHECK(c.outcomes.count(index) == 0);
      c.outcomes.emplace(index, std::move(outcome));
    },
    [&](int done, int total) {
      CHECK(done <= total);
      ++c.ticks;
    });
  return c;
}

SteadyClock::time_point far_future() { return SteadyClock::now() + 1h; }

} // namespace

TEST_CASE("ParallelRunner")
{
  SECTION("reports one result per job")
  {
    std::vector<CheckJob> jobs;
    for (int i = 0; i < 5; ++i) {
      jobs.push_back(job("c" + std::to_string(i), [i](const CheckContext&) {
        return ok_result("check " + std::to_string(i));
      }));
    }
    ParallelRunner runner(2, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, jobs);
    REQUIRE(c.outcomes.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      const auto& o = c.outcomes.at(i);
      CHECK(o.started);
      CHECK(o.result.check_name == "c" + std::to_string(i));
      CHECK(o.result.status == CheckStatus::ok);
      CHECK(o.result.message == "check " + std::to_string(i));
      CHECK(o.finished_at >= o.started_at);
    }
    CHECK(c.stats.started == 5);
    CHECK(c.stats.not_started == 0);
    CHECK(c.stats.exceptions == 0);
    CHECK(c.stats.abandoned == 0);
    CHECK(c.stats.stop == StopReason::none);
    CHECK(c.ticks >= 1);
  }

  SECTION("checks read the time from the runner's clock")
  {
    const hb::TimePoint t0 = hb::util::parse_rfc3339("2026-02-18T14:05:00Z").value();
    const hb::util::ManualClock clock(t0);
    std::atomic<hb::TimePoint::rep> seen{0};
    ParallelRunner runner(1, far_future(), nullptr, clock);
    const auto c = run_all(runner, {job("now", [&](const CheckContext& context) {
                                      seen = context.clock.now().time_since_epoch().count();
                                      return ok_result();
                                    })});
    REQUIRE(c.outcomes.size() == 1);
    // The runner's copy starts at the clock's "now" and moves on with real time.
    const hb::TimePoint now{hb::Duration(seen.load())};
    CHECK(now >= t0);
    CHECK(now < t0 + 10s);
  }

  SECTION("no jobs")
  {
    ParallelRunner runner(4, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, {});
    CHECK(c.outcomes.empty());
    CHECK(c.stats.started == 0);
  }

  SECTION("the latency is measured when the check does not report one")
  {
    ParallelRunner runner(1, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, {job("slow", [](const CheckContext&) {
                             std::this_thread::sleep_for(50ms);
                             return ok_result();
                           })});
    CHECK(c.outcomes.at(0).result.latency >= 50ms);
  }

  SECTION("the concurrency bound is respected")
  {
    std::atomic<int> running{0};
    std::atomic<int> max_running{0};
    std::vector<CheckJob> jobs;
    for (int i = 0; i < 10; ++i) {
      jobs.push_back(job("c" + std::to_string(i), [&](const CheckContext&) {
        const int now = ++running;
        int seen = max_running.load();
        while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(40ms);
        --running;
        return ok_result();
      }));
    }
    ParallelRunner runner(3, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, jobs);
    CHECK(c.outcomes.size() == 10);
    CHECK(max_running.load() == 3);
    CHECK(c.stats.started == 10);
  }

  SECTION("a check that throws becomes an error; the others are unaffected")
  {
    std::vector<CheckJob> jobs{
      job("before", [](const CheckContext&) { return ok_result(); }),
      job("throws", [](const CheckContext&) -> CheckResult { throw std::runtime_error("boom"); }),
      job("throws-int", [](const CheckContext&) -> CheckResult { throw 42; }),
      job("after", [](const CheckContext&) { return ok_result(); }),
    };
    ParallelRunner runner(2, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, jobs);
    REQUIRE(c.outcomes.size() == 4);
    const auto& thrown = c.outcomes.at(1).result;
    CHECK(thrown.check_name == "throws");
    CHECK(thrown.status == CheckStatus::error);
    CHECK(thrown.phase == "exception");
    CHECK(thrown.message == "check failed internally: boom");
    const auto& unknown = c.outcomes.at(2).result;
    CHECK(unknown.phase == "exception");
    CHECK(unknown.message == "check failed internally with an unknown exception");
    CHECK(c.outcomes.at(0).result.status == CheckStatus::ok);
    CHECK(c.outcomes.at(3).result.status == CheckStatus::ok);
    CHECK(c.stats.exceptions == 2);
    CHECK(c.stats.started == 4);
  }

  SECTION("a stuck check is abandoned after its timeout plus the grace; the others complete")
  {
    // The stuck check's thread is detached by the runner and outlives this test: it may only
    // touch what it owns or what is static.
    static std::atomic<int> stuck_returned{0};
    std::vector<CheckJob> jobs{
      job("stuck",
          [](const CheckContext&) {
            std::this_thread::sleep_for(60s);
            ++stuck_returned;
            return ok_result("too late");
          },
          200ms),
    };
    for (int i = 0; i < 4; ++i) {
      jobs.push_back(job("quick" + std::to_string(i), [](const CheckContext&) {
        std::this_thread::sleep_for(20ms);
        return ok_result();
      }));
    }
    ParallelRunner runner(2, far_future(), nullptr, k_clock);
    const auto start = SteadyClock::now();
    const auto c = run_all(runner, jobs);
    const auto took = SteadyClock::now() - start;
    REQUIRE(c.outcomes.size() == 5);
    const auto& stuck = c.outcomes.at(0);
    CHECK(stuck.started);
    CHECK(stuck.result.status == CheckStatus::error);
    CHECK(stuck.result.phase == "abandoned");
    CHECK(stuck.result.message == "check did not return within its timeout (200ms); abandoned");
    CHECK(stuck.result.latency >= 3200ms);
    for (std::size_t i = 1; i < 5; ++i) {
      CHECK(c.outcomes.at(i).result.status == CheckStatus::ok);
    }
    CHECK(c.stats.abandoned == 1);
    CHECK(c.stats.started == 5);
    CHECK(took >= 3200ms);
    CHECK(took < 30s); // the stuck check was not waited for (it sleeps 60 s)
    CHECK(stuck_returned.load() == 0);
  }

  SECTION("reaching the cutoff while running cancels the running checks")
  {
    std::atomic<int> saw_cancel{0};
    std::vector<CheckJob> jobs{
      job("waits",
          [&](const CheckContext& context) {
            auto r = wait_for_cancel(context, 5s);
            if (r.phase == "cancelled") {
              ++saw_cancel;
            }
            return r;
          }),
      job("queued", [](const CheckContext&) { return ok_result(); }),
    };
    ParallelRunner runner(1, SteadyClock::now() + 200ms, nullptr, k_clock);
    const auto start = SteadyClock::now();
    const auto c = run_all(runner, jobs);
    CHECK(SteadyClock::now() - start < 2s);
    CHECK(saw_cancel.load() == 1);
    REQUIRE(c.outcomes.size() == 2);
    CHECK(c.outcomes.at(0).started);
    CHECK(c.outcomes.at(0).result.phase == "cancelled");
    CHECK_FALSE(c.outcomes.at(1).started);
    CHECK(c.outcomes.at(1).result.phase == "not_started");
    CHECK(c.stats.stop == StopReason::deadline);
    CHECK(c.stats.cut_off == 1);
    CHECK(c.stats.not_started == 1);
    CHECK(c.stats.started == 1);
  }

  SECTION("a signal cancels the running checks")
  {
    std::atomic<int> signal{0};
    std::vector<CheckJob> jobs{
      job("signals",
          [&](const CheckContext& context) {
            signal = 15;
            return wait_for_cancel(context, 5s);
          }),
      job("queued1", [](const CheckContext&) { return ok_result(); }),
      job("queued2", [](const CheckContext&) { return ok_result(); }),
    };
    ParallelRunner runner(1, far_future(), &signal, k_clock);
    const auto start = SteadyClock::now();
    const auto c = run_all(runner, jobs);
    CHECK(SteadyClock::now() - start < 2s);
    REQUIRE(c.outcomes.size() == 3);
    CHECK(c.outcomes.at(0).result.phase == "cancelled");
    CHECK_FALSE(c.outcomes.at(1).started);
    CHECK_FALSE(c.outcomes.at(2).started);
    CHECK(c.stats.stop == StopReason::signal);
    CHECK(c.stats.cut_off == 1);
    CHECK(c.stats.not_started == 2);
  }
}

// ParallelRunner::run starts its worker threads before it first compares the clock with the
// cutoff, so a worker can take (and start) a job although the cutoff has already passed.
TEST_CASE("ParallelRunner with a cutoff already passed")
{
  SECTION("starts nothing")
  {
    std::atomic<int> runs{0};
    std::vector<CheckJob> jobs;
    for (int i = 0; i < 4; ++i) {
      jobs.push_back(job("c" + std::to_string(i), [&](const CheckContext& context) {
        ++runs;
        return wait_for_cancel(context, 2s);
      }));
    }
    ParallelRunner runner(4, SteadyClock::now() - 1s, nullptr, k_clock);
    const auto c = run_all(runner, jobs);
    REQUIRE(c.outcomes.size() == 4);
    for (const auto& [index, outcome] : c.outcomes) {
      INFO("job " << index);
      CHECK_FALSE(outcome.started);
      CHECK(outcome.result.status == CheckStatus::error);
      CHECK(outcome.result.phase == "not_started");
      CHECK(outcome.result.check_name == "c" + std::to_string(index));
    }
    CHECK(c.stats.not_started == 4);
    CHECK(c.stats.started == 0);
    CHECK(c.stats.stop == StopReason::deadline);
    CHECK(runs.load() == 0);
  }
}

// Hidden (about 4 s): a worker whose check was abandoned goes on taking jobs once the check
// finally returns, although a replacement thread was started for it, so more than
// `concurrency` checks run at once. Run with: hb_unit_tests "[runner-abandon-concurrency]"
TEST_CASE("ParallelRunner keeps the concurrency bound after abandoning a check",
          "[runner-abandon-concurrency]")
{
  SECTION("a returning abandoned worker takes no more jobs")
  {
    // Static: the abandoned thread is detached and may outlive this test.
    static std::atomic<int> running{0};
    static std::atomic<int> max_running{0};
    running = 0;
    max_running = 0;
    auto tracked = [](const CheckContext&) {
      const int now = ++running;
      int seen = max_running.load();
      while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(800ms);
      --running;
      return ok_result();
    };
    std::vector<CheckJob> jobs{
      job("stuck",
          [](const CheckContext&) {
            std::this_thread::sleep_for(3300ms);
            return ok_result("too late");
          },
          1ms),
      job("one", tracked),
      job("two", tracked),
    };
    ParallelRunner runner(1, far_future(), nullptr, k_clock);
    const auto c = run_all(runner, jobs);
    REQUIRE(c.outcomes.size() == 3);
    CHECK(c.outcomes.at(0).result.phase == "abandoned");
    CHECK(c.stats.abandoned == 1);
    CHECK(max_running.load() == 1);
  }
}
