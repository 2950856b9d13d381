// SPDX-License-Identifier: MIT
#include "notify/route.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using hb::ChannelPolicy;
using hb::ChannelType;
using hb::Event;
using hb::EventLevel;
using hb::EventType;
using hb::Notification;
using hb::NotifyPolicy;
using hb::NotifyRule;
using hb::OutboxState;
using hb::TargetRecord;
using hb::TimePoint;
using hb::notify::RouteFacts;
using namespace std::chrono_literals;

TimePoint at(const char* text)
{
  return *hb::util::parse_rfc3339(text);
}

const TimePoint k_t0 = at("2026-02-18T09:00:00Z");

ChannelPolicy channel(const std::string& name, ChannelType type = ChannelType::webhook)
{
  ChannelPolicy c;
  c.name = name;
  c.type = type;
  return c;
}

NotifyRule rule(std::vector<std::string> channels)
{
  NotifyRule r;
  r.channels = std::move(channels);
  return r;
}

Event event(EventType type, const std::string& target = "api", TimePoint when = k_t0)
{
  Event e;
  e.id = 42;
  e.target_id = target;
  e.type = type;
  e.at = when;
  e.old_state = "healthy";
  e.new_state = "failing";
  return e;
}

RouteFacts facts_for(const std::string& id, std::vector<std::string> tags = {},
                     hb::TargetKind kind = hb::TargetKind::service)
{
  RouteFacts facts;
  TargetRecord record;
  record.info.id = id;
  record.info.tags = std::move(tags);
  record.info.kind = kind;
  facts.target = record;
  return facts;
}

std::vector<std::string> channels_of(const std::vector<Notification>& rows)
{
  std::vector<std::string> out;
  for (const auto& row : rows) {
    out.push_back(row.channel);
  }
  return out;
}

} // namespace

TEST_CASE("route: rules and their filters", "[notify]")
{
  NotifyPolicy policy;
  policy.channels = {channel("slack", ChannelType::slack), channel("pd", ChannelType::pagerduty),
                     channel("mail", ChannelType::email), channel("board", ChannelType::dashboard)};
  policy.rules.push_back(rule({"slack", "board"}));
  NotifyRule alerting = rule({"pd"});
  alerting.min_severity = EventLevel::alert;
  alerting.tags = {"prod"};
  policy.rules.push_back(alerting);
  NotifyRule tenants = rule({"mail"});
  tenants.targets = {"acme-*"};
  tenants.events = {EventType::failing, EventType::recovered};
  policy.rules.push_back(tenants);

  SECTION("a rule without filters matches every event; the dashboard starts sent")
  {
    const auto rows = hb::notify::route(policy, event(EventType::warning), facts_for("api"));
    CHECK(channels_of(rows) == std::vector<std::string>{"slack", "board"});
    CHECK(rows[0].state == OutboxState::pending);
    CHECK(rows[0].level == EventLevel::warning);
    CHECK(rows[1].state == OutboxState::sent);
    CHECK(rows[1].sent_at == k_t0);
  }

  SECTION("min_severity and tags")
  {
    CHECK(channels_of(hb::notify::route(policy, event(EventType::failing),
                                        facts_for("api", {"prod"})))
          == std::vector<std::string>{"slack", "pd", "board"});
    CHECK(channels_of(hb::notify::route(policy, event(EventType::warning),
                                        facts_for("api", {"prod"})))
          == std::vector<std::string>{"slack", "board"});
    CHECK(channels_of(hb::notify::route(policy, event(EventType::failing), facts_for("api")))
          == std::vector<std::string>{"slack", "board"});
  }

  SECTION("target globs and event types; failing also matches its reminders")
  {
    CHECK(channels_of(hb::notify::route(policy, event(EventType::failing, "acme-1"),
                                        facts_for("acme-1")))
          == std::vector<std::string>{"slack", "mail", "board"});
    CHECK(channels_of(hb::notify::route(policy, event(EventType::agent_offline, "acme-1"),
                                        facts_for("acme-1")))
          == std::vector<std::string>{"slack", "board"});
    RouteFacts facts = facts_for("acme-1");
    facts.incident_level = EventLevel::alert;
    CHECK(channels_of(hb::notify::route(policy, event(EventType::still_failing, "acme-1"), facts))
          == std::vector<std::string>{"slack", "mail", "board"});
  }

  SECTION("a system event matches only rules without target filters")
  {
    Event e = event(EventType::pulse_stale, "");
    const auto rows = hb::notify::route(policy, e, RouteFacts{});
    CHECK(channels_of(rows) == std::vector<std::string>{"slack", "board"});
    CHECK(rows[0].level == EventLevel::critical);
  }

  SECTION("an event in grace is heard by nobody")
  {
    Event e = event(EventType::failing);
    e.in_grace = true;
    CHECK(hb::notify::route(policy, e, facts_for("api")).empty());
  }
}

TEST_CASE("route: a recovery goes to exactly the channels last told something bad", "[notify]")
{
  NotifyPolicy policy;
  policy.channels = {channel("slack"), channel("pd"), channel("mail")};
  policy.rules.push_back(rule({"slack", "pd", "mail"}));
  RouteFacts facts = facts_for("api");
  facts.incident_id = 7;
  facts.incident_level = EventLevel::alert;
  facts.told["slack"] = {true, k_t0 - 10min};
  facts.told["pd"] = {false, k_t0 - 10min};  // already told it recovered
  const auto rows = hb::notify::route(policy, event(EventType::recovered), facts);
  CHECK(channels_of(rows) == std::vector<std::string>{"slack"});
  CHECK(rows[0].level == EventLevel::alert);
  CHECK(rows[0].incident_id == 7);

  SECTION("even in maintenance or behind a failing dependency: what people were told is corrected")
  {
    hb::MaintenanceWindow window;
    window.name = "patching";
    window.start = k_t0 - 1h;
    window.end = k_t0 + 1h;
    policy.maintenance.push_back(window);
    facts.failing_dependencies = {"db"};
    const auto corrected = hb::notify::route(policy, event(EventType::recovered), facts);
    REQUIRE(corrected.size() == 1);
    CHECK(corrected[0].state == OutboxState::pending);
  }
}

TEST_CASE("route: suppression by dependency and flapping", "[notify]")
{
  NotifyPolicy policy;
  policy.channels = {channel("slack")};
  policy.rules.push_back(rule({"slack"}));

  SECTION("a failing dependency suppresses, naming the upstream")
  {
    RouteFacts facts = facts_for("api");
    facts.failing_dependencies = {"db"};
    const auto rows = hb::notify::route(policy, event(EventType::failing), facts);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::suppressed);
    CHECK(rows[0].reason == "upstream db is failing");
    CHECK_FALSE(rows[0].next_attempt_at);
  }

  SECTION("flapping: annotated, and at most one bad word per window per channel")
  {
    RouteFacts facts = facts_for("api");
    facts.flapping = true;
    auto rows = hb::notify::route(policy, event(EventType::failing), facts);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::pending);
    CHECK(rows[0].flapping);
    facts.told["slack"] = {true, k_t0 - 20min};
    rows = hb::notify::route(policy, event(EventType::failing), facts);
    CHECK(rows[0].state == OutboxState::suppressed);
    CHECK(rows[0].reason.find("flapping") == 0);
    facts.told["slack"] = {true, k_t0 - 61min};
    rows = hb::notify::route(policy, event(EventType::failing), facts);
    CHECK(rows[0].state == OutboxState::pending);
  }
}

TEST_CASE("reminder_due", "[notify]")
{
  hb::TargetNotifySettings settings;  // repeat_every 4h
  const TimePoint now = k_t0 + 5h;
  hb::NoticeMarks marks;

  SECTION("not failing, or repeat never: no reminder")
  {
    CHECK_FALSE(hb::notify::reminder_due(settings, std::nullopt, marks, now));
    settings.repeat_every = hb::Duration(0);
    CHECK_FALSE(hb::notify::reminder_due(settings, k_t0, marks, now));
  }

  SECTION("told within repeat_every: not yet; told longer ago: due")
  {
    marks.last_spoken_bad = now - 3h;
    CHECK_FALSE(hb::notify::reminder_due(settings, k_t0, marks, now));
    marks.last_spoken_bad = now - 4h;
    CHECK(hb::notify::reminder_due(settings, k_t0, marks, now));
  }

  SECTION("nothing said about this incident (suppressed, or in grace): due at once")
  {
    marks.last_spoken_bad = k_t0 - 1h;  // an earlier incident
    CHECK(hb::notify::reminder_due(settings, now - 10min, marks, now));
  }

  SECTION("a recent reminder holds the next one back")
  {
    marks.last_reminder = now - 1h;
    CHECK_FALSE(hb::notify::reminder_due(settings, k_t0, marks, now));
  }
}

TEST_CASE("route: escalations go to the escalation channels, critical, never held", "[notify]")
{
  NotifyPolicy policy;
  policy.channels = {channel("ops"), channel("pd", ChannelType::pagerduty), channel("board", ChannelType::dashboard)};
  ChannelPolicy& pd = policy.channels[1];
  // Quiet all day long: only critical rows get through.
  pd.quiet_hours = hb::QuietHours{hb::ActiveHours{0, 1440}, "UTC"};
  policy.rules = {rule({"ops"})};  // the rules do not decide where escalations go
  policy.escalation_channels = {"pd", "board"};

  for (const EventType type : {EventType::escalated, EventType::escalation_resolved}) {
    const auto rows = hb::notify::route(policy, event(type), facts_for("api"));
    CHECK(channels_of(rows) == std::vector<std::string>{"pd", "board"});
    for (const auto& row : rows) {
      CHECK(row.level == EventLevel::critical);
    }
    CHECK(rows[0].state == OutboxState::pending);  // not held by quiet hours
    CHECK(rows[1].state == OutboxState::sent);     // the dashboard, delivered by being written
  }
  CHECK(hb::notify::ends_incident(EventType::escalation_resolved));
  CHECK_FALSE(hb::notify::ends_incident(EventType::escalated));
  // Without escalation channels nobody hears of them.
  policy.escalation_channels.clear();
  CHECK(hb::notify::route(policy, event(EventType::escalated), facts_for("api")).empty());
}
