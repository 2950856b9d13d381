// SPDX-License-Identifier: MIT
// What every backend stores the same way (store/encoding.hpp): here, what the backends' tests
// cannot reach through a Store, such as a document an older binary wrote or one that is damaged.
#include "store/encoding.hpp"

#include <catch2/catch.hpp>

using namespace hb;
using namespace hb::store;
using namespace std::chrono_literals;

TEST_CASE("encode_attempt_steps and decode_attempt_steps")
{
  SECTION("round trip, with and without an exit code")
  {
    const std::vector<AttemptStep> steps{
      {"check", "http: connection refused", std::nullopt, "", 120ms, "failing"},
      {"action", "systemctl restart api", 137, "killed\n", 30'000ms, "timed_out"},
    };
    const auto decoded = decode_attempt_steps(encode_attempt_steps(steps));
    REQUIRE(decoded.size() == 2);
    CHECK(decoded[0].kind == "check");
    CHECK(decoded[0].what == "http: connection refused");
    CHECK_FALSE(decoded[0].exit_code);
    CHECK(decoded[0].output.empty());
    CHECK(decoded[0].duration == 120ms);
    CHECK(decoded[0].result == "failing");
    CHECK(decoded[1].exit_code == 137);
    CHECK(decoded[1].output == "killed\n");
    CHECK(decoded[1].duration == 30'000ms);
    CHECK(decoded[1].result == "timed_out");
  }

  SECTION("the stored shape")
  {
    CHECK(encode_attempt_steps({{"verify", "ok", std::nullopt, "", 5ms, "ok"}})
          == R"([{"duration_ms":5,"exit_code":null,"kind":"verify","output":"","result":"ok",)"
             R"("what":"ok"}])");
    CHECK(encode_attempt_steps({}) == "[]");
  }

  SECTION("anything else yields no steps; elements that are not objects are skipped")
  {
    CHECK(decode_attempt_steps("").empty());
    CHECK(decode_attempt_steps("{}").empty());
    const auto decoded = decode_attempt_steps(R"([1, "x", {"kind": "check", "exit_code": "2"}])");
    REQUIRE(decoded.size() == 1);
    CHECK(decoded[0].kind == "check");
    CHECK_FALSE(decoded[0].exit_code);
  }
}

TEST_CASE("decode_notify_policy: escalation_channels")
{
  NotifyPolicy policy;
  policy.escalation_channels = {"pager"};
  const auto decoded = decode_notify_policy(encode_notify_policy(policy));
  REQUIRE(decoded);
  CHECK(decoded->escalation_channels == std::vector<std::string>{"pager"});

  // A policy stored before hb-recover has no such key.
  const auto old = decode_notify_policy(R"({"channels": [], "rules": []})");
  REQUIRE(old);
  CHECK(old->escalation_channels.empty());
}
