// SPDX-License-Identifier: MIT
#include "pulse/execute.hpp"

#include "pulse/evaluate.hpp"
#include "pulse/runner.hpp"
#include "util/duration.hpp"
#include "util/process.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hb::pulse {

void redact(CheckResultRecord& result, const util::Redactor& redactor)
{
  result.message = redactor.redact(std::move(result.message));
  for (auto& metric : result.metrics) {
    metric.name = redactor.redact(std::move(metric.name));
    metric.unit = redactor.redact(std::move(metric.unit));
    metric.warn = redactor.redact(std::move(metric.warn));
    metric.crit = redactor.redact(std::move(metric.crit));
  }
}

ExecutionWrite execute_now(const config::Target& target, const TargetState& previous,
                           bool in_grace, const config::Config& config, const util::Clock& clock,
                           Trigger trigger, const std::atomic<int>* stop)
{
  using SteadyClock = std::chrono::steady_clock;
  const TimePoint wall_start = clock.now();
  const auto steady_start = SteadyClock::now();
  auto wall_at = [&](SteadyClock::time_point t) {
    return wall_start + std::chrono::duration_cast<Duration>(t - steady_start);
  };

  std::vector<CheckJob> jobs;
  Duration longest{0};
  for (const auto& check : target.checks) {
    jobs.push_back({0, check.name, check.timeout, check.probe});
    longest = std::max(longest, check.timeout);
  }
  ExecutionWrite write;
  ExecutionRecord& execution = write.execution;
  execution.target_id = target.id;
  execution.trigger = trigger;
  execution.forced = true;
  execution.started_at = wall_start;
  execution.results.resize(jobs.size());

  // Each check enforces its own timeout; the cutoff only guards against one that does not.
  const auto cutoff = steady_start + longest + Duration(5'000);
  std::optional<SteadyClock::time_point> first_start;
  SteadyClock::time_point last_finish = steady_start;
  ParallelRunner runner(std::max<int>(1, static_cast<int>(jobs.size())), cutoff, stop, clock);
  runner.run(
      jobs,
      [&](std::size_t job, JobOutcome&& done) {
        CheckResultRecord result = std::move(done.result);
        redact(result, config.redactor);
        if (done.started) {
          if (!first_start || done.started_at < *first_start) {
            first_start = done.started_at;
          }
          last_finish = std::max(last_finish, done.finished_at);
          if (result.phase == "cancelled" && stop != nullptr && stop->load() > 0) {
            result.message = fmt::format("interrupted by {}", util::signal_name(stop->load()));
          }
        }
        execution.results[job] = std::move(result);
      },
      [](int, int) {});
  if (first_start) {
    execution.started_at = wall_at(*first_start);
  }
  execution.completed_at = wall_at(last_finish);
  execution.status = aggregate(execution.results);
  Evaluation evaluation =
      evaluate(target, previous, execution, in_grace ? InGrace::yes : InGrace::no);
  write.state = std::move(evaluation.state);
  write.events = std::move(evaluation.events);
  write.load = evaluation.load;
  return write;
}

} // namespace hb::pulse
