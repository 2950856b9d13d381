// SPDX-License-Identifier: MIT
#include "config/notify.hpp"

#include "config/readers.hpp"
#include "core/command_spec.hpp"
#include "util/duration.hpp"
#include "util/http.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

namespace hb::config {
namespace {

constexpr std::string_view k_common_channel_keys[] = {
  "type",    "api_url",  "quiet_hours", "timezone",        "max_attempts", "retry_backoff",
  "retry_backoff_max", "timeout", "fallback", "group_threshold",
};

// The keys a channel type takes besides the common ones, and those it cannot do without: one
// row per type. Command channels leave "command" to parse_command, which says what it expects.
struct ChannelKeys {
  ChannelType type;
  std::vector<std::string_view> keys;
  std::vector<std::string_view> required;
};

const std::vector<ChannelKeys>& channel_table()
{
  static const std::vector<ChannelKeys> k_table = {
    {ChannelType::slack, {"webhook_url"}, {"webhook_url"}},
    {ChannelType::webhook, {"url", "secret", "headers"}, {"url"}},
    {ChannelType::email,
     {"smtp_url", "starttls", "username", "password", "from", "to", "ca_file", "insecure"},
     {"smtp_url", "from", "to"}},
    {ChannelType::sms, {"account_sid", "auth_token", "from", "to"},
     {"account_sid", "auth_token", "from", "to"}},
    {ChannelType::whatsapp, {"account_sid", "auth_token", "from", "to"},
     {"account_sid", "auth_token", "from", "to"}},
    {ChannelType::pagerduty, {"routing_key"}, {"routing_key"}},
    {ChannelType::command, {"command", "env"}, {}},
    {ChannelType::dashboard, {}, {}},
  };
  return k_table;
}

std::vector<std::string_view> channel_type_names()
{
  std::vector<std::string_view> names;
  for (const auto& row : channel_table()) {
    names.push_back(to_string(row.type));
  }
  return names;
}

constexpr std::string_view k_channel_argv_example = R"(["/usr/local/bin/on-event"])";

// Every event type name, for messages (EventType runs from failing to pulse_stale).
std::vector<std::string_view> event_type_names()
{
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(EventType::pulse_stale); ++i) {
    names.push_back(to_string(static_cast<EventType>(i)));
  }
  return names;
}

// Records the keys of the top-level "channels" object without building a document.
class ChannelKeyOrder final : public nlohmann::json_sax<nlohmann::json> {
public:
  std::vector<std::string> names;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override
  {
    ++m_depth;
    return true;
  }
  bool end_object() override
  {
    --m_depth;
    return true;
  }
  bool start_array(std::size_t) override
  {
    ++m_depth;
    return true;
  }
  bool end_array() override
  {
    --m_depth;
    return true;
  }
  bool key(string_t& value) override
  {
    if (m_depth == 1) {
      m_top_key = value;
    } else if (m_depth == 2 && m_top_key == "channels"
               && std::find(names.begin(), names.end(), value) == names.end()) {
      names.push_back(value);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override
  {
    return false;
  }

private:
  int m_depth = 0;
  std::string m_top_key;
};

// A name (a key of the config) for a message, cut short when long.
std::string shown_name(const std::string& name)
{
  return name.size() > 80 ? name.substr(0, 77) + "..." : name;
}

std::string unknown_channel_message(const std::string& name, const std::vector<Channel>& channels)
{
  std::vector<std::string_view> known;
  for (const auto& channel : channels) {
    known.push_back(channel.policy.name);
  }
  if (known.empty()) {
    return fmt::format("unknown channel \"{}\" (no channels are defined)", shown_name(name));
  }
  const std::string suggestion = closest_match(name, known);
  if (!suggestion.empty()) {
    return fmt::format("unknown channel \"{}\" (did you mean \"{}\"?)", shown_name(name),
                       suggestion);
  }
  return fmt::format("unknown channel \"{}\" (defined: {})", shown_name(name),
                     fmt::join(known, ", "));
}

// A non-empty secret (a token, a password, a URL that carries one): resolved like any string
// and known to the config's redactor even when written literally.
std::string read_secret(const ConfigNode& node)
{
  std::string value = node.as_string();
  if (value.empty()) {
    node.fail("a non-empty string");
  }
  node.note_secret(value);
  return value;
}

std::string read_http_url(const ConfigNode& node)
{
  const std::string url = node.as_string();
  if (!util::is_http_url(url)) {
    node.fail("an http:// or https:// URL");
  }
  return url;
}

std::string read_non_empty(const ConfigNode& node, std::string_view expected)
{
  if (!node.is_string() && !node.is_object()) {
    node.fail(expected);
  }
  std::string value = node.as_string();
  if (value.empty()) {
    node.fail(expected);
  }
  return value;
}

bool is_e164(std::string_view number)
{
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0') {
    return false;
  }
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `to` of email, SMS and WhatsApp channels: a non-empty array of recipients.
std::vector<std::string> read_recipients(const ConfigNode& node, bool phone)
{
  const std::string example = phone ? R"(["+15552223333"])" : R"(["ops@example.com"])";
  if (!node.is_array() || node.raw().empty()) {
    node.fail(fmt::format("a non-empty array of {} like {}",
                          phone ? "phone numbers" : "email addresses", example));
  }
  std::vector<std::string> out;
  for (const auto& element : node.elements()) {
    const std::string value = read_non_empty(element, phone ? "a phone number" : "an email address");
    if (phone && !is_e164(value)) {
      element.fail(R"(a phone number in E.164 format like "+15552223333")");
    }
    if (!phone && value.find('@') == std::string::npos) {
      element.fail(R"(an email address like "ops@example.com")");
    }
    if (std::find(out.begin(), out.end(), value) == out.end()) {
      out.push_back(value);
    }
  }
  return out;
}

bool valid_header_name(std::string_view name)
{
  static constexpr std::string_view k_token_symbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || k_token_symbols.find(c) != std::string_view::npos;
  });
}

// `quiet_hours` of a channel or a target: std::nullopt for "never" (which lifts a window set in
// `defaults`), else the window; a window must not be the whole day.
std::optional<ActiveHours> parse_quiet_hours(const ConfigNode& node)
{
  if (node.is_string() && node.raw().get<std::string>() == "never") {
    return std::nullopt;
  }
  const ActiveHours hours =
    parse_daily_window(node, R"({"start": "22:00", "end": "07:00"} or "never")");
  if (hours.start_minute == hours.end_minute % (24 * 60)) {
    node.fail_message(R"("start" and "end" must differ (quiet hours cannot last the whole day))");
  }
  return hours;
}

Duration parse_repeat_every(const ConfigNode& node, Duration fallback)
{
  if (node.is_null()) {
    return fallback;
  }
  constexpr std::string_view k_expected = R"(a positive duration like "4h" or "never")";
  if (node.is_string() && node.raw().get<std::string>() == "never") {
    return Duration(0);
  }
  if (!node.is_string() || !util::parse_duration(node.raw().get<std::string>())) {
    node.fail(k_expected);
  }
  const Duration d = node.as_duration();
  if (d <= Duration(0)) {
    node.fail(k_expected);
  }
  return d;
}

double parse_impact(const ConfigNode& node, double fallback)
{
  if (node.is_null()) {
    return fallback;
  }
  if (!node.raw().is_number() || !std::isfinite(node.raw().get<double>())
      || node.raw().get<double>() < 0) {
    node.fail("a number >= 0 like 1 or 0.5");
  }
  return node.raw().get<double>();
}

std::vector<std::pair<std::string, ConfigNode>> parse_depends_on(const ConfigNode& node)
{
  if (!node.is_array()) {
    node.fail(R"(an array of target ids like ["db"])");
  }
  std::vector<std::pair<std::string, ConfigNode>> ids;
  for (const auto& element : node.elements()) {
    if (!element.is_string() || !is_valid_target_id(element.raw().get<std::string>())) {
      element.fail("a target id");
    }
    std::string id = element.raw().get<std::string>();
    const bool seen = std::any_of(ids.begin(), ids.end(), [&](const auto& e) { return e.first == id; });
    if (!seen) {
      ids.emplace_back(std::move(id), element);
    }
  }
  return ids;
}

// `targets` of a rule or a window: ids or globs, read literally.
std::vector<std::string> parse_target_patterns(const ConfigNode& node)
{
  if (!node.is_array()) {
    node.fail(R"(an array of target ids or globs like ["acme-*"])");
  }
  std::vector<std::string> out;
  for (const auto& element : node.elements()) {
    if (!element.is_string() || element.raw().get<std::string>().empty()) {
      element.fail(R"(a target id or glob like "acme-*")");
    }
    std::string value = element.raw().get<std::string>();
    if (std::find(out.begin(), out.end(), value) == out.end()) {
      out.push_back(std::move(value));
    }
  }
  return out;
}

std::vector<std::string> parse_tags(const ConfigNode& node)
{
  if (!node.is_array()) {
    node.fail(R"(an array of tags like ["prod", "eu"])");
  }
  std::vector<std::string> out;
  for (const auto& tag : node.elements()) {
    if (!tag.is_string() || !is_valid_target_id(tag.raw().get<std::string>())) {
      tag.fail("a tag of lowercase letters, digits, '_', '.' or '-' (at most 100 characters)");
    }
    std::string value = tag.raw().get<std::string>();
    if (std::find(out.begin(), out.end(), value) == out.end()) {
      out.push_back(std::move(value));
    }
  }
  return out;
}

void parse_channel_policy(const ConfigNode& node, ChannelPolicy& policy)
{
  std::string timezone = "UTC";
  if (auto zone = node["timezone"]; !zone.is_null()) {
    timezone = parse_timezone(zone);
  }
  if (auto quiet = node["quiet_hours"]; !quiet.is_null()) {
    if (auto hours = parse_quiet_hours(quiet)) {
      policy.quiet_hours = QuietHours{*hours, timezone};
    }
  }
  policy.max_attempts =
    static_cast<int>(node.get_int("max_attempts", policy.max_attempts, 1, 1000));
  policy.retry_backoff = positive_duration(node, "retry_backoff", policy.retry_backoff, "30s");
  policy.retry_backoff_max =
    positive_duration(node, "retry_backoff_max", policy.retry_backoff_max, "1h");
  if (policy.retry_backoff_max < policy.retry_backoff) {
    node["retry_backoff_max"].fail_message(
      fmt::format("retry_backoff_max must not be shorter than retry_backoff ({})",
                  node["retry_backoff"].is_null() ? std::string("\"30s\"")
                                                  : node["retry_backoff"].shown_value()));
  }
  policy.timeout = positive_duration(node, "timeout", policy.timeout, "10s");
  if (auto fallback = node["fallback"]; !fallback.is_null()) {
    if (!fallback.is_string() || fallback.raw().get<std::string>().empty()) {
      fallback.fail("a channel name");
    }
    policy.fallback = fallback.raw().get<std::string>();
  }
  policy.group_threshold =
    static_cast<int>(node.get_int("group_threshold", policy.group_threshold, 1, 1000));
}

Channel parse_channel(const std::string& name, const ConfigNode& node)
{
  if (!is_valid_target_id(name)) {
    node.fail_message(fmt::format("invalid channel name \"{}\" (use lowercase letters, digits, "
                                  "'_', '.' or '-', at most 100 characters)",
                                  shown_name(name)));
  }
  if (!node.is_object()) {
    node.fail(R"(a channel object like {"type": "slack", "webhook_url": "${SLACK_WEBHOOK}"})");
  }
  const auto type_names = channel_type_names();
  auto type_node = node["type"];
  if (type_node.is_null()) {
    node.fail_message(fmt::format("missing \"type\" (one of {})", fmt::join(type_names, ", ")));
  }
  if (!type_node.is_string()) {
    type_node.fail(fmt::format("one of {}", fmt::join(type_names, ", ")));
  }
  const std::string type_text = type_node.raw().get<std::string>();
  const auto type = parse_channel_type(type_text);
  if (!type) {
    const std::string suggestion = closest_match(type_text, type_names);
    type_node.fail_message(fmt::format(
      "unknown channel type {}{} (known types: {})", type_node.shown_value(),
      suggestion.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", suggestion),
      fmt::join(type_names, ", ")));
  }
  const auto& row = *std::find_if(channel_table().begin(), channel_table().end(),
                                  [&](const ChannelKeys& r) { return r.type == *type; });
  std::vector<std::string_view> allowed(std::begin(k_common_channel_keys),
                                        std::end(k_common_channel_keys));
  allowed.insert(allowed.end(), row.keys.begin(), row.keys.end());
  node.reject_unknown_keys(allowed);
  for (const auto& key : row.required) {
    if (!node.has(key)) {
      node.fail_message(
        fmt::format("missing \"{}\" (required for {} channels)", key, to_string(*type)));
    }
  }

  Channel channel;
  channel.policy.name = name;
  channel.policy.type = *type;
  channel.source = node.where();
  parse_channel_policy(node, channel.policy);
  if (auto api = node["api_url"]; !api.is_null()) {
    channel.api_url = read_http_url(api);
  }

  switch (*type) {
  case ChannelType::slack:
    channel.url = read_secret(node["webhook_url"]);
    if (!util::is_http_url(channel.url)) {
      node["webhook_url"].fail("an http:// or https:// URL");
    }
    break;
  case ChannelType::webhook:
    channel.url = read_http_url(node["url"]);
    if (auto secret = node["secret"]; !secret.is_null()) {
      channel.secret = read_secret(secret);
    }
    if (auto headers = node["headers"]; !headers.is_null()) {
      if (!headers.is_object()) {
        headers.fail(R"(an object of header names to strings like {"X-Team": "core"})");
      }
      for (const auto& [header, value_node] : headers.members()) {
        if (!valid_header_name(header)) {
          value_node.fail_message(fmt::format("invalid header name \"{}\"", shown_name(header)));
        }
        std::string value = value_node.as_string();
        if (value.find_first_of("\r\n") != std::string::npos) {
          // The value is not quoted: it may be a resolved secret.
          value_node.fail_message(
            fmt::format("the value of header \"{}\" contains a line break", header));
        }
        channel.headers.emplace_back(header, std::move(value));
      }
    }
    break;
  case ChannelType::email: {
    auto smtp = node["smtp_url"];
    channel.smtp_url = smtp.as_string();
    if (channel.smtp_url.rfind("smtp://", 0) != 0 && channel.smtp_url.rfind("smtps://", 0) != 0) {
      smtp.fail(R"(an smtp:// or smtps:// URL like "smtp://mail.example.com:587")");
    }
    if (auto starttls = node["starttls"]; !starttls.is_null()) {
      const std::string value = starttls.is_string() ? starttls.raw().get<std::string>() : "";
      if (value == "required") {
        channel.starttls = Channel::StartTls::required;
      } else if (value == "optional") {
        channel.starttls = Channel::StartTls::optional;
      } else if (value == "off") {
        channel.starttls = Channel::StartTls::off;
      } else {
        starttls.fail(R"("required", "optional" or "off")");
      }
    }
    if (auto username = node["username"]; !username.is_null()) {
      channel.username = username.as_string();
    }
    if (auto password = node["password"]; !password.is_null()) {
      channel.password = read_secret(password);
    }
    channel.from = read_non_empty(node["from"], R"(an email address like "heartbeat@example.com")");
    if (channel.from.find('@') == std::string::npos) {
      node["from"].fail(R"(an email address like "heartbeat@example.com")");
    }
    channel.to = read_recipients(node["to"], /*phone=*/false);
    if (auto ca = node["ca_file"]; !ca.is_null()) {
      channel.ca_file = read_non_empty(ca, "a path to a CA bundle");
    }
    channel.insecure = node.get_bool("insecure", false);
    break;
  }
  case ChannelType::sms:
  case ChannelType::whatsapp:
    channel.account_sid = read_non_empty(node["account_sid"], R"(an account SID like "AC123")");
    channel.auth_token = read_secret(node["auth_token"]);
    channel.from = read_non_empty(node["from"], R"(a sender like "+15550001111")");
    channel.to = read_recipients(node["to"], /*phone=*/true);
    break;
  case ChannelType::pagerduty:
    channel.routing_key = read_secret(node["routing_key"]);
    break;
  case ChannelType::command: {
    CommandSpec command = parse_command(node, k_channel_argv_example);
    channel.command = std::move(command.argv);
    channel.env = std::move(command.env);
    break;
  }
  case ChannelType::dashboard:
    break;
  }
  return channel;
}

// Rules and fallbacks name channels that exist, and no fallback chain comes back to where it
// started (a -> b -> a, a -> a): a failed delivery must end somewhere.
void check_fallbacks(const std::vector<Channel>& channels, const std::vector<ConfigNode>& nodes)
{
  std::unordered_map<std::string, const Channel*> by_name;
  for (const auto& channel : channels) {
    by_name.emplace(channel.policy.name, &channel);
  }
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const std::string& fallback = channels[i].policy.fallback;
    if (!fallback.empty() && by_name.count(fallback) == 0) {
      nodes[i]["fallback"].fail_message(unknown_channel_message(fallback, channels));
    }
  }
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const std::string& start = channels[i].policy.name;
    std::vector<std::string> chain{start};
    std::string next = channels[i].policy.fallback;
    while (!next.empty()) {
      if (next == start) {
        nodes[i]["fallback"].fail_message(
          fmt::format("fallback cycle: {} -> {}", fmt::join(chain, " -> "), start));
      }
      if (std::find(chain.begin(), chain.end(), next) != chain.end()) {
        break;  // a cycle further on, reported from a channel on it
      }
      chain.push_back(next);
      next = by_name.at(next)->policy.fallback;
    }
  }
}

NotifyRule parse_rule(const ConfigNode& node, const std::vector<Channel>& channels)
{
  if (!node.is_object()) {
    node.fail(R"(a rule object like {"channels": ["ops-slack"]})");
  }
  node.reject_unknown_keys({"channels", "targets", "tags", "kinds", "events", "min_severity"});
  NotifyRule rule;
  rule.source = node.where();

  auto names = node["channels"];
  if (names.is_null()) {
    node.fail_message(R"(missing "channels" (the channels to notify, like ["ops-slack"]))");
  }
  if (!names.is_array() || names.raw().empty()) {
    names.fail(R"(a non-empty array of channel names like ["ops-slack"])");
  }
  for (const auto& element : names.elements()) {
    if (!element.is_string()) {
      element.fail("a channel name");
    }
    std::string name = element.raw().get<std::string>();
    const bool known = std::any_of(channels.begin(), channels.end(),
                                   [&](const Channel& c) { return c.policy.name == name; });
    if (!known) {
      element.fail_message(unknown_channel_message(name, channels));
    }
    if (std::find(rule.channels.begin(), rule.channels.end(), name) == rule.channels.end()) {
      rule.channels.push_back(std::move(name));
    }
  }
  if (auto targets = node["targets"]; !targets.is_null()) {
    rule.targets = parse_target_patterns(targets);
  }
  if (auto tags = node["tags"]; !tags.is_null()) {
    rule.tags = parse_tags(tags);
  }
  if (auto kinds = node["kinds"]; !kinds.is_null()) {
    if (!kinds.is_array()) {
      kinds.fail(R"(an array of target kinds like ["agent", "job"])");
    }
    for (const auto& element : kinds.elements()) {
      auto kind = element.is_string() ? parse_target_kind(element.raw().get<std::string>())
                                      : std::nullopt;
      if (!kind) {
        element.fail(R"("tenant", "service", "agent" or "job")");
      }
      if (std::find(rule.kinds.begin(), rule.kinds.end(), *kind) == rule.kinds.end()) {
        rule.kinds.push_back(*kind);
      }
    }
  }
  if (auto events = node["events"]; !events.is_null()) {
    if (!events.is_array()) {
      events.fail(R"(an array of event types like ["failing", "recovered"])");
    }
    const auto known = event_type_names();
    for (const auto& element : events.elements()) {
      if (!element.is_string()) {
        element.fail("an event type");
      }
      const std::string text = element.raw().get<std::string>();
      auto event = parse_event_type(text);
      if (!event) {
        const std::string suggestion = closest_match(text, known);
        element.fail_message(fmt::format(
          "unknown event type {}{} (known types: {})", element.shown_value(),
          suggestion.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", suggestion),
          fmt::join(known, ", ")));
      }
      if (std::find(rule.events.begin(), rule.events.end(), *event) == rule.events.end()) {
        rule.events.push_back(*event);
      }
    }
  }
  if (auto severity = node["min_severity"]; !severity.is_null()) {
    auto level = severity.is_string() ? parse_event_level(severity.raw().get<std::string>())
                                      : std::nullopt;
    if (!level || *level == EventLevel::info) {
      severity.fail(R"("warning", "alert" or "critical")");
    }
    rule.min_severity = *level;
  }
  return rule;
}

MaintenanceWindow parse_window(const ConfigNode& node, const std::string& default_timezone)
{
  if (!node.is_object()) {
    node.fail(R"(a maintenance window like {"name": "patching", "cron": "0 2 * * 0", "duration": "2h"})");
  }
  node.reject_unknown_keys(
    {"name", "cron", "duration", "timezone", "start", "end", "targets", "tags"});
  MaintenanceWindow window;
  auto name = node["name"];
  if (name.is_null()) {
    node.fail_message("missing \"name\"");
  }
  if (!name.is_string() || !is_valid_target_id(name.raw().get<std::string>())) {
    name.fail("a name of lowercase letters, digits, '_', '.' or '-' like \"sunday-patching\"");
  }
  window.name = name.raw().get<std::string>();

  const bool recurring = node.has("cron") || node.has("duration");
  const bool one_off = node.has("start") || node.has("end");
  if (recurring && one_off) {
    node.fail_message(R"(give either "cron" and "duration" (a recurring window) or "start" and "end" (a one-off window), not both)");
  }
  if (!recurring && !one_off) {
    node.fail_message(R"(missing "cron" and "duration" (a recurring window) or "start" and "end" (a one-off window))");
  }
  if (recurring) {
    auto cron = node["cron"];
    if (cron.is_null()) {
      node.fail_message(R"(missing "cron" (a cron expression like "0 2 * * 0"))");
    }
    if (!cron.is_string()) {
      cron.fail(R"(a cron expression like "0 2 * * 0")");
    }
    std::string error;
    auto parsed = schedule::CronExpr::parse(cron.raw().get<std::string>(), error);
    if (!parsed) {
      cron.fail_message(error);
    }
    window.cron = parsed->text();
    if (node["duration"].is_null()) {
      node.fail_message(R"(missing "duration" (how long each occurrence lasts, like "2h"))");
    }
    window.duration = positive_duration(node, "duration", Duration(0), "2h");
    window.timezone =
      node["timezone"].is_null() ? default_timezone : parse_timezone(node["timezone"]);
  } else {
    if (auto zone = node["timezone"]; !zone.is_null()) {
      zone.fail_message(R"("timezone" applies to recurring windows (with "cron"); "start" and "end" carry their own UTC offset)");
    }
    auto read_time = [&](std::string_view key) {
      auto value = node[key];
      if (value.is_null()) {
        node.fail_message(
          fmt::format(R"(missing "{}" (an RFC 3339 time like "2026-03-01T22:00:00Z"))", key));
      }
      std::optional<TimePoint> t;
      if (value.is_string()) {
        t = util::parse_rfc3339(value.raw().get<std::string>());
      }
      if (!t) {
        value.fail(R"(an RFC 3339 time like "2026-03-01T22:00:00Z")");
      }
      return *t;
    };
    window.start = read_time("start");
    window.end = read_time("end");
    if (*window.end <= *window.start) {
      node["end"].fail_message(
        fmt::format("\"end\" must be after \"start\" ({})", node["start"].shown_value()));
    }
  }
  if (auto targets = node["targets"]; !targets.is_null()) {
    window.targets = parse_target_patterns(targets);
  }
  if (auto tags = node["tags"]; !tags.is_null()) {
    window.tags = parse_tags(tags);
  }
  return window;
}

} // namespace

std::vector<std::string> channel_names_in_order(const std::string& text)
{
  ChannelKeyOrder order;
  nlohmann::json::sax_parse(text, &order, nlohmann::json::input_format_t::json,
                            /*strict=*/true, /*ignore_comments=*/true);
  return std::move(order.names);
}

void parse_notifications(const ConfigNode& root, const std::vector<std::string>& order,
                         Config& config)
{
  if (auto channels = root["channels"]; !channels.is_null()) {
    if (!channels.is_object()) {
      channels.fail(R"(an object of named channels like {"ops-slack": {"type": "slack", ...}})");
    }
    // In the order of the file; a name the key scan missed (none should) goes last.
    std::vector<std::string> names = order;
    for (const auto& [name, node] : channels.members()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(name);
      }
    }
    std::vector<ConfigNode> nodes;
    for (const auto& name : names) {
      if (!channels.raw().contains(name)) {
        continue;
      }
      nodes.push_back(channels[name]);
      config.channels.push_back(parse_channel(name, nodes.back()));
    }
    check_fallbacks(config.channels, nodes);
    for (const auto& channel : config.channels) {
      config.notify.channels.push_back(channel.policy);
    }
  }

  if (auto rules = root["notify"]; !rules.is_null()) {
    if (!rules.is_array()) {
      rules.fail(R"(an array of rules like [{"channels": ["ops-slack"]}])");
    }
    for (const auto& node : rules.elements()) {
      config.notify.rules.push_back(parse_rule(node, config.channels));
    }
  }

  if (auto windows = root["maintenance"]; !windows.is_null()) {
    if (!windows.is_array()) {
      windows.fail(R"(an array of maintenance windows like [{"name": "patching", "cron": "0 2 * * 0", "duration": "2h"}])");
    }
    std::map<std::string, std::string> seen;
    for (const auto& node : windows.elements()) {
      MaintenanceWindow window = parse_window(node, config.defaults.timezone);
      if (auto it = seen.find(window.name); it != seen.end()) {
        node["name"].fail_message(fmt::format(
          "duplicate maintenance window name \"{}\" (first defined at {})", window.name,
          it->second));
      }
      seen.emplace(window.name, node.where());
      config.notify.maintenance.push_back(std::move(window));
    }
  }
}

void parse_ping(const ConfigNode& pulse_node, PulseSettings& pulse)
{
  if (auto url = pulse_node["ping_url"]; !url.is_null()) {
    pulse.ping_url = read_http_url(url);
  }
  pulse.ping_start = pulse_node.get_bool("ping_start", pulse.ping_start);
}

NotifyDefaults parse_notify_defaults(const ConfigNode& defaults_node, const std::string& timezone)
{
  NotifyDefaults defaults;
  if (defaults_node.is_null()) {
    return defaults;
  }
  if (auto quiet = defaults_node["quiet_hours"]; !quiet.is_null()) {
    defaults.quiet_window = parse_quiet_hours(quiet);
  }
  if (defaults.quiet_window) {
    defaults.settings.quiet_hours = QuietHours{*defaults.quiet_window, timezone};
  }
  defaults.settings.repeat_every =
    parse_repeat_every(defaults_node["repeat_every"], defaults.settings.repeat_every);
  defaults.settings.impact = parse_impact(defaults_node["impact"], defaults.settings.impact);
  if (auto depends = defaults_node["depends_on"]; !depends.is_null()) {
    defaults.depends_on = parse_depends_on(depends);
    defaults.depends_on_node = depends;
    for (const auto& entry : defaults.depends_on) {
      defaults.settings.depends_on.push_back(entry.first);
    }
  }
  return defaults;
}

TargetNotifySettings parse_target_notify(const ConfigNode& node, const NotifyDefaults& defaults,
                                         const std::string& target_id,
                                         const std::string& timezone,
                                         std::vector<Dependencies>& dependencies)
{
  TargetNotifySettings settings = defaults.settings;
  std::optional<ActiveHours> quiet = defaults.quiet_window;
  if (auto own = node["quiet_hours"]; !own.is_null()) {
    quiet = parse_quiet_hours(own);
  }
  settings.quiet_hours.reset();
  if (quiet) {
    settings.quiet_hours = QuietHours{*quiet, timezone};
  }
  settings.repeat_every = parse_repeat_every(node["repeat_every"], settings.repeat_every);
  settings.impact = parse_impact(node["impact"], settings.impact);

  std::optional<Dependencies> deps;
  if (auto own = node["depends_on"]; !own.is_null()) {
    deps.emplace(Dependencies{target_id, parse_depends_on(own), own});
  } else if (defaults.depends_on_node) {
    // A target named in `defaults.depends_on` does not depend on itself.
    deps.emplace(Dependencies{target_id, {}, *defaults.depends_on_node});
    for (const auto& entry : defaults.depends_on) {
      if (entry.first != target_id) {
        deps->ids.push_back(entry);
      }
    }
  }
  settings.depends_on.clear();
  if (deps) {
    for (const auto& entry : deps->ids) {
      settings.depends_on.push_back(entry.first);
    }
    if (!deps->ids.empty()) {
      dependencies.push_back(std::move(*deps));
    }
  }
  return settings;
}

void check_dependencies(const Config& config, const std::vector<Dependencies>& dependencies,
                        bool all_targets_known)
{
  std::set<std::string_view> ids;
  for (const auto& target : config.targets) {
    ids.insert(target.id);
  }
  std::unordered_map<std::string_view, const Dependencies*> graph;
  for (const auto& deps : dependencies) {
    graph.emplace(deps.target_id, &deps);
    if (!all_targets_known) {
      continue;
    }
    for (const auto& [id, node] : deps.ids) {
      if (ids.count(id) == 0) {
        node.fail_message(fmt::format("unknown target \"{}\" (no target has this id)", id));
      }
    }
  }

  // Depth-first, without recursion (a hostile config may chain thousands of targets). A target
  // met again while it is still on the path closes a cycle.
  enum class Mark { on_path, done };
  std::unordered_map<std::string_view, Mark> marks;
  struct Frame {
    const Dependencies* deps;
    std::size_t next = 0;
  };
  for (const auto& start : dependencies) {
    if (marks.count(start.target_id) != 0) {
      continue;
    }
    std::vector<Frame> path{{&start, 0}};
    marks[start.target_id] = Mark::on_path;
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next == top.deps->ids.size()) {
        marks[top.deps->target_id] = Mark::done;
        path.pop_back();
        continue;
      }
      const std::string& id = top.deps->ids[top.next++].first;
      auto mark = marks.find(id);
      if (mark != marks.end() && mark->second == Mark::on_path) {
        auto first = std::find_if(path.begin(), path.end(),
                                  [&](const Frame& f) { return f.deps->target_id == id; });
        std::vector<std::string_view> cycle;
        for (auto it = first; it != path.end(); ++it) {
          cycle.push_back(it->deps->target_id);
        }
        first->deps->node.fail_message(
          fmt::format("dependency cycle: {} -> {}", fmt::join(cycle, " -> "), id));
      }
      if (mark != marks.end()) {
        continue;
      }
      auto next = graph.find(id);
      if (next == graph.end()) {
        marks[id] = Mark::done;  // depends on nothing (or is unknown)
        continue;
      }
      marks[next->first] = Mark::on_path;
      path.push_back({next->second, 0});
    }
  }
}

} // namespace hb::config
