// SPDX-License-Identifier: MIT
// The notification settings of the config: `channels`, `notify`, `maintenance`, the per-target
// keys and the pulse's ping (lib/config/notify.cpp).
#include "config/config.hpp"

#include "core/errors.hpp"
#include "support/test_helpers.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using hb::ChannelType;
using hb::Duration;
using hb::EventLevel;
using hb::EventType;
using hb::TargetKind;
using hb::config::Channel;
using hb::config::Config;
using hb::config::LoadOptions;
using hb::config::RunDiscovery;
using hb::test::ScopedEnv;

Config load_text(const std::string& text, RunDiscovery discovery = RunDiscovery::no)
{
  LoadOptions options;
  options.discovery = discovery;
  return hb::config::load_from_string(text, "heartbeat.json", options);
}

// The message load_text() throws, or "no error".
std::string error_of(const std::string& text, RunDiscovery discovery = RunDiscovery::no)
{
  try {
    load_text(text, discovery);
  } catch (const hb::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

hb::TimePoint at(const char* text)
{
  return *hb::util::parse_rfc3339(text);
}

constexpr Duration hours(int n)
{
  return Duration(n * 3'600'000LL);
}

// The contract of issue 12, as documented.
constexpr const char* k_contract = R"({
  "pulse": {"ping_url": "https://hc.example.com/ping/${HB_TEST_PING_TOKEN}", "ping_start": true},
  "targets": [
    {"id": "payments", "tags": ["prod"]},
    {"id": "acme-1", "kind": "tenant"},
    {"id": "db", "tags": ["db"]}
  ],
  "channels": {
    "ops-slack": { "type": "slack", "webhook_url": "${SLACK_WEBHOOK}" },
    "hook":      { "type": "webhook", "url": "https://ops.example.com/hb", "secret": {"env": "HOOK_SECRET"},
                   "headers": {"X-Team": "core"} },
    "mail":      { "type": "email", "smtp_url": "smtp://mail.example.com:587", "starttls": "required",
                   "username": "hb", "password": {"env": "SMTP_PASSWORD"},
                   "from": "heartbeat@example.com", "to": ["ops@example.com"] },
    "sms":       { "type": "sms", "account_sid": "AC123", "auth_token": {"env": "TWILIO_TOKEN"},
                   "from": "+15550001111", "to": ["+15552223333"] },
    "wa":        { "type": "whatsapp", "account_sid": "AC123", "auth_token": {"env": "TWILIO_TOKEN"},
                   "from": "+15550001111", "to": ["+15552223333"] },
    "pd":        { "type": "pagerduty", "routing_key": {"env": "PD_ROUTING_KEY"} },
    "runbook":   { "type": "command", "command": ["/usr/local/bin/on-event"] },
    "board":     { "type": "dashboard" }
  },
  "notify": [
    { "channels": ["ops-slack", "board"] },
    { "channels": ["pd", "sms"], "min_severity": "alert", "tags": ["prod"] },
    { "channels": ["mail"], "targets": ["acme-*"], "events": ["failing", "recovered"] }
  ],
  "maintenance": [
    { "name": "sunday-patching", "cron": "0 2 * * 0", "duration": "2h", "timezone": "Europe/Berlin", "tags": ["db"] },
    { "name": "migration", "start": "2026-03-01T22:00:00Z", "end": "2026-03-02T01:00:00Z", "targets": ["payments"] }
  ]
})";

struct ContractEnv {
  ScopedEnv slack{"SLACK_WEBHOOK", "https://hooks.slack.example/services/T0/B0/slack-s3cret"};
  ScopedEnv hook{"HOOK_SECRET", "hook-s3cret"};
  ScopedEnv smtp{"SMTP_PASSWORD", "smtp-s3cret"};
  ScopedEnv twilio{"TWILIO_TOKEN", "twilio-s3cret"};
  ScopedEnv pd{"PD_ROUTING_KEY", "pd-s3cret"};
  ScopedEnv ping{"HB_TEST_PING_TOKEN", "ping-s3cret"};
};

// A config with the channels `channels` (the JSON object's body) and `rest` (more top-level keys).
std::string with_channels(const std::string& channels, const std::string& rest = "")
{
  return R"({"channels": {)" + channels + "}" + (rest.empty() ? "" : ", " + rest) + "}";
}

} // namespace

TEST_CASE("load: notification contract")
{
  ContractEnv env;
  const Config config = load_text(k_contract);

  SECTION("channels, in the order of the file")
  {
    std::vector<std::string> names;
    for (const auto& channel : config.channels) {
      names.push_back(channel.policy.name);
    }
    CHECK(names
          == std::vector<std::string>{"ops-slack", "hook", "mail", "sms", "wa", "pd", "runbook",
                                      "board"});
    REQUIRE(config.notify.channels.size() == 8);
    for (std::size_t i = 0; i < names.size(); ++i) {
      CHECK(config.notify.channels[i].name == names[i]);
    }
    CHECK(config.notify.find_channel("pd")->type == ChannelType::pagerduty);
  }

  SECTION("every field lands where expected")
  {
    const Channel& slack = *config.find_channel("ops-slack");
    CHECK(slack.policy.type == ChannelType::slack);
    CHECK(slack.url == "https://hooks.slack.example/services/T0/B0/slack-s3cret");
    CHECK(slack.source == "heartbeat.json: channels.ops-slack");

    const Channel& hook = *config.find_channel("hook");
    CHECK(hook.policy.type == ChannelType::webhook);
    CHECK(hook.url == "https://ops.example.com/hb");
    CHECK(hook.secret == "hook-s3cret");
    CHECK(hook.headers == std::vector<std::pair<std::string, std::string>>{{"X-Team", "core"}});

    const Channel& mail = *config.find_channel("mail");
    CHECK(mail.policy.type == ChannelType::email);
    CHECK(mail.smtp_url == "smtp://mail.example.com:587");
    CHECK(mail.starttls == Channel::StartTls::required);
    CHECK(mail.username == "hb");
    CHECK(mail.password == "smtp-s3cret");
    CHECK(mail.from == "heartbeat@example.com");
    CHECK(mail.to == std::vector<std::string>{"ops@example.com"});
    CHECK(mail.ca_file.empty());
    CHECK_FALSE(mail.insecure);

    for (const char* name : {"sms", "wa"}) {
      const Channel& twilio = *config.find_channel(name);
      CHECK(twilio.account_sid == "AC123");
      CHECK(twilio.auth_token == "twilio-s3cret");
      CHECK(twilio.from == "+15550001111");
      CHECK(twilio.to == std::vector<std::string>{"+15552223333"});
    }
    CHECK(config.find_channel("sms")->policy.type == ChannelType::sms);
    CHECK(config.find_channel("wa")->policy.type == ChannelType::whatsapp);

    CHECK(config.find_channel("pd")->routing_key == "pd-s3cret");
    CHECK(config.find_channel("runbook")->command
          == std::vector<std::string>{"/usr/local/bin/on-event"});
    CHECK(config.find_channel("board")->policy.type == ChannelType::dashboard);
    CHECK(config.find_channel("nope") == nullptr);

    CHECK(config.pulse.ping_url == "https://hc.example.com/ping/ping-s3cret");
    CHECK(config.pulse.ping_start);
  }

  SECTION("channel policies take the defaults")
  {
    for (const auto& policy : config.notify.channels) {
      CHECK_FALSE(policy.quiet_hours);
      CHECK(policy.max_attempts == 10);
      CHECK(policy.retry_backoff == Duration(30'000));
      CHECK(policy.retry_backoff_max == hours(1));
      CHECK(policy.timeout == Duration(10'000));
      CHECK(policy.fallback.empty());
      CHECK(policy.group_threshold == 5);
    }
    CHECK(config.find_channel("ops-slack")->api_url.empty());
  }

  SECTION("rules")
  {
    const auto& rules = config.notify.rules;
    REQUIRE(rules.size() == 3);
    CHECK(rules[0].channels == std::vector<std::string>{"ops-slack", "board"});
    CHECK(rules[0].targets.empty());
    CHECK(rules[0].tags.empty());
    CHECK(rules[0].kinds.empty());
    CHECK(rules[0].events.empty());
    CHECK(rules[0].min_severity == EventLevel::info);
    CHECK(rules[0].source == "heartbeat.json: notify[0]");
    CHECK(rules[1].channels == std::vector<std::string>{"pd", "sms"});
    CHECK(rules[1].min_severity == EventLevel::alert);
    CHECK(rules[1].tags == std::vector<std::string>{"prod"});
    CHECK(rules[1].source == "heartbeat.json: notify[1]");
    CHECK(rules[2].channels == std::vector<std::string>{"mail"});
    CHECK(rules[2].targets == std::vector<std::string>{"acme-*"});
    CHECK(rules[2].events == std::vector<EventType>{EventType::failing, EventType::recovered});
  }

  SECTION("maintenance windows")
  {
    const auto& windows = config.notify.maintenance;
    REQUIRE(windows.size() == 2);
    CHECK(windows[0].name == "sunday-patching");
    CHECK(windows[0].cron == "0 2 * * 0");
    CHECK(windows[0].duration == hours(2));
    CHECK(windows[0].timezone == "Europe/Berlin");
    CHECK(windows[0].tags == std::vector<std::string>{"db"});
    CHECK(windows[0].targets.empty());
    CHECK_FALSE(windows[0].start);
    CHECK(windows[1].name == "migration");
    CHECK(windows[1].cron.empty());
    CHECK(windows[1].start == at("2026-03-01T22:00:00Z"));
    CHECK(windows[1].end == at("2026-03-02T01:00:00Z"));
    CHECK(windows[1].targets == std::vector<std::string>{"payments"});
  }

  SECTION("targets get the built-in notification defaults")
  {
    CHECK(config.notify.targets.size() == 3);
    for (const auto& target : config.targets) {
      const auto& settings = config.notify.settings_of(target.id);
      CHECK_FALSE(settings.quiet_hours);
      CHECK(settings.repeat_every == hours(4));
      CHECK(settings.depends_on.empty());
      CHECK(settings.impact == 1.0);
    }
  }

  SECTION("every secret is known to the redactor")
  {
    CHECK(config.redactor.redact(
            "https://hooks.slack.example/services/T0/B0/slack-s3cret hook-s3cret smtp-s3cret "
            "twilio-s3cret pd-s3cret ping-s3cret hb")
          == "*** *** *** *** *** *** hb");
  }
}

TEST_CASE("load: channels")
{
  SECTION("every common key")
  {
    const Config config = load_text(with_channels(R"(
      "primary": {"type": "webhook", "url": "https://a.example.com", "api_url": "http://127.0.0.1:8080",
                  "quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Europe/Berlin",
                  "max_attempts": 3, "retry_backoff": "1m", "retry_backoff_max": "10m",
                  "timeout": "5s", "fallback": "backup", "group_threshold": 2},
      "backup": {"type": "dashboard"})"));
    const auto& policy = config.find_channel("primary")->policy;
    REQUIRE(policy.quiet_hours);
    CHECK(policy.quiet_hours->hours.text() == "22:00-07:00");
    CHECK(policy.quiet_hours->timezone == "Europe/Berlin");
    CHECK(policy.max_attempts == 3);
    CHECK(policy.retry_backoff == Duration(60'000));
    CHECK(policy.retry_backoff_max == Duration(600'000));
    CHECK(policy.timeout == Duration(5'000));
    CHECK(policy.fallback == "backup");
    CHECK(policy.group_threshold == 2);
    CHECK(config.find_channel("primary")->api_url == "http://127.0.0.1:8080");
    CHECK(config.notify.find_channel("primary")->fallback == "backup");
  }

  SECTION("quiet hours default to UTC")
  {
    const Config config = load_text(with_channels(
      R"("b": {"type": "dashboard", "quiet_hours": {"start": "22:00", "end": "24:00"}})"));
    CHECK(config.find_channel("b")->policy.quiet_hours->timezone == "UTC");
  }

  SECTION("the order of the file, not of the alphabet")
  {
    const Config config = load_text(with_channels(
      R"(/* first */ "zeta": {"type": "dashboard"}, "alpha": {"type": "dashboard"}, "mid": {"type": "dashboard"})"));
    REQUIRE(config.channels.size() == 3);
    CHECK(config.channels[0].policy.name == "zeta");
    CHECK(config.channels[1].policy.name == "alpha");
    CHECK(config.channels[2].policy.name == "mid");
  }

  SECTION("email options")
  {
    const Config config = load_text(with_channels(R"(
      "m1": {"type": "email", "smtp_url": "smtps://mail.example.com", "from": "hb@example.com",
             "to": ["a@example.com", "b@example.com"], "ca_file": "/etc/ssl/ca.pem", "insecure": true},
      "m2": {"type": "email", "smtp_url": "smtp://mail.example.com", "from": "hb@example.com",
             "to": ["a@example.com"], "starttls": "optional"},
      "m3": {"type": "email", "smtp_url": "smtp://mail.example.com", "from": "hb@example.com",
             "to": ["a@example.com"], "starttls": "off"})"));
    const Channel& m1 = *config.find_channel("m1");
    CHECK(m1.starttls == Channel::StartTls::required);
    CHECK(m1.ca_file == "/etc/ssl/ca.pem");
    CHECK(m1.insecure);
    CHECK(m1.to.size() == 2);
    CHECK(config.find_channel("m2")->starttls == Channel::StartTls::optional);
    CHECK(config.find_channel("m3")->starttls == Channel::StartTls::off);
  }

  SECTION("command channels take env; literal secrets are redacted too")
  {
    ScopedEnv token("HB_TEST_CHANNEL_TOKEN", "cmd-t0ken");
    const Config config = load_text(with_channels(R"(
      "run": {"type": "command", "command": ["/usr/local/bin/on-event", "--fast"],
              "env": {"TOKEN": "${HB_TEST_CHANNEL_TOKEN}", "LC_ALL": "C"}},
      "pd": {"type": "pagerduty", "routing_key": "literal-routing-key"},
      "hook": {"type": "webhook", "url": "https://x.example.com/${HB_TEST_CHANNEL_TOKEN}"})"));
    const Channel& run = *config.find_channel("run");
    CHECK(run.command == std::vector<std::string>{"/usr/local/bin/on-event", "--fast"});
    CHECK(run.env.at("TOKEN") == "cmd-t0ken");
    CHECK(run.env.at("LC_ALL") == "C");
    CHECK(config.find_channel("hook")->url == "https://x.example.com/cmd-t0ken");
    CHECK(config.redactor.redact("cmd-t0ken literal-routing-key https://x.example.com/")
          == "*** *** https://x.example.com/");
  }

  SECTION("errors")
  {
    CHECK(error_of(with_channels(R"("x": {"type": "teams"})"))
          == R"(heartbeat.json: channels.x.type: unknown channel type "teams" (known types: slack, webhook, email, sms, whatsapp, pagerduty, command, dashboard))");
    CHECK(error_of(with_channels(R"("x": {"type": "slak", "webhook_url": "https://x"})"))
          == R"(heartbeat.json: channels.x.type: unknown channel type "slak" (did you mean "slack"?) (known types: slack, webhook, email, sms, whatsapp, pagerduty, command, dashboard))");
    CHECK(error_of(with_channels(R"("x": {"webhook_url": "https://x"})"))
          == R"(heartbeat.json: channels.x: missing "type" (one of slack, webhook, email, sms, whatsapp, pagerduty, command, dashboard))");
    CHECK(error_of(with_channels(R"("Ops Slack": {"type": "dashboard"})"))
          == R"(heartbeat.json: channels.Ops Slack: invalid channel name "Ops Slack" (use lowercase letters, digits, '_', '.' or '-', at most 100 characters))");
    CHECK(error_of(R"({"channels": ["a"]})")
          == R"(heartbeat.json: channels: expected an object of named channels like {"ops-slack": {"type": "slack", ...}}, got ["a"])");
    CHECK(error_of(with_channels(R"("x": {"type": "slack", "webhok_url": "https://x"})"))
          == R"(heartbeat.json: channels.x.webhok_url: unknown key "webhok_url" (did you mean "webhook_url"?))");
    CHECK(error_of(with_channels(R"("x": {"type": "slack", "webhook_url": "https://x", "url": "https://y"})"))
          == R"(heartbeat.json: channels.x.url: unknown key "url")");
    CHECK(error_of(with_channels(R"("x": {"type": "slack"})"))
          == R"(heartbeat.json: channels.x: missing "webhook_url" (required for slack channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "webhook"})"))
          == R"(heartbeat.json: channels.x: missing "url" (required for webhook channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "email", "smtp_url": "smtp://m", "to": ["a@b"]})"))
          == R"(heartbeat.json: channels.x: missing "from" (required for email channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "sms", "account_sid": "AC1", "auth_token": "t", "from": "+15550001111"})"))
          == R"(heartbeat.json: channels.x: missing "to" (required for sms channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "whatsapp", "auth_token": "t", "from": "+1555", "to": ["+1555"]})"))
          == R"(heartbeat.json: channels.x: missing "account_sid" (required for whatsapp channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "pagerduty"})"))
          == R"(heartbeat.json: channels.x: missing "routing_key" (required for pagerduty channels))");
    CHECK(error_of(with_channels(R"("x": {"type": "command"})"))
          == R"(heartbeat.json: channels.x: missing "command" (an argv array like ["/usr/local/bin/on-event"]))");
    CHECK(error_of(with_channels(R"("x": {"type": "command", "command": []})"))
          == R"(heartbeat.json: channels.x.command: expected a non-empty argv array like ["/usr/local/bin/on-event"], got [])");
    CHECK(error_of(with_channels(R"("x": {"type": "email", "smtp_url": "http://m", "from": "a@b", "to": ["a@b"]})"))
          == R"(heartbeat.json: channels.x.smtp_url: expected an smtp:// or smtps:// URL like "smtp://mail.example.com:587", got "http://m")");
    CHECK(error_of(with_channels(R"("x": {"type": "email", "smtp_url": "smtp://m", "from": "a@b", "to": []})"))
          == R"(heartbeat.json: channels.x.to: expected a non-empty array of email addresses like ["ops@example.com"], got [])");
    CHECK(error_of(with_channels(R"("x": {"type": "email", "smtp_url": "smtp://m", "from": "a@b", "to": ["a@b"], "starttls": "yes"})"))
          == R"(heartbeat.json: channels.x.starttls: expected "required", "optional" or "off", got "yes")");
    CHECK(error_of(with_channels(R"("x": {"type": "sms", "account_sid": "AC1", "auth_token": "t", "from": "+15550001111", "to": ["5552223333"]})"))
          == R"(heartbeat.json: channels.x.to[0]: expected a phone number in E.164 format like "+15552223333", got "5552223333")");
    CHECK(error_of(with_channels(R"("x": {"type": "webhook", "url": "ops.example.com"})"))
          == R"(heartbeat.json: channels.x.url: expected an http:// or https:// URL, got "ops.example.com")");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "api_url": "ftp://x"})"))
          == R"(heartbeat.json: channels.x.api_url: expected an http:// or https:// URL, got "ftp://x")");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "max_attempts": 0})"))
          == R"(heartbeat.json: channels.x.max_attempts: expected an integer from 1 to 1000, got 0)");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "group_threshold": 0})"))
          == R"(heartbeat.json: channels.x.group_threshold: expected an integer from 1 to 1000, got 0)");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "retry_backoff": "5m", "retry_backoff_max": "1m"})"))
          == R"(heartbeat.json: channels.x.retry_backoff_max: retry_backoff_max must not be shorter than retry_backoff ("5m"))");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "retry_backoff": "2h"})"))
          == R"(heartbeat.json: channels.x.retry_backoff_max: retry_backoff_max must not be shorter than retry_backoff ("2h"))");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "timeout": "0s"})"))
          == R"(heartbeat.json: channels.x.timeout: expected a positive duration like "10s", got "0s")");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "quiet_hours": {"start": "22:00"}})"))
          == R"(heartbeat.json: channels.x.quiet_hours: missing "end")");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "quiet_hours": {"start": "07:00", "end": "07:00"}})"))
          == R"(heartbeat.json: channels.x.quiet_hours: "start" and "end" must differ (quiet hours cannot last the whole day))");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "quiet_hours": "nights"})"))
          == R"(heartbeat.json: channels.x.quiet_hours: expected {"start": "22:00", "end": "07:00"} or "never", got "nights")");
    CHECK(error_of(with_channels(R"("x": {"type": "dashboard", "timezone": "Mars/Base"})"))
          == R"(heartbeat.json: channels.x.timezone: expected an IANA timezone like "America/New_York", got "Mars/Base")");
    CHECK(error_of(with_channels(R"("x": {"type": "webhook", "url": "https://x", "headers": {"X-A": "a\nb"}})"))
          == R"(heartbeat.json: channels.x.headers.X-A: the value of header "X-A" contains a line break)");
  }

  SECTION("a missing environment variable is the same error as for checks")
  {
    ScopedEnv unset("PD_ROUTING_KEY", nullptr);
    ScopedEnv unset_slack("SLACK_WEBHOOK", nullptr);
    CHECK(error_of(with_channels(R"("pd": {"type": "pagerduty", "routing_key": {"env": "PD_ROUTING_KEY"}})"))
          == R"(heartbeat.json: channels.pd.routing_key.env: environment variable "PD_ROUTING_KEY" is not set)");
    CHECK(error_of(with_channels(R"("s": {"type": "slack", "webhook_url": "${SLACK_WEBHOOK}"})"))
          == R"(heartbeat.json: channels.s.webhook_url: environment variable "SLACK_WEBHOOK" is not set)");
  }

  SECTION("fallbacks name a defined channel and never come back")
  {
    CHECK(error_of(with_channels(R"("a": {"type": "dashboard", "fallback": "zzz"})"))
          == R"(heartbeat.json: channels.a.fallback: unknown channel "zzz" (defined: a))");
    CHECK(error_of(with_channels(R"("a": {"type": "dashboard", "fallback": "bb"}, "b": {"type": "dashboard"})"))
          == R"(heartbeat.json: channels.a.fallback: unknown channel "bb" (did you mean "b"?))");
    CHECK(error_of(with_channels(R"("a": {"type": "dashboard", "fallback": "a"})"))
          == R"(heartbeat.json: channels.a.fallback: fallback cycle: a -> a)");
    CHECK(error_of(with_channels(R"("a": {"type": "dashboard", "fallback": "b"}, "b": {"type": "dashboard", "fallback": "a"})"))
          == R"(heartbeat.json: channels.a.fallback: fallback cycle: a -> b -> a)");
    // c leads into the cycle without being on it: the cycle is named from its first channel.
    CHECK(error_of(with_channels(R"("c": {"type": "dashboard", "fallback": "b"}, "b": {"type": "dashboard", "fallback": "d"}, "d": {"type": "dashboard", "fallback": "b"})"))
          == R"(heartbeat.json: channels.b.fallback: fallback cycle: b -> d -> b)");
    CHECK(error_of(with_channels(R"("a": {"type": "dashboard", "fallback": "b"}, "b": {"type": "dashboard", "fallback": "c"}, "c": {"type": "dashboard"})"))
          == "no error");
  }
}

TEST_CASE("load: notify rules")
{
  const std::string channels = R"("pd": {"type": "dashboard"}, "ops": {"type": "dashboard"})";
  auto rule_error = [&](const std::string& rule) {
    return error_of(with_channels(channels, R"("notify": [)" + rule + "]"));
  };

  SECTION("filters")
  {
    const Config config = load_text(with_channels(channels, R"("notify": [
      {"channels": ["pd", "pd"], "kinds": ["agent", "job"], "events": ["agent_offline", "job_failed"],
       "min_severity": "critical", "targets": ["db", "web-*"], "tags": ["eu"]},
      {"channels": ["ops"], "min_severity": "warning"}])"));
    const auto& rule = config.notify.rules.at(0);
    CHECK(rule.channels == std::vector<std::string>{"pd"});
    CHECK(rule.kinds == std::vector<TargetKind>{TargetKind::agent, TargetKind::job});
    CHECK(rule.events == std::vector<EventType>{EventType::agent_offline, EventType::job_failed});
    CHECK(rule.min_severity == EventLevel::critical);
    CHECK(rule.targets == std::vector<std::string>{"db", "web-*"});
    CHECK(rule.tags == std::vector<std::string>{"eu"});
    CHECK(config.notify.rules.at(1).min_severity == EventLevel::warning);
  }

  SECTION("errors")
  {
    CHECK(rule_error(R"({"channels": []})")
          == R"(heartbeat.json: notify[0].channels: expected a non-empty array of channel names like ["ops-slack"], got [])");
    CHECK(rule_error(R"({"tags": ["prod"]})")
          == R"(heartbeat.json: notify[0]: missing "channels" (the channels to notify, like ["ops-slack"]))");
    CHECK(rule_error(R"({"channels": ["ops"]}, {"channels": ["pdd"]})")
          == R"(heartbeat.json: notify[1].channels[0]: unknown channel "pdd" (did you mean "pd"?))");
    CHECK(rule_error(R"({"channels": ["mail"]})")
          == R"(heartbeat.json: notify[0].channels[0]: unknown channel "mail" (defined: pd, ops))");
    CHECK(error_of(R"({"notify": [{"channels": ["ops"]}]})")
          == R"(heartbeat.json: notify[0].channels[0]: unknown channel "ops" (no channels are defined))");
    CHECK(rule_error(R"({"channels": ["ops"], "min_severity": "high"})")
          == R"(heartbeat.json: notify[0].min_severity: expected "warning", "alert" or "critical", got "high")");
    CHECK(rule_error(R"({"channels": ["ops"], "min_severity": "info"})")
          == R"(heartbeat.json: notify[0].min_severity: expected "warning", "alert" or "critical", got "info")");
    CHECK(rule_error(R"({"channels": ["ops"], "events": ["failng"]})")
          == R"(heartbeat.json: notify[0].events[0]: unknown event type "failng" (did you mean "failing"?) (known types: failing, warning, recovered, agent_online, agent_degraded, agent_offline, job_ok, job_recovered, job_failed, job_late, job_hung, discovery_failed, clock_skew, still_failing, pulse_stale))");
    CHECK(rule_error(R"({"channels": ["ops"], "kinds": ["host"]})")
          == R"(heartbeat.json: notify[0].kinds[0]: expected "tenant", "service", "agent" or "job", got "host")");
    CHECK(rule_error(R"({"channels": ["ops"], "targets": "acme-*"})")
          == R"(heartbeat.json: notify[0].targets: expected an array of target ids or globs like ["acme-*"], got "acme-*")");
    CHECK(rule_error(R"({"channels": ["ops"], "severity": "alert"})")
          == R"(heartbeat.json: notify[0].severity: unknown key "severity")");
    CHECK(error_of(R"({"notify": {"channels": ["ops"]}})")
          == R"(heartbeat.json: notify: expected an array of rules like [{"channels": ["ops-slack"]}], got {"channels":["ops"]})");
  }
}

TEST_CASE("load: maintenance")
{
  auto window_error = [](const std::string& window) {
    return error_of(R"({"maintenance": [)" + window + "]}");
  };

  SECTION("a recurring window takes the default timezone")
  {
    const Config config = load_text(R"({"defaults": {"timezone": "America/New_York"},
      "maintenance": [{"name": "nightly", "cron": "@daily", "duration": "30m"}]})");
    const auto& window = config.notify.maintenance.at(0);
    CHECK(window.cron == "@daily");
    CHECK(window.duration == Duration(30 * 60'000));
    CHECK(window.timezone == "America/New_York");
    CHECK(window.targets.empty());
    CHECK(window.tags.empty());
  }

  SECTION("errors")
  {
    CHECK(window_error(R"({"name": "a", "cron": "0 2 * * 0", "duration": "2h", "start": "2026-03-01T22:00:00Z", "end": "2026-03-02T01:00:00Z"})")
          == R"(heartbeat.json: maintenance[0]: give either "cron" and "duration" (a recurring window) or "start" and "end" (a one-off window), not both)");
    CHECK(window_error(R"({"name": "a"})")
          == R"(heartbeat.json: maintenance[0]: missing "cron" and "duration" (a recurring window) or "start" and "end" (a one-off window))");
    CHECK(window_error(R"({"name": "a", "cron": "0 2 * * 0"})")
          == R"(heartbeat.json: maintenance[0]: missing "duration" (how long each occurrence lasts, like "2h"))");
    CHECK(window_error(R"({"name": "a", "duration": "2h"})")
          == R"(heartbeat.json: maintenance[0]: missing "cron" (a cron expression like "0 2 * * 0"))");
    CHECK(window_error(R"({"name": "a", "cron": "0 25 * * 0", "duration": "2h"})")
          == "heartbeat.json: maintenance[0].cron: hour 25 out of range 0-23");
    CHECK(window_error(R"({"name": "a", "cron": "0 2 * * 0", "duration": "0s"})")
          == R"(heartbeat.json: maintenance[0].duration: expected a positive duration like "2h", got "0s")");
    CHECK(window_error(R"({"name": "a", "cron": "0 2 * * 0", "duration": "2h", "timezone": "Mars/Base"})")
          == R"(heartbeat.json: maintenance[0].timezone: expected an IANA timezone like "America/New_York", got "Mars/Base")");
    CHECK(window_error(R"({"name": "a", "start": "2026-03-01T22:00:00Z"})")
          == R"(heartbeat.json: maintenance[0]: missing "end" (an RFC 3339 time like "2026-03-01T22:00:00Z"))");
    CHECK(window_error(R"({"name": "a", "start": "tomorrow", "end": "2026-03-02T01:00:00Z"})")
          == R"(heartbeat.json: maintenance[0].start: expected an RFC 3339 time like "2026-03-01T22:00:00Z", got "tomorrow")");
    CHECK(window_error(R"({"name": "a", "start": "2026-03-02T01:00:00Z", "end": "2026-03-02T01:00:00Z"})")
          == R"(heartbeat.json: maintenance[0].end: "end" must be after "start" ("2026-03-02T01:00:00Z"))");
    CHECK(window_error(R"({"name": "a", "start": "2026-03-01T22:00:00Z", "end": "2026-03-02T01:00:00Z", "timezone": "UTC"})")
          == R"(heartbeat.json: maintenance[0].timezone: "timezone" applies to recurring windows (with "cron"); "start" and "end" carry their own UTC offset)");
    CHECK(window_error(R"({"cron": "@daily", "duration": "1h"})")
          == R"(heartbeat.json: maintenance[0]: missing "name")");
    CHECK(window_error(R"({"name": "a", "cron": "@daily", "duration": "1h"}, {"name": "a", "cron": "@daily", "duration": "1h"})")
          == R"(heartbeat.json: maintenance[1].name: duplicate maintenance window name "a" (first defined at heartbeat.json: maintenance[0]))");
    CHECK(window_error(R"({"name": "a", "cron": "@daily", "duration": "1h", "tags": ["Prod"]})")
          == R"(heartbeat.json: maintenance[0].tags[0]: expected a tag of lowercase letters, digits, '_', '.' or '-' (at most 100 characters), got "Prod")");
  }
}

TEST_CASE("load: target notification settings")
{
  SECTION("defaults, overrides and \"never\"")
  {
    const Config config = load_text(R"({
      "defaults": {"timezone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"},
                   "repeat_every": "1h", "impact": 2},
      "targets": [
        {"id": "a"},
        {"id": "b", "timezone": "America/New_York", "repeat_every": "never", "impact": 0.5,
         "depends_on": ["a", "a"]},
        {"id": "c", "quiet_hours": {"start": "01:00", "end": "02:00"}},
        {"id": "d", "quiet_hours": "never"}
      ]})");
    const auto& notify = config.notify;
    REQUIRE(notify.defaults.quiet_hours);
    CHECK(notify.defaults.quiet_hours->timezone == "Europe/Berlin");
    CHECK(notify.defaults.repeat_every == hours(1));
    CHECK(notify.defaults.impact == 2.0);

    const auto& a = notify.settings_of("a");
    REQUIRE(a.quiet_hours);
    CHECK(a.quiet_hours->hours.text() == "22:00-07:00");
    CHECK(a.quiet_hours->timezone == "Europe/Berlin");
    CHECK(a.repeat_every == hours(1));
    CHECK(a.impact == 2.0);
    CHECK(a.depends_on.empty());

    const auto& b = notify.settings_of("b");
    REQUIRE(b.quiet_hours);
    CHECK(b.quiet_hours->timezone == "America/New_York");  // the target's own timezone
    CHECK(b.repeat_every == Duration(0));
    CHECK(b.impact == 0.5);
    CHECK(b.depends_on == std::vector<std::string>{"a"});

    CHECK(notify.settings_of("c").quiet_hours->hours.text() == "01:00-02:00");
    CHECK_FALSE(notify.settings_of("d").quiet_hours);
    CHECK(&notify.settings_of("unknown") == &notify.defaults);
  }

  SECTION("depends_on in defaults is inherited, never as a dependency on itself")
  {
    const Config config = load_text(R"({"defaults": {"depends_on": ["network"]},
      "targets": [{"id": "network"}, {"id": "api"}, {"id": "db", "depends_on": []}]})");
    CHECK(config.notify.settings_of("network").depends_on.empty());
    CHECK(config.notify.settings_of("api").depends_on == std::vector<std::string>{"network"});
    CHECK(config.notify.settings_of("db").depends_on.empty());
    CHECK(error_of(R"({"defaults": {"depends_on": ["nope"]}, "targets": [{"id": "api"}]})")
          == R"(heartbeat.json: defaults.depends_on[0]: unknown target "nope" (no target has this id))");
  }

  SECTION("errors")
  {
    CHECK(error_of(R"({"targets": [{"id": "a", "depends_on": ["nope"]}]})")
          == R"(heartbeat.json: targets[0].depends_on[0]: unknown target "nope" (no target has this id))");
    CHECK(error_of(R"({"targets": [{"id": "a", "depends_on": ["b"]}, {"id": "b", "depends_on": ["a"]}]})")
          == R"(heartbeat.json: targets[0].depends_on: dependency cycle: a -> b -> a)");
    CHECK(error_of(R"({"targets": [{"id": "a", "depends_on": ["a"]}]})")
          == R"(heartbeat.json: targets[0].depends_on: dependency cycle: a -> a)");
    CHECK(error_of(R"({"targets": [{"id": "x", "depends_on": ["a"]}, {"id": "a", "depends_on": ["b"]},
                                   {"id": "b", "depends_on": ["c"]}, {"id": "c", "depends_on": ["a"]}]})")
          == R"(heartbeat.json: targets[1].depends_on: dependency cycle: a -> b -> c -> a)");
    CHECK(error_of(R"({"targets": [{"id": "a", "depends_on": ["b"]}, {"id": "b", "depends_on": ["c"]}, {"id": "c"}]})")
          == "no error");
    CHECK(error_of(R"({"targets": [{"id": "a", "depends_on": "b"}]})")
          == R"(heartbeat.json: targets[0].depends_on: expected an array of target ids like ["db"], got "b")");
    CHECK(error_of(R"({"targets": [{"id": "a", "repeat_every": "0s"}]})")
          == R"(heartbeat.json: targets[0].repeat_every: expected a positive duration like "4h" or "never", got "0s")");
    CHECK(error_of(R"({"targets": [{"id": "a", "repeat_every": "sometimes"}]})")
          == R"(heartbeat.json: targets[0].repeat_every: expected a positive duration like "4h" or "never", got "sometimes")");
    CHECK(error_of(R"({"targets": [{"id": "a", "impact": -1}]})")
          == R"(heartbeat.json: targets[0].impact: expected a number >= 0 like 1 or 0.5, got -1)");
    CHECK(error_of(R"({"defaults": {"impact": "high"}})")
          == R"(heartbeat.json: defaults.impact: expected a number >= 0 like 1 or 0.5, got "high")");
    CHECK(error_of(R"({"targets": [{"id": "a", "quiet_hours": {"start": "9am", "end": "10:00"}}]})")
          == R"(heartbeat.json: targets[0].quiet_hours.start: expected a time like "09:00", got "9am")");
  }

  SECTION("depends_on is checked after discovery")
  {
    // A discovered target may be depended on by a configured one.
    const std::string text = R"({
      "discovery": [{"command": ["/bin/echo", "[{\"id\": \"db\", \"depends_on\": [\"api\"]}]"]}],
      "targets": [{"id": "api", "depends_on": ["db"]}]})";
    CHECK(error_of(text, RunDiscovery::yes)
          == R"(heartbeat.json: targets[0].depends_on: dependency cycle: api -> db -> api)");
    const std::string ok = R"({
      "discovery": [{"command": ["/bin/echo", "[{\"id\": \"db\"}]"]}],
      "targets": [{"id": "api", "depends_on": ["db"]}]})";
    const Config config = load_text(ok, RunDiscovery::yes);
    CHECK(config.notify.settings_of("api").depends_on == std::vector<std::string>{"db"});
    // Without discovery the target may be one it would list: not an error.
    CHECK(error_of(ok, RunDiscovery::no) == "no error");
  }
}

TEST_CASE("load: pulse ping")
{
  SECTION("defaults")
  {
    const Config config = load_text("{}");
    CHECK(config.pulse.ping_url.empty());
    CHECK_FALSE(config.pulse.ping_start);
  }

  SECTION("errors")
  {
    CHECK(error_of(R"({"pulse": {"ping_url": "ftp://hc.example.com/x"}})")
          == R"(heartbeat.json: pulse.ping_url: expected an http:// or https:// URL, got "ftp://hc.example.com/x")");
    CHECK(error_of(R"({"pulse": {"ping_start": "yes"}})")
          == R"(heartbeat.json: pulse.ping_start: expected true or false, got "yes")");
  }
}
