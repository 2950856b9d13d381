// SPDX-License-Identifier: MIT
#include "agents/wrap.hpp"

#include "config/config.hpp"
#include "core/errors.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"
#include "util/shell_quote.hpp"

#include <fmt/format.h>

#include <optional>
#include <set>

#include <unistd.h>

namespace hb::agents {
namespace {

constexpr std::size_t k_max_metrics = 32;
constexpr std::size_t k_output_cap = 64 * 1024;
constexpr std::size_t k_tail_lines = 20;
constexpr std::size_t k_tail_bytes = 4096;
constexpr std::size_t k_max_command_line = 1024;
constexpr Duration k_kill_grace{10'000};

// Runs `record`; when the target is unknown and the config declares it, syncs the config into
// the database and tries once more.
template <typename Fn>
auto with_config_fallback(const Recorder& recorder, store::Store& store, const std::string& target,
                          TimePoint now, Fn&& record) -> decltype(record())
{
  try {
    return record();
  } catch (const NotSynced&) {
    if (!recorder.sync_target || !recorder.sync_target(store, target, now)) {
      throw;
    }
  }
  return record();
}

util::ProcessResult run_job(const JobRequest& request)
{
  if (request.command.empty()) {
    throw UsageError("no command after \"--\"");
  }
  util::ProcessSpec spec;
  spec.argv = request.command;
  spec.timeout = request.timeout;
  spec.output_cap = k_output_cap;
  spec.keep = util::ProcessSpec::Keep::tail;
  spec.kill_grace = k_kill_grace;
  spec.tee = true;
  // The job runs in its own process group (so a timeout kills all of it); reading a terminal
  // from there would stop it (SIGTTIN), so it gets the terminal's input only under cron-like
  // callers, where stdin is not a terminal.
  spec.inherit_stdin = ::isatty(STDIN_FILENO) == 0;
  spec.relay_signals = request.relay_signals;
  // hb-beat stands transparently between cron and the job: a job that starts something meant
  // to outlive it (a service restart, `nohup worker &`) keeps doing so once it exits. Only its
  // --timeout ends the whole group.
  spec.leftovers = util::ProcessSpec::Leftovers::leave;
  return util::run_process(spec);
}

} // namespace

void check_target_id(const std::string& target)
{
  if (!config::is_valid_target_id(target)) {
    throw UsageError(fmt::format("invalid target id \"{}\" (lowercase letters, digits, '_', "
                                 "'.' or '-', at most 100 characters)",
                                 cap_message(target, 120)));
  }
}

Duration parse_job_timeout(const std::string& text)
{
  if (text.empty()) {
    return Duration(0);
  }
  const auto parsed = util::parse_duration(text);
  if (!parsed || *parsed <= Duration(0)) {
    throw UsageError(fmt::format("--timeout: expected a duration like \"2h\", got \"{}\"", text));
  }
  return *parsed;
}

BeatInput beat_input(BeatStatus status, const std::string& message,
                     const std::vector<std::string>& metrics)
{
  BeatInput beat;
  beat.status = status;
  beat.message = cap_message(message);
  if (metrics.size() > k_max_metrics) {
    throw UsageError(fmt::format("--metric: at most {} metrics per beat, got {}", k_max_metrics,
                                 metrics.size()));
  }
  std::set<std::string> names;
  for (const auto& text : metrics) {
    std::string error;
    auto metric = parse_metric_arg(text, error);
    if (!metric) {
      throw UsageError("--metric: " + error);
    }
    if (!names.insert(metric->name).second) {
      throw UsageError(fmt::format("--metric: \"{}\" is given twice", metric->name));
    }
    beat.metrics.push_back(std::move(*metric));
  }
  return beat;
}

std::string stored_command_line(const std::vector<std::string>& argv)
{
  return cap_message(util::shell_quote(util::mask_arguments(argv).shown), k_max_command_line);
}

RunEnd run_end(const util::ProcessOutcome& outcome, const std::string& output)
{
  RunEnd end;
  end.output_tail = util::tail_lines(output, k_tail_lines, k_tail_bytes);
  end.exit_code = outcome.exit_code;
  end.message = cap_message(outcome.message);
  switch (outcome.kind) {
  case util::ProcessOutcome::Kind::succeeded:
    end.status = JobRunStatus::succeeded;
    break;
  case util::ProcessOutcome::Kind::timed_out:
    end.status = JobRunStatus::timed_out;
    break;
  case util::ProcessOutcome::Kind::failed:
  case util::ProcessOutcome::Kind::cancelled:
    end.status = JobRunStatus::failed;
    break;
  }
  return end;
}

RecordedBeat record_plain_beat(const BeatRequest& request, const Recorder& recorder,
                               const util::Clock& clock)
{
  check_target_id(request.target);
  RecordedBeat out;
  out.target = request.target;
  out.status = request.status;
  const BeatInput beat = beat_input(request.status, request.message, request.metrics);
  auto store = recorder.open_store();
  out.at = clock.now();
  out.write = with_config_fallback(recorder, *store, request.target, out.at, [&] {
    return record_beat(*store, request.target, beat, request.create, out.at);
  });
  return out;
}

WrappedRun run_wrapped(const JobRequest& request, const Recorder& recorder,
                       const util::Clock& clock)
{
  check_target_id(request.target);
  if (request.command.empty()) {
    throw UsageError("no command after \"--\"");
  }
  // Recording must never stand between cron and the job: any failure to record is reported on
  // stderr and the job runs all the same.
  std::unique_ptr<store::Store> store;
  std::optional<JobRun> run;
  try {
    store = recorder.open_store();
    const TimePoint now = clock.now();
    const auto write = with_config_fallback(recorder, *store, request.target, now, [&] {
      return start_run(*store, request.target, stored_command_line(request.command),
                       request.create, now);
    });
    run = write.run;
  } catch (const std::exception& e) {
    util::log_error(fmt::format("{}; running the job anyway, unrecorded", e.what()));
  }

  const util::ProcessResult result = run_job(request);
  WrappedRun out;
  out.outcome = util::outcome_of(result);
  out.exit_code = out.outcome.exit_code;
  if (result.end == util::ProcessResult::End::spawn_failed) {
    util::log_error(result.error);
  } else if (result.end == util::ProcessResult::End::timed_out) {
    util::log_error(fmt::format("job {}: {}", request.target, result.error));
  }
  if (run && store) {
    try {
      auto write = finish_run(*store, *run, run_end(out.outcome, result.output), clock.now());
      out.events = std::move(write.events);
      out.recorded = true;
    } catch (const std::exception& e) {
      util::log_error(fmt::format("could not record the end of job \"{}\": {}", request.target,
                                  e.what()));
    }
  }
  return out;
}

WrappedRun run_unrecorded(const JobRequest& request)
{
  WrappedRun out;
  out.outcome = util::outcome_of(run_job(request));
  out.exit_code = out.outcome.exit_code;
  return out;
}

} // namespace hb::agents
