// SPDX-License-Identifier: MIT
#pragma once

#include "checks/check.hpp"
#include "checks/registry.hpp"
#include "core/command_spec.hpp"
#include "core/model/active_hours.hpp"
#include "core/model/notify.hpp"
#include "core/model/recovery.hpp"
#include "core/model/retention.hpp"
#include "core/types.hpp"
#include "schedule/cron.hpp"
#include "schedule/tasks.hpp"
#include "util/redact.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hb::config {

// Active hours are a model record (core/model/active_hours.hpp): the health judgement reads them
// too, and it does not depend on the config.
using hb::ActiveHours;
using hb::parse_clock_time;

// SPEC §3 `pulse`.
struct PulseSettings {
  Duration interval{5 * 60'000};   // how often the scheduler runs hb-pulse
  Duration deadline{120'000};      // the whole pulse must finish within this
  int concurrency = 32;            // checks running at once
  int task_concurrency = 4;        // scheduled tasks running at once
  // A dead man's switch (Healthchecks-style) pinged after every pulse: `ping_url` on success,
  // `ping_url`/fail when the pulse failed, and `ping_url`/start first when ping_start is set.
  std::string ping_url;            // "" for none; may hold a secret token (resolved, redacted)
  bool ping_start = false;
};

// SPEC §3 `defaults`, inherited by every target that does not set its own value.
struct TargetDefaults {
  Duration interval{30 * 60'000};
  std::optional<ActiveHours> active_hours;  // none: always active
  std::string timezone = "UTC";
  Duration stale_after{24 * 3600'000};
  Duration new_target_grace{0};
};

// How a target that pushes beats with hb-beat is watched (SPEC §2 "Agent heartbeats", "Job
// heartbeats"). Agents (any kind but job) use every/grace and the state machine thresholds; jobs
// use every or schedule, grace and max_runtime.
struct Heartbeat {
  // Agents: the beat interval (default 30s). Jobs: the expected time between runs (0: none,
  // e.g. when `schedule` is used or runs are irregular).
  Duration every{0};
  // How late a beat (agents) or the start of an expected run (jobs) may be before it counts as
  // missed. Agents: a tenth of `every`; jobs: 1h, or the job's period when that is shorter.
  Duration grace{0};
  int degraded_after = 1;  // missed beats before an agent is degraded
  int offline_after = 3;   // missed beats before it is offline
  int recover_after = 2;   // healthy beats in a row that bring it back online
  Duration extended_offline_after{5 * 60'000};  // offline this long: issue extended_offline
  int flapping_transitions = 5;                 // this many state changes...
  Duration flapping_window{3600'000};           // ...within this window: issue flapping
  // Jobs: when runs are expected (5-field cron in the target's timezone), instead of `every`.
  std::shared_ptr<const schedule::CronExpr> schedule;
  Duration max_runtime{0};  // jobs: a run still going after this is hung (0: no limit)
};

// A recovery action (SPEC §4.3): a program run without a shell. Its argv may hold the
// placeholders ${target.id}, ${target.name}, ${check.name} and ${issue}, filled in when it runs
// (recovery::expand_action); other ${VAR}s were resolved when the config was read.
struct RecoveryAction {
  CommandSpec command;
  Duration timeout{120'000};
  std::string source;  // "heartbeat.json: recovery.actions.failing"
};

// `actions`: by issue type, by failing check name and by failure phase (most specific wins:
// check, then phase, then issue type).
struct RecoveryActions {
  std::map<RecoveryIssue, RecoveryAction> issues;
  std::map<std::string, RecoveryAction> checks;
  std::map<std::string, RecoveryAction> phases;
  bool empty() const { return issues.empty() && checks.empty() && phases.empty(); }
};

// A target's own `recovery` object: it opts out, or overrides keys of the top-level one.
struct TargetRecovery {
  bool enabled = true;
  std::optional<Duration> verify_after;
  RecoveryActions actions;  // merged key by key over the top-level actions
};

// SPEC §4.3, the top-level `recovery` object.
struct RecoverySettings {
  bool enabled = true;
  Duration interval{5 * 60'000};   // how often the scheduler runs hb-recover (its staleness)
  int concurrency = 5;             // targets worked on at once
  double max_failure_rate = 0.5;   // above this over failure_window: high_error_rate
  Duration failure_window{3600'000};
  int min_executions = 3;          // executions in the window before the rate counts
  Duration verify_after{30'000};   // after an action, wait this long before re-checking
  Duration backoff{60'000};        // the first retry delay, doubled per failed attempt...
  Duration backoff_max{30 * 60'000};  // ...up to this (full jitter below the cap)
  int escalate_after = 2;          // failed attempts before one escalation opens
  int max_attempts = 5;            // attempts within attempts_window before recovery suspends
  Duration attempts_window{6 * 3600'000};
  int shared_cause_min = 3;        // this many targets failing alike: one shared cause
  std::vector<std::string> escalation_channels;
  std::optional<RecoveryAction> escalation_command;  // the escalation JSON on stdin
  RecoveryActions actions;
};

struct Target {
  std::string id;     // slug [a-z0-9_.-]+
  std::string name;
  TargetKind kind = TargetKind::service;
  std::vector<std::string> tags;
  bool paused = false;
  Duration interval{30 * 60'000};
  std::optional<ActiveHours> active_hours;
  std::string timezone = "UTC";
  Duration stale_after{24 * 3600'000};
  Duration new_target_grace{0};
  std::vector<checks::CheckDef> checks;
  // Set for targets that push beats: every agent or job, and any target with a "heartbeat" block.
  std::optional<Heartbeat> heartbeat;
  TargetRecovery recovery;
  std::string source;  // where it was defined: "heartbeat.json: targets[3]"
};

// A scheduled task (SPEC §2 "Schedule"): a program hb-pulse runs when its cron expression is due.
// A scheduled task: its timing (cron, timezone, retries, catch-up; schedule::TaskTiming, what
// schedule::decide_task reads) and what it runs.
struct Schedule : schedule::TaskTiming {
  std::string name;  // slug [a-z0-9_.-]+, unique
  std::vector<std::string> command;  // argv, no shell
  std::map<std::string, std::string> env;
  std::string working_dir;
  std::string description;  // the command for people, secrets hidden
  Duration timeout{10 * 60'000};
  std::string target;    // the target it belongs to, if any
  std::string source;    // "heartbeat.json: schedules[2]"
};

// A notification channel as configured (SPEC §2 "Notification"): its policy, which the database
// keeps, and how to reach it, secrets included, which never leaves the process.
struct Channel {
  ChannelPolicy policy;
  std::string api_url;  // Slack, Twilio, PagerDuty: the provider's base URL ("" for the real one)
  // slack: webhook_url; webhook: url
  std::string url;
  // webhook: the HMAC-SHA256 key of X-Heartbeat-Signature ("" for none), extra headers
  std::string secret;
  std::vector<std::pair<std::string, std::string>> headers;
  // email: smtp:// (STARTTLS per `starttls`) or smtps:// (implicit TLS)
  enum class StartTls { required, optional, off };
  std::string smtp_url;
  StartTls starttls = StartTls::required;
  std::string username;
  std::string password;
  std::string ca_file;
  bool insecure = false;  // do not verify the server's certificate
  // email, sms, whatsapp: sender and recipients (phone numbers in E.164 for Twilio)
  std::string from;
  std::vector<std::string> to;
  // sms, whatsapp (Twilio)
  std::string account_sid;
  std::string auth_token;
  // pagerduty (Events API v2)
  std::string routing_key;
  // command: argv, no shell; the event JSON on stdin; policy.timeout bounds it
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string source;  // "heartbeat.json: channels.ops-slack"
};

struct Config {
  std::filesystem::path file;  // the main config file
  std::string database;        // as configured, resolved against the config file's directory
  PulseSettings pulse;
  TargetDefaults defaults;
  std::vector<Target> targets;
  std::vector<Schedule> schedules;
  // `channels` by name (the order of the file), and the routing policy: channel policies,
  // `notify` rules, `maintenance` windows, and each target's quiet hours, repeat_every,
  // depends_on and impact (targets without their own settings take `defaults`).
  std::vector<Channel> channels;
  NotifyPolicy notify;
  // `recovery` (hb-recover); its escalation channels are also in notify.escalation_channels.
  RecoverySettings recovery;
  // `retention`: how long history is kept (hb-pulse prunes at most once a day).
  Retention retention;
  // With RunDiscovery::keep_going: one message per discovery command that failed (could not
  // start, exited non-zero, was killed or timed out); the targets it would have listed are absent.
  // Already redacted.
  std::vector<std::string> discovery_failures;
  // Knows every secret value the config resolved (${VAR}, {"env"}, {"file"}, in targets, check
  // sets, vars, schedules and discovery, and the values of --password-like options): the one
  // redactor that every message and text heartbeat prints or stores passes through (check
  // results in the pulse, task runs, discovery failures, config errors).
  util::Redactor redactor;

  // Returns the target called `id`, or nullptr.
  const Target* find_target(std::string_view id) const;
  // Returns the channel called `name`, or nullptr.
  const Channel* find_channel(std::string_view name) const;
};

// keep_going: run discovery, but record a command that fails in Config::discovery_failures
// instead of throwing (hb-pulse: the static targets still run).
enum class RunDiscovery { no, yes, keep_going };

struct LoadOptions {
  RunDiscovery discovery = RunDiscovery::yes;
  const checks::Registry* registry = nullptr;  // nullptr: checks::Registry::builtin()
};

// Loads, validates and resolves the config at `path`: comments, includes, check sets, defaults,
// discovery, secrets. Throws hb::ConfigError (exit 78) naming file, JSON path, expectation and
// the value found; hb::TemporaryError (exit 75) when a discovery command fails or times out.
Config load(const std::filesystem::path& path, const LoadOptions& options = {});

// Same as load() for config text that is not on disk; `name` is used in messages and relative
// paths resolve against the current directory. For tests.
Config load_from_string(const std::string& text, const std::string& name,
                        const LoadOptions& options = {});

// Reads only the `database` setting of the config at `path` (resolved against the file's folder),
// validating nothing else: read-only tools use it so that they work even where the secrets the
// checks need are not in their environment. Returns "" when the setting is absent; throws
// hb::ConfigError when the file cannot be read or is not JSON.
std::string read_database_setting(const std::filesystem::path& path);

// Finds the config file: `explicit_path` (from --config), else $HB_CONFIG, else
// ./heartbeat.json, else /etc/heartbeat/heartbeat.json. Returns std::nullopt when none exists
// and none was asked for explicitly; throws hb::ConfigError when an explicit one is missing.
std::optional<std::filesystem::path> locate(const std::string& explicit_path);

// Returns true when `id` is a valid target id: [a-z0-9_.-]+, at most 100 characters.
bool is_valid_target_id(std::string_view id);

// Returns true when tzdata knows `name` ("America/New_York", "UTC").
bool is_valid_timezone(const std::string& name);

} // namespace hb::config
