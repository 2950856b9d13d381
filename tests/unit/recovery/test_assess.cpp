// SPDX-License-Identifier: MIT
// hb-recover's pure decisions (lib/recovery/assess.cpp): verdicts, plans, backoff, actions,
// shared causes.
#include "recovery/assess.hpp"

#include "config/config.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace hb;
using recovery::Assessment;
using recovery::Plan;
using recovery::TargetFacts;
using recovery::Verdict;

const TimePoint k_now = *util::parse_rfc3339("2026-02-18T14:05:00Z");
constexpr Duration k_minute{60'000};

config::Config load_text(const std::string& text)
{
  config::LoadOptions options;
  options.discovery = config::RunDiscovery::no;
  return config::load_from_string(text, "heartbeat.json", options);
}

const config::Config& fleet()
{
  static const config::Config k_config = load_text(R"({
    "recovery": {"actions": {
      "failing": ["/bin/restart", "${target.id}", "${issue}"],
      "checks": {"db": ["/bin/restart-db", "${check.name}"]},
      "phases": {"timeout": ["/bin/scale-up", "${target.name}"]}}},
    "targets": [
      {"id": "api", "name": "The API", "interval": "5m", "stale_after": "1h",
       "checks": [{"name": "health", "type": "http", "url": "http://127.0.0.1:9/health"},
                  {"name": "db", "type": "tcp", "host": "db.internal", "port": 5432}],
       "recovery": {"actions": {"failing": ["/bin/own-restart"]}}},
      {"id": "plain", "interval": "5m", "checks": [{"name": "c", "type": "http", "url": "https://x.example/"}]},
      {"id": "off", "interval": "5m", "checks": [{"name": "c", "type": "http", "url": "https://x.example/"}],
       "recovery": {"enabled": false}},
      {"id": "graced", "interval": "5m", "new_target_grace": "1h",
       "checks": [{"name": "c", "type": "http", "url": "https://x.example/"}]}
    ]})");
  return k_config;
}

TargetFacts facts_for(const std::string& id)
{
  TargetFacts f;
  f.target = fleet().find_target(id);
  f.record.info.id = id;
  f.record.info.name = f.target->name;
  f.record.info.interval = f.target->interval;
  f.record.info.stale_after = f.target->stale_after;
  for (const auto& c : f.target->checks) {
    f.record.info.checks.push_back({c.name, c.type, c.severity, ""});
  }
  f.record.first_seen = k_now - std::chrono::hours(48);
  TargetState state;
  state.target_id = id;
  state.health = Health::healthy;
  state.last_execution_at = k_now - k_minute;
  f.checks = state;
  return f;
}

// A target whose check `check` counts as failing since 10 minutes, in `phase`.
TargetFacts failing(const std::string& id, const std::string& check, const std::string& phase,
                    const std::string& message = "boom")
{
  TargetFacts f = facts_for(id);
  f.checks->health = Health::failing;
  f.checks->since = k_now - 10 * k_minute;
  CheckState cs;
  cs.check_name = check;
  cs.confirmed = CheckStatus::alert;
  cs.last_status = CheckStatus::alert;
  cs.last_message = message;
  f.checks->checks.push_back(cs);
  CheckResultRecord r;
  r.check_name = check;
  r.status = CheckStatus::alert;
  r.phase = phase;
  r.message = message;
  f.last_results.push_back(r);
  return f;
}

Assessment judge(const TargetFacts& f, recovery::Force force = recovery::Force::no)
{
  return recovery::assess(f, fleet().recovery, k_now, force);
}

} // namespace

TEST_CASE("assess: healthy, failing, stale, offline and high error rate")
{
  CHECK(judge(facts_for("api")).verdict == Verdict::healthy);

  const Assessment a = judge(failing("api", "health", "connect"));
  CHECK(a.verdict == Verdict::unhealthy);
  CHECK(a.issue == RecoveryIssue::failing);
  CHECK(a.check_name == "health");
  CHECK(a.phase == "connect");
  CHECK(a.plan == Plan::attempt);
  CHECK(a.since == k_now - 10 * k_minute);

  TargetFacts stale = facts_for("api");
  stale.checks->last_execution_at = k_now - std::chrono::hours(2);
  const Assessment s = judge(stale);
  CHECK(s.verdict == Verdict::unhealthy);
  CHECK(s.issue == RecoveryIssue::stale);

  TargetFacts agent = facts_for("plain");
  agent.checks.reset();
  agent.record.info.checks.clear();
  agent.beat = health::BeatHealth{Health::failing, k_now - 5 * k_minute};
  agent.beat_state = "offline";
  const Assessment o = judge(agent);
  CHECK(o.verdict == Verdict::unhealthy);
  CHECK(o.issue == RecoveryIssue::offline);
  CHECK(o.reason == "agent offline");

  TargetFacts rate = facts_for("plain");
  rate.window = {"plain", 10, 6};
  const Assessment r = judge(rate);
  CHECK(r.verdict == Verdict::unhealthy);
  CHECK(r.issue == RecoveryIssue::high_error_rate);
  rate.window = {"plain", 10, 5};  // not above 50 %
  CHECK(judge(rate).verdict == Verdict::healthy);
  rate.window = {"plain", 2, 2};  // too few executions to judge a rate
  CHECK(judge(rate).verdict == Verdict::healthy);
}

TEST_CASE("assess: what is left alone, and why")
{
  TargetFacts paused = failing("api", "health", "connect");
  paused.record.info.paused = true;
  CHECK(judge(paused).verdict == Verdict::left_alone);
  CHECK(judge(paused).reason == "paused");

  const Assessment off = judge(failing("off", "c", "connect"));
  CHECK(off.verdict == Verdict::left_alone);
  CHECK_THAT(off.reason, Catch::Contains("disabled for this target"));

  TargetFacts graced = failing("graced", "c", "connect");
  graced.record.first_seen = k_now - 10 * k_minute;
  CHECK(judge(graced).verdict == Verdict::left_alone);
  CHECK_THAT(judge(graced).reason, Catch::Contains("grace"));

  TargetFacts maintained = failing("api", "health", "connect");
  maintained.maintenance = health::MaintenanceHit{"deploy", k_now - k_minute, k_now + 30 * k_minute};
  CHECK_THAT(judge(maintained).reason, Catch::Contains("maintenance \"deploy\""));

  TargetFacts downstream = failing("api", "health", "connect");
  downstream.failing_dependencies = {"db"};
  CHECK(judge(downstream).verdict == Verdict::left_alone);
  CHECK_THAT(judge(downstream).reason, Catch::Contains("upstream db is failing"));
}

TEST_CASE("assess: backoff, --force, and the restart budget that --force does not override")
{
  TargetFacts f = failing("api", "health", "connect");
  f.state = RecoveryState{};
  f.state->target_id = "api";
  f.state->failed_attempts = 1;
  f.state->next_attempt_at = k_now + 5 * k_minute;
  CHECK(judge(f).plan == Plan::backoff);
  CHECK(judge(f).next_attempt_at == k_now + 5 * k_minute);
  CHECK(judge(f, recovery::Force::yes).plan == Plan::attempt);

  f.state->next_attempt_at = k_now - k_minute;
  CHECK(judge(f).plan == Plan::attempt);

  f.attempts_in_window = 5;  // max_attempts 5
  const Assessment spent = judge(f, recovery::Force::yes);
  CHECK(spent.plan == Plan::suspended);
  CHECK(spent.suspend_now);

  f.attempts_in_window = 1;
  f.state->suspended_at = k_now - k_minute;
  const Assessment suspended = judge(f, recovery::Force::yes);
  CHECK(suspended.plan == Plan::suspended);
  CHECK_FALSE(suspended.suspend_now);
  CHECK_THAT(suspended.plan_reason, Catch::Contains("hb-recover --reset api"));
}

TEST_CASE("backoff_delay: full jitter below backoff x 2^(n-1), capped at backoff_max")
{
  const Duration base{60'000};
  const Duration cap{30 * 60'000};
  for (const double unit : {0.0, 0.25, 0.5, 0.999999}) {
    for (int n = 1; n <= 12; ++n) {
      const Duration d = recovery::backoff_delay(n, base, cap, unit);
      const double ceiling = std::min<double>(cap.count(), base.count() * std::pow(2.0, n - 1));
      CHECK(d >= Duration(1'000));
      CHECK(d.count() <= ceiling);
    }
  }
  CHECK(recovery::backoff_delay(1, base, cap, 0.5) == Duration(30'000));
  CHECK(recovery::backoff_delay(3, base, cap, 0.5) == Duration(120'000));
  CHECK(recovery::backoff_delay(20, base, cap, 0.5) == Duration(15 * 60'000));
  CHECK(recovery::backoff_delay(1, base, cap, 0.0) == Duration(1'000));  // at least 1 s
}

TEST_CASE("choose_action: check, then phase, then issue type, a target's own first at each level")
{
  const auto& config = fleet();
  const auto& api = *config.find_target("api");
  std::string key;

  Assessment a = judge(failing("api", "db", "connect"));
  REQUIRE(recovery::choose_action(config.recovery, api, a, &key) != nullptr);
  CHECK(key == "checks.db");
  CHECK(recovery::expand_action(recovery::choose_action(config.recovery, api, a, nullptr)->command.argv, api, a) ==
        std::vector<std::string>{"/bin/restart-db", "db"});

  a = judge(failing("api", "health", "timeout"));
  recovery::choose_action(config.recovery, api, a, &key);
  CHECK(key == "phases.timeout");
  CHECK(recovery::expand_action(recovery::choose_action(config.recovery, api, a, nullptr)->command.argv, api, a) ==
        std::vector<std::string>{"/bin/scale-up", "The API"});

  a = judge(failing("api", "health", "connect"));
  CHECK(recovery::choose_action(config.recovery, api, a, &key)->command.argv ==
        std::vector<std::string>{"/bin/own-restart"});
  CHECK(key == "failing");

  const auto& plain = *config.find_target("plain");
  a = judge(failing("plain", "c", "http_status"));
  CHECK(recovery::expand_action(recovery::choose_action(config.recovery, plain, a, &key)->command.argv, plain, a) ==
        std::vector<std::string>{"/bin/restart", "plain", "failing"});

  TargetFacts stale = facts_for("plain");
  stale.checks->last_execution_at = k_now - std::chrono::hours(48);
  CHECK(recovery::choose_action(config.recovery, plain, judge(stale), &key) == nullptr);
}

TEST_CASE("endpoint_of and cause_key")
{
  CHECK(recovery::endpoint_of("GET http://127.0.0.1:9/health") == "127.0.0.1:9");
  CHECK(recovery::endpoint_of("GET https://api.example.com/health") == "api.example.com:443");
  CHECK(recovery::endpoint_of("POST http://user@h.example/x") == "h.example:80");
  CHECK(recovery::endpoint_of("tcp db.internal:5432") == "db.internal:5432");
  CHECK(recovery::endpoint_of("check_disk -w 10%") == "");

  CHECK(recovery::cause_key("connect", "Failed after 3 ms", "127.0.0.1:9") == "connect 127.0.0.1:9");
  CHECK(recovery::cause_key("http_status", "HTTP 503 (expected 200)", "x:80") ==
        "http_status: HTTP # (expected #)");
  CHECK(recovery::cause_key("", "whatever", "x:80") == "");
}

TEST_CASE("mark_shared_causes: enough targets failing alike become one shared cause")
{
  std::vector<Assessment> all;
  for (const char* id : {"a", "b", "c"}) {
    Assessment a;
    a.target_id = id;
    a.verdict = Verdict::unhealthy;
    a.plan = Plan::attempt;
    a.cause = "connect 127.0.0.1:9";
    all.push_back(a);
  }
  Assessment lone;
  lone.target_id = "d";
  lone.verdict = Verdict::unhealthy;
  lone.plan = Plan::attempt;
  lone.cause = "http_status: HTTP #";
  all.push_back(lone);

  auto copy = all;
  CHECK(recovery::mark_shared_causes(copy, 4).empty());
  CHECK(copy[0].plan == Plan::attempt);

  const auto shared = recovery::mark_shared_causes(all, 3);
  REQUIRE(shared.size() == 1);
  CHECK(shared[0].cause == "connect 127.0.0.1:9");
  CHECK(shared[0].targets == std::vector<std::string>{"a", "b", "c"});
  CHECK(all[0].plan == Plan::shared_cause);
  CHECK(all[2].plan == Plan::shared_cause);
  CHECK(all[3].plan == Plan::attempt);
}
