// SPDX-License-Identifier: MIT
// hb-bench-seed: writes days of synthetic pulse history into a heartbeat database through the
// library's own write path (the calls hb-pulse makes), so that scripts/bench can time hb-status
// against a month of history without waiting a month.
//
// Per pulse it does what lib/pulse/pulse.cpp does after the checks have run: begin_pulse, one
// evaluate() per target to fold the result into its health (and raise events), one
// record_executions() with every execution of the pulse, finish_pulse. Only the check results
// are made up, with the shapes the http check produces: mostly "HTTP 200 in 23ms", 1% one-off
// 503s, 1% slow answers, and for one target in twenty an outage of 30 minutes to 2 hours every
// three days, so hb-status sees failures, recoveries and events as in real use.
#include "config/config.hpp"
#include "core/errors.hpp"
#include "pulse/evaluate.hpp"
#include "pulse/pulse.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace hb;

struct Options {
  std::string config;
  std::string db;
  int days = 30;
  std::string end;  // RFC 3339; the last pulse starts then
  std::string interval = "5m";
  std::uint32_t seed = 42;
};

// One made-up check result. `step` counts pulses from the start of the history.
CheckResultRecord make_result(const std::string& check_name, std::size_t target_index,
                                     std::int64_t step, std::int64_t steps_per_day,
                                     std::mt19937& random)
{
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> fast(4, 60);
  CheckResultRecord r;
  r.check_name = check_name;

  // One target in twenty has an outage every three days, at its own hour, lasting 6 to 24
  // pulses (30 minutes to 2 hours at a 5-minute interval).
  bool outage = false;
  if (target_index % 20 == 7) {
    const std::int64_t period = 3 * steps_per_day;
    const std::int64_t start = static_cast<std::int64_t>(target_index * 37) % period;
    const std::int64_t length = 6 + static_cast<std::int64_t>(target_index % 19);
    const std::int64_t in_period = step % period;
    outage = in_period >= start && in_period < start + length;
  }
  const int roll = percent(random);
  if (outage) {
    r.status = CheckStatus::alert;
    r.phase = "connect";
    r.latency = Duration(1);
    r.message = "connect failed: Couldn't connect to server";
    r.metrics.push_back({"time", 0.001, "s", "", "", 0.0, {}});
    return r;
  }
  if (roll == 0) {
    r.status = CheckStatus::alert;
    r.phase = "http_status";
    r.latency = Duration(fast(random));
    r.message = "HTTP 503 (expected 200-399)";
  } else {
    r.status = CheckStatus::ok;
    r.latency = Duration(roll == 1 ? 250 + fast(random) * 10 : fast(random));
    r.message = fmt::format("HTTP 200 in {}", util::format_duration(r.latency));
  }
  r.metrics.push_back(
      {"time", static_cast<double>(r.latency.count()) / 1000.0, "s", "", "", 0.0, {}});
  r.metrics.push_back(
      {"status", r.status == CheckStatus::ok ? 200.0 : 503.0, "", "", "", std::nullopt, {}});
  r.metrics.push_back({"size", r.status == CheckStatus::ok ? 3.0 : 197.0, "B", "", "", 0.0, {}});
  return r;
}

int seed(const Options& options)
{
  config::LoadOptions load_options;
  load_options.discovery = config::RunDiscovery::no;
  const config::Config config = config::load(options.config, load_options);
  const auto end = util::parse_rfc3339(options.end);
  if (!end) {
    throw UsageError(fmt::format("--end: expected an RFC 3339 time like \"2026-02-18T14:05:00Z\", "
                                 "got \"{}\"",
                                 options.end));
  }
  const auto interval = util::parse_duration(options.interval);
  if (!interval || interval->count() <= 0) {
    throw UsageError(fmt::format("--interval: expected a duration like \"5m\", got \"{}\"",
                                 options.interval));
  }
  if (options.days < 1) {
    throw UsageError(fmt::format("--days: expected at least 1, got {}", options.days));
  }
  const std::int64_t steps_per_day = std::chrono::hours(24) / *interval;
  const std::int64_t steps = steps_per_day * options.days;
  const TimePoint start = *end - *interval * steps;

  auto store = store::open_store(options.db, store::OpenMode::read_write);
  pulse::sync_config(config, *store, start);

  std::mt19937 random(options.seed);
  std::uniform_int_distribution<int> jitter_ms(0, 200);
  std::map<std::string, TargetState> states;
  std::int64_t executions = 0;
  std::int64_t events = 0;
  const auto clock_start = std::chrono::steady_clock::now();

  for (std::int64_t step = 0; step < steps; ++step) {
    const TimePoint at = start + *interval * (step + 1);
    PulseRecord pulse;
    pulse.owner = fmt::format("bench-seed:{}", step);
    pulse.started_at = at;
    pulse.interval = config.pulse.interval;
    pulse.deadline = config.pulse.deadline;
    pulse.next_expected = at + config.pulse.interval;
    pulse.targets_total = static_cast<int>(config.targets.size());
    pulse.id = store->begin_pulse(pulse);

    std::vector<ExecutionWrite> writes;
    writes.reserve(config.targets.size());
    TimePoint last_finish = at;
    for (std::size_t i = 0; i < config.targets.size(); ++i) {
      const config::Target& target = config.targets[i];
      if (target.checks.empty() || target.paused) {
        continue;
      }
      ExecutionRecord execution;
      execution.target_id = target.id;
      execution.started_at = at + Duration(jitter_ms(random));
      execution.trigger = Trigger::pulse;
      execution.pulse_id = pulse.id;
      Duration longest{0};
      for (const auto& check : target.checks) {
        execution.results.push_back(make_result(check.name, i, step, steps_per_day, random));
        longest = std::max(longest, execution.results.back().latency);
      }
      execution.completed_at = execution.started_at + longest;
      execution.status = pulse::aggregate(execution.results);
      last_finish = std::max(last_finish, execution.completed_at);

      TargetState& previous = states[target.id];
      previous.target_id = target.id;
      pulse::Evaluation evaluation = pulse::evaluate(target, previous, execution, pulse::InGrace::no);
      previous = evaluation.state;
      events += static_cast<std::int64_t>(evaluation.events.size());
      writes.push_back({std::move(execution), std::move(evaluation.state),
                        std::move(evaluation.events), ""});
    }
    store->record_executions(writes);
    executions += static_cast<std::int64_t>(writes.size());

    pulse.targets_due = static_cast<int>(writes.size());
    pulse.targets_run = static_cast<int>(writes.size());
    pulse.checks_run = static_cast<int>(writes.size());
    pulse.status = PulseStatus::ok;
    pulse.completed_at = last_finish + Duration(5);
    store->finish_pulse(pulse);
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  std::cout << fmt::format("seeded {} pulses ({} days at {}) for {} targets: {} executions, {} "
                           "events, from {} to {}, in {:.1f} s\n",
                           steps, options.days, options.interval, config.targets.size(),
                           executions, events, util::format_rfc3339(start),
                           util::format_rfc3339(*end), seconds);
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  CLI::App app("Write synthetic pulse history into a heartbeat database (for scripts/bench).",
               "hb-bench-seed");
  Options options;
  app.add_option("-c,--config", options.config, "The config whose targets get history")
      ->required();
  app.add_option("--db", options.db, "The database to write (created when missing)")->required();
  app.add_option("--days", options.days, "Days of history (default 30)");
  app.add_option("--end", options.end, "When the history ends, RFC 3339 UTC")->required();
  app.add_option("--interval", options.interval, "Time between pulses (default 5m)");
  app.add_option("--seed", options.seed, "Random seed (default 42)");
  CLI11_PARSE(app, argc, argv);
  try {
    return seed(options);
  } catch (const hb::Error& e) {
    std::cerr << "hb-bench-seed: error: " << e.what() << '\n';
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "hb-bench-seed: error: " << e.what() << '\n';
    return 70;
  }
}
