// SPDX-License-Identifier: MIT
#include "diagnose/diagnose.hpp"

#include "diagnose/parts.hpp"
#include "health/recover_runs.hpp"
#include "pulse/system_state.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <tuple>

namespace hb::diagnose {

std::string_view to_string(Level level)
{
  switch (level) {
  case Level::info: return "info";
  case Level::warning: return "warning";
  case Level::critical: return "critical";
  }
  return "info";
}

std::optional<Level> parse_level(std::string_view text)
{
  for (const Level level : {Level::info, Level::warning, Level::critical}) {
    if (text == to_string(level)) {
      return level;
    }
  }
  return std::nullopt;
}

int Diagnosis::count(Level level) const
{
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == level; }));
}

namespace parts {

std::string when(TimePoint at, TimePoint now)
{
  return fmt::format("{} ({})", util::format_rfc3339(at), util::format_age(at, now));
}

std::string percent(int part, int whole)
{
  if (whole <= 0) {
    return fmt::format("{} of {}", part, whole);
  }
  const double share = 100.0 * part / whole;
  return share > 0 && share < 10 ? fmt::format("{} of {} ({:.1f}%)", part, whole, share)
                                 : fmt::format("{} of {} ({:.0f}%)", part, whole, share);
}

// The crontab line that runs `tool` every `interval`, as docs/quickstart.md installs it.
std::string cron_line(Duration interval, std::string_view tool, const std::string& config_file)
{
  const long long minutes = std::max<long long>(1, interval.count() / 60'000);
  std::string when = "* * * * *";
  if (minutes >= 60 && minutes % 60 == 0 && minutes / 60 < 24) {
    when = fmt::format("0 */{} * * *", minutes / 60);
  } else if (minutes > 1 && minutes < 60) {
    when = fmt::format("*/{} * * * *", minutes);
  }
  const std::string config = config_file.empty() ? "" : fmt::format(" --config {}", config_file);
  return fmt::format("{} {}{}", when, tool, config);
}

std::string scheduler_advice(std::string_view tool, Duration interval, const Inputs& inputs)
{
  return fmt::format(
    "Check that the scheduler runs {0}: with cron, `crontab -l` (as the user that owns the "
    "database) must hold \"{1}\"; with systemd, `systemctl status {0}.timer` and `journalctl -u "
    "{0}.service`; on Kubernetes, the CronJob's last jobs. Run `{0}` once by hand to see it work.",
    tool, cron_line(interval, tool, inputs.config_file));
}

void scheduler(const Context& context, Findings& out)
{
  const auto& pulse = context.overview.pulse;
  const Inputs& inputs = context.inputs;
  const Duration interval = inputs.config != nullptr ? inputs.config->pulse.interval
                            : pulse.last                ? pulse.last->interval
                                                        : Duration(5 * 60'000);
  if (!pulse.last) {
    out.push_back({"scheduler.pulse_never_ran", Level::critical, "", "",
                   "hb-pulse has never run against this database: nothing is being checked",
                   {fmt::format("database {}: no pulse recorded", inputs.database)},
                   scheduler_advice("hb-pulse", interval, inputs)});
  } else if (pulse.last->started_at > inputs.now) {
    // Not stale: dated ahead of now. A clock that was wrong (hb-pulse re-anchors its own times)
    // or runs under HB_NOW in the future.
    out.push_back({"scheduler.clock_skew", Level::warning, "", "",
                   "The last pulse is dated in the future: a clock was wrong",
                   {fmt::format("last pulse started {}, {} ahead of now",
                                util::format_rfc3339(pulse.last->started_at),
                                util::format_duration(pulse.last->started_at - inputs.now))},
                   "Check the clocks of the hosts that run hb-pulse (timedatectl, chrony); "
                   "the next pulse re-anchors the stored times. Whether the scheduler runs "
                   "cannot be judged until then."});
  } else if (pulse.state == pulse::PulseState::warning) {
    Finding f{"scheduler.pulse_stale", Level::critical, "", "",
              "The scheduler is not running hb-pulse: checks have stopped", {},
              scheduler_advice("hb-pulse", pulse.last->interval, inputs)};
    f.evidence.push_back(fmt::format("last scheduled pulse started {}",
                                     when(pulse.last->started_at, inputs.now)));
    f.evidence.push_back(fmt::format("expected every {} (pulse.interval){}",
                                     util::format_duration(pulse.last->interval),
                                     pulse.next_expected
                                       ? "; due since " + util::format_rfc3339(*pulse.next_expected)
                                       : std::string()));
    f.evidence.push_back(fmt::format("the last pulse ended {}{}", to_string(pulse.last->status),
                                     pulse.last->message.empty()
                                       ? std::string()
                                       : fmt::format(": {}", pulse.last->message)));
    out.push_back(std::move(f));
  } else if (pulse.state == pulse::PulseState::error) {
    Finding f{"scheduler.pulse_failed", Level::critical, "", "",
              "The last pulse failed: checks may not have run", {},
              "Run hb-pulse by hand (--verbose) to see the error; its log lines are in the "
              "scheduler's log (journalctl -u hb-pulse.service, or cron's mail)."};
    f.evidence.push_back(fmt::format("pulse {} started {} ended {}", pulse.last->id,
                                     when(pulse.last->started_at, inputs.now),
                                     to_string(pulse.last->status)));
    if (!pulse.last->message.empty()) {
      f.evidence.push_back(pulse.last->message);
    }
    if (!pulse.reason.empty()) {
      f.evidence.push_back(pulse.reason);
    }
    out.push_back(std::move(f));
  }

  // hb-recover is optional: only a run that stopped, or actions configured but never run.
  const auto recover = health::judge_recover_runs(context.store.last_recovery_run(), inputs.now);
  const Duration recover_interval =
    inputs.config != nullptr ? inputs.config->recovery.interval
    : recover.last           ? recover.last->interval
                             : Duration(5 * 60'000);
  if (recover.state == health::RecoverRunsState::stale) {
    out.push_back({"scheduler.recover_stale", Level::critical, "", "",
                   "The scheduler stopped running hb-recover: nothing is being repaired",
                   {fmt::format("last run started {}", when(recover.last->started_at, inputs.now)),
                    fmt::format("expected every {} (recovery.interval)",
                                util::format_duration(recover.last->interval)),
                    recover.reason},
                   scheduler_advice("hb-recover", recover_interval, inputs)});
  } else if (recover.state == health::RecoverRunsState::error) {
    Finding f{"scheduler.recover_failed", Level::critical, "", "",
              "The last run of hb-recover failed", {},
              "Run hb-recover --dry-run by hand to see the error; its log lines are in the "
              "scheduler's log (journalctl -u hb-recover.service)."};
    f.evidence.push_back(fmt::format("run {} started {} ended {}", recover.last->id,
                                     when(recover.last->started_at, inputs.now),
                                     to_string(recover.last->status)));
    if (!recover.last->message.empty()) {
      f.evidence.push_back(recover.last->message);
    }
    out.push_back(std::move(f));
  } else if (recover.state == health::RecoverRunsState::unknown && inputs.config != nullptr) {
    const auto& settings = inputs.config->recovery;
    const bool has_actions =
      !settings.actions.empty() ||
      std::any_of(inputs.config->targets.begin(), inputs.config->targets.end(),
                  [](const config::Target& t) { return !t.recovery.actions.empty(); });
    if (settings.enabled && has_actions) {
      out.push_back({"scheduler.recover_never_ran", Level::critical, "", "",
                     "Recovery actions are configured but hb-recover has never run",
                     {"the config has recovery actions; no run of hb-recover is recorded"},
                     scheduler_advice("hb-recover", recover_interval, inputs)});
    }
  }
}

void database(const Inputs& inputs, store::Store& store, store::DatabaseInfo& info,
              Findings& out)
{
  info = store.database_info(inputs.now, store::CheckIntegrity::no);
  if (inputs.integrity == store::CheckIntegrity::yes || info.size_bytes <= k_integrity_auto_bytes) {
    info = store.database_info(inputs.now, store::CheckIntegrity::yes);
  }
  if (info.integrity && *info.integrity != "ok" && info.backend == "sqlite") {
    out.push_back({"database.corrupt", Level::critical, "", "",
                   "The database's integrity check found problems",
                   {fmt::format("PRAGMA quick_check: {}", *info.integrity),
                    fmt::format("database {} ({})", inputs.database, util::format_bytes(static_cast<std::uintmax_t>(info.size_bytes)))},
                   "Stop the timers, copy the database aside, and recover it (sqlite3 "
                   "heartbeat.db \".recover\" | sqlite3 new.db) or start a new one; check the "
                   "disk (dmesg, smartctl). Keep the damaged copy for analysis."});
  } else if (info.integrity && *info.integrity != "ok") {
    out.push_back({"database.corrupt", Level::critical, "", "",
                   "The database's integrity check found problems",
                   {fmt::format("reading every row: {}", *info.integrity),
                    fmt::format("database {} ({})", inputs.database, util::format_bytes(static_cast<std::uintmax_t>(info.size_bytes)))},
                   "Stop the timers and have the database administrator look at the server's log "
                   "and the storage under it; restore from a backup (pg_dump) or copy what still "
                   "reads into a new database."});
  }
  if (info.wal_bytes && *info.wal_bytes > k_wal_large_bytes &&
      *info.wal_bytes > info.size_bytes / 2) {
    out.push_back({"database.wal_large", Level::warning, "", "",
                   "The write-ahead log is large: a reader has kept checkpoints from finishing",
                   {fmt::format("WAL {} beside a {} database",
                                util::format_bytes(static_cast<std::uintmax_t>(*info.wal_bytes)),
                                util::format_bytes(static_cast<std::uintmax_t>(info.size_bytes)))},
                   "Look for a long-running reader (an open sqlite3 shell, a backup) and end "
                   "it; the next write checkpoints the log."});
  }
  if (inputs.config != nullptr && info.oldest_execution) {
    const auto& retention = inputs.config->retention;
    const TimePoint due = inputs.now - retention.raw - retention.every - std::chrono::hours(24);
    if (*info.oldest_execution < due) {
      Finding f{"database.prune_overdue", Level::warning, "", "",
                "History older than the retention window has not been pruned", {},
                "hb-pulse prunes at most once a day after its checks: make sure it runs (and "
                "finishes within its deadline); its log says \"pruned\" when it does."};
      f.evidence.push_back(fmt::format("oldest execution {}; retention.raw {}",
                                       when(*info.oldest_execution, inputs.now),
                                       util::format_duration(retention.raw)));
      f.evidence.push_back(info.last_prune
                             ? fmt::format("last complete prune {}", when(*info.last_prune, inputs.now))
                             : std::string("no complete prune recorded"));
      out.push_back(std::move(f));
    }
  }
}

void notifications(const Context& context, Findings& out)
{
  if (!context.inputs.target.empty()) {
    return;  // channels serve every target
  }
  const TimePoint now = context.inputs.now;
  for (const ChannelHealth& channel : context.store.channel_health(context.since)) {
    if (channel.failed > 0) {
      Finding f{"notify.channel_failing",
                channel.sent == 0 ? Level::critical : Level::warning, "", "",
                fmt::format("Channel \"{}\" keeps failing to deliver", channel.channel), {},
                "Fix the channel's URL, token or server (the error says which); hb-status "
                "shows each channel's deliveries. Failed notifications stay in the database."};
      f.evidence.push_back(fmt::format("in the window: {} sent, {} failed after every retry",
                                       channel.sent, channel.failed));
      if (!channel.last_error.empty()) {
        f.evidence.push_back(fmt::format(
          "last error{}: {}",
          channel.last_error_at ? fmt::format(" {}", when(*channel.last_error_at, now)) : "",
          channel.last_error));
      }
      out.push_back(std::move(f));
    }
    if (channel.oldest_pending && now - *channel.oldest_pending > std::chrono::hours(1)) {
      Finding f{"notify.backlog", Level::warning, "", "",
                fmt::format("Notifications for \"{}\" have waited over an hour", channel.channel),
                {}, "Held notifications wait for quiet hours to end; pending ones for hb-pulse "
                    "or hb-notify to deliver them: check that they run and that the channel "
                    "answers."};
      f.evidence.push_back(fmt::format("{} pending, {} held in quiet hours; oldest since {}",
                                       channel.pending, channel.held,
                                       when(*channel.oldest_pending, now)));
      if (!channel.last_error.empty()) {
        f.evidence.push_back(fmt::format("last error: {}", channel.last_error));
      }
      out.push_back(std::move(f));
    }
  }
}

} // namespace parts

std::optional<long long> growth_per_day(const store::DatabaseInfo& info)
{
  if (info.rows <= 0) {
    return std::nullopt;
  }
  return static_cast<long long>(static_cast<double>(info.size_bytes) *
                                static_cast<double>(info.rows_last_day) /
                                static_cast<double>(info.rows));
}

Diagnosis diagnose(const Inputs& inputs)
{
  Diagnosis diagnosis;
  diagnosis.now = inputs.now;
  diagnosis.window = inputs.window;
  diagnosis.target = inputs.target;
  diagnosis.threshold = inputs.threshold;
  diagnosis.config_file = inputs.config_file;
  diagnosis.database = inputs.database;
  diagnosis.database_exists = inputs.store != nullptr;

  std::vector<Finding> all;
  parts::configuration(inputs, all);
  if (inputs.store == nullptr) {
    if (!inputs.target.empty()) {
      throw DataError(fmt::format("unknown target \"{}\": database {} does not exist (has "
                                  "hb-pulse run?)",
                                  inputs.target, inputs.database));
    }
    const Duration interval =
      inputs.config != nullptr ? inputs.config->pulse.interval : Duration(5 * 60'000);
    all.push_back({"scheduler.pulse_never_ran", Level::critical, "", "",
                   "hb-pulse has never run: there is no database yet",
                   {fmt::format("database {} does not exist", inputs.database)},
                   parts::scheduler_advice("hb-pulse", interval, inputs)});
  } else {
    store::Store& store = *inputs.store;
    // Each part timed in the debug log (-v -v): what a slow diagnosis spends its time on. A
    // part that cannot read what it needs (a damaged page) becomes a finding; the others run.
    auto timed = [&](const char* name, auto&& part) {
      const auto started = std::chrono::steady_clock::now();
      try {
        part();
      } catch (const StoreError& e) {
        all.push_back({"database.read_error", Level::critical, "", "",
                       fmt::format("The database could not be read ({})", name),
                       {e.what()},
                       "Run hb-diagnose --integrity to check the file; see database.corrupt "
                       "for what to do with a damaged database."});
      }
      util::log_debug(fmt::format(
        "diagnose: {} took {}", name,
        util::format_duration(std::chrono::duration_cast<Duration>(
          std::chrono::steady_clock::now() - started))));
    };
    std::optional<status::StatusReport> overview;
    timed("the overview", [&] { overview = status::collect(store, inputs.now, inputs.database); });
    if (overview) {
      if (!inputs.target.empty() &&
          std::none_of(overview->targets.begin(), overview->targets.end(),
                       [&](const status::TargetRow& row) { return row.info.id == inputs.target; })) {
        throw DataError(fmt::format("unknown target \"{}\" (hb-status lists the targets)",
                                    inputs.target));
      }
      diagnosis.targets_examined =
        inputs.target.empty() ? static_cast<int>(overview->targets.size()) : 1;
      const parts::Context context{inputs, store, *overview, inputs.now - inputs.window};
      if (inputs.target.empty()) {
        timed("the scheduler", [&] { parts::scheduler(context, all); });
      }
      timed("failing targets", [&] { parts::failing_targets(context, all); });
      timed("shared causes", [&] { parts::shared_causes(context, all); });
      timed("latency", [&] { parts::latency(context, all); });
      timed("flapping", [&] { parts::flapping(context, all); });
      timed("recovery", [&] { parts::recovery(context, all); });
      timed("notifications", [&] { parts::notifications(context, all); });
    }
    if (inputs.target.empty()) {
      store::DatabaseInfo info;
      timed("the database's figures", [&] {
        parts::database(inputs, store, info, all);
        diagnosis.database_info = info;
      });
    }
  }

  for (auto& finding : all) {
    if (finding.severity >= inputs.threshold) {
      diagnosis.findings.push_back(std::move(finding));
    }
  }
  std::stable_sort(diagnosis.findings.begin(), diagnosis.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::tuple(-static_cast<int>(a.severity), a.id, a.target, a.check) <
                            std::tuple(-static_cast<int>(b.severity), b.id, b.target, b.check);
                   });
  diagnosis.exit_code = diagnosis.count(Level::critical) > 0  ? ExitCode::critical
                        : diagnosis.count(Level::warning) > 0 ? ExitCode::warning
                                                              : ExitCode::ok;
  return diagnosis;
}

} // namespace hb::diagnose
