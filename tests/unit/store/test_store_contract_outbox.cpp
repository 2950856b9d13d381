// SPDX-License-Identifier: MIT
// The store contract for the notification outbox: the policy, routing inside the event's
// transaction, claims with a lease, finishing, fallbacks, channel health and notice marks.
#include "store_contract.hpp"

#include <catch2/catch.hpp>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

namespace {

NotifyPolicy two_channel_policy()
{
  NotifyPolicy policy;
  ChannelPolicy hook;
  hook.name = "hook";
  hook.type = ChannelType::webhook;
  ChannelPolicy board;
  board.name = "board";
  board.type = ChannelType::dashboard;
  policy.channels = {hook, board};
  NotifyRule rule;
  rule.channels = {"hook", "board"};
  policy.rules.push_back(rule);
  TargetNotifySettings api;
  api.depends_on = {"db"};
  api.repeat_every = 2h;
  policy.targets["api"] = api;
  return policy;
}

} // namespace

TEST_CASE("Store::sync_notify_policy and Store::notify_policy")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    CHECK_FALSE(store->notify_policy());
    NotifyPolicy policy = two_channel_policy();
    policy.channels[0].quiet_hours = QuietHours{*ActiveHours::parse("22:00-06:00"), "Europe/Berlin"};
    policy.channels[0].fallback = "board";
    MaintenanceWindow window;
    window.name = "patching";
    window.cron = "0 2 * * 0";
    window.duration = 2h;
    window.timezone = "Europe/Berlin";
    window.tags = {"db"};
    policy.maintenance.push_back(window);
    policy.rules[0].min_severity = EventLevel::alert;
    policy.rules[0].events = {EventType::failing};
    policy.rules[0].kinds = {TargetKind::tenant};
    store->sync_notify_policy(policy);
    const auto stored = backend.open(dir.path())->notify_policy();
    REQUIRE(stored);
    REQUIRE(stored->channels.size() == 2);
    CHECK(stored->channels[0].name == "hook");
    CHECK(stored->channels[0].quiet_hours->hours.text() == "22:00-06:00");
    CHECK(stored->channels[0].quiet_hours->timezone == "Europe/Berlin");
    CHECK(stored->channels[0].fallback == "board");
    CHECK(stored->channels[1].type == ChannelType::dashboard);
    CHECK(stored->rules[0].min_severity == EventLevel::alert);
    CHECK(stored->rules[0].events == std::vector<EventType>{EventType::failing});
    CHECK(stored->rules[0].kinds == std::vector<TargetKind>{TargetKind::tenant});
    REQUIRE(stored->maintenance.size() == 1);
    CHECK(stored->maintenance[0].duration == 2h);
    CHECK(stored->maintenance[0].tags == std::vector<std::string>{"db"});
    CHECK(stored->settings_of("api").depends_on == std::vector<std::string>{"db"});
    CHECK(stored->settings_of("api").repeat_every == 2h);
    CHECK(stored->settings_of("other").repeat_every == 4h);
  }
}

TEST_CASE("Store: events write their outbox rows in their own transaction")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("api", "API"), make_target("db", "DB")}, k_t0);
    store->sync_notify_policy(two_channel_policy());

    SECTION("an execution's event: one row per channel, the dashboard's already sent")
    {
      auto w = make_write("api", k_t0, ExecStatus::alert);
      w.events.push_back(make_event("api", k_t0, EventType::failing, "connection refused"));
      std::vector<ExecutionWrite> writes{w};
      store->record_executions(writes);
      const auto rows = store->recent_notifications("api", 10);
      REQUIRE(rows.size() == 2);
      const auto& hook = rows[0].notification.channel == "hook" ? rows[0] : rows[1];
      const auto& board = rows[0].notification.channel == "hook" ? rows[1] : rows[0];
      CHECK(hook.notification.state == OutboxState::pending);
      CHECK(hook.notification.level == EventLevel::alert);
      CHECK(hook.notification.event_id == writes[0].events[0].id);
      CHECK(hook.notification.incident_id == writes[0].events[0].id);
      CHECK(hook.event.message == "connection refused");
      CHECK(hook.target_name == "API");
      CHECK(board.notification.state == OutboxState::sent);
    }

    SECTION("a policy without channels: events are written without rows")
    {
      Event e = make_event("db", k_t0, EventType::failing);
      store->sync_notify_policy(NotifyPolicy{});
      store->record_event(e);
      CHECK(store->recent_notifications("db", 10).empty());
    }

    SECTION("a failing dependency suppresses the dependent's event, kept for the record")
    {
      auto db_write = make_write("db", k_t0, ExecStatus::alert);
      db_write.events.push_back(make_event("db", k_t0, EventType::failing));
      auto api_write = make_write("api", k_t0 + 1s, ExecStatus::alert);
      api_write.events.push_back(make_event("api", k_t0 + 1s, EventType::failing));
      std::vector<ExecutionWrite> writes{db_write, api_write};
      store->record_executions(writes);
      const auto rows = store->recent_notifications("api", 10);
      REQUIRE(rows.size() == 2);
      for (const auto& row : rows) {
        CHECK(row.notification.state == OutboxState::suppressed);
        CHECK(row.notification.reason == "upstream db is failing");
      }
      const auto marks = store->notice_marks();
      CHECK(marks.at("db").last_spoken_bad == k_t0);
      CHECK(marks.count("api") == 0);
    }

    SECTION("a recovery goes to the channels told, with the incident's key and level")
    {
      Event failing = make_event("db", k_t0, EventType::failing);
      store->record_event(failing);
      Event warning = make_event("db", k_t0 + 1min, EventType::warning);
      store->record_event(warning);
      Event recovered = make_event("db", k_t0 + 2min, EventType::recovered);
      store->record_event(recovered);
      const auto rows = store->recent_notifications("db", 10);
      REQUIRE(rows.size() == 6);
      for (const auto& row : rows) {
        CHECK(row.notification.incident_id == failing.id);
      }
      CHECK(rows[0].event.type == EventType::recovered);
      CHECK(rows[0].notification.level == EventLevel::alert);
    }
  }
}

TEST_CASE("Store::claim_notifications, finish_notification and channel_health")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("api", "API")}, k_t0);
    NotifyPolicy policy = two_channel_policy();
    policy.targets.clear();
    store->sync_notify_policy(policy);
    Event e = make_event("api", k_t0, EventType::failing, "down");
    store->record_event(e);

    SECTION("a claimed row is nobody else's until its lease ends or it is released")
    {
      auto other = backend.open(dir.path());
      const auto mine = store->claim_notifications("me", k_t0 + 1s, 10min, 100);
      REQUIRE(mine.size() == 1);
      CHECK(mine[0].notification.channel == "hook");
      CHECK(mine[0].event.id == e.id);
      CHECK(other->claim_notifications("other", k_t0 + 1s, 10min, 100).empty());
      store->release_notifications("me");
      CHECK(other->claim_notifications("other", k_t0 + 1s, 10min, 100).size() == 1);
    }

    SECTION("an expired lease is taken over")
    {
      CHECK(store->claim_notifications("me", k_t0 + 1s, 0ms, 100).size() == 1);
      CHECK(backend.open(dir.path())->claim_notifications("other", k_t0 + 1s, 10min, 100).size()
            == 1);
    }

    SECTION("not before its next attempt")
    {
      CHECK(store->claim_notifications("me", k_t0 - 1s, 10min, 100).empty());
    }

    SECTION("finishing: retry later, then failed with a fallback row, all counted per channel")
    {
      auto claimed = store->claim_notifications("me", k_t0 + 1s, 10min, 100);
      REQUIRE(claimed.size() == 1);
      Notification row = claimed[0].notification;
      row.attempts = 1;
      row.last_error = "HTTP 503";
      row.next_attempt_at = k_t0 + 1min;
      std::vector<Notification> none;
      store->finish_notification(row, none);
      CHECK(store->claim_notifications("me", k_t0 + 30s, 10min, 100).empty());
      claimed = store->claim_notifications("me", k_t0 + 1min, 10min, 100);
      REQUIRE(claimed.size() == 1);
      CHECK(claimed[0].notification.attempts == 1);
      CHECK(claimed[0].notification.last_error == "HTTP 503");

      row = claimed[0].notification;
      row.attempts = 2;
      row.state = OutboxState::failed;
      row.last_error = "HTTP 404: no such hook";
      row.next_attempt_at.reset();
      Notification fallback = row;
      fallback.channel = "board";
      fallback.state = OutboxState::pending;
      fallback.attempts = 0;
      fallback.fallback_of = row.id;
      fallback.next_attempt_at = k_t0 + 1min;
      std::vector<Notification> follow_ups{fallback};
      store->finish_notification(row, follow_ups);
      CHECK(follow_ups[0].id > 0);
      const auto rows = store->recent_notifications("api", 10);
      REQUIRE(rows.size() == 3);
      const auto again = store->claim_notifications("me", k_t0 + 2min, 10min, 100);
      REQUIRE(again.size() == 1);
      CHECK(again[0].notification.channel == "board");
      CHECK(again[0].notification.fallback_of == row.id);

      const auto health = store->channel_health(k_t0 - 1h);
      REQUIRE(health.size() == 2);
      CHECK(health[0].channel == "board");
      CHECK(health[0].pending == 1);
      CHECK(health[0].sent == 1);
      CHECK(health[1].channel == "hook");
      CHECK(health[1].failed == 1);
      CHECK(health[1].pending == 0);
      CHECK(health[1].last_error == "HTTP 404: no such hook");
    }
  }
}
