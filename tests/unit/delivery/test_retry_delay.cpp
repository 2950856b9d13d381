// SPDX-License-Identifier: MIT
#include "delivery/deliver.hpp"

#include <catch2/catch.hpp>

using hb::ChannelPolicy;
using hb::delivery::retry_delay;
using namespace std::chrono_literals;

TEST_CASE("retry_delay: doubling with full jitter, capped, never before Retry-After", "[delivery]")
{
  ChannelPolicy channel;  // 30s, doubling, at most 1h
  SECTION("the ceiling doubles per attempt and stops at retry_backoff_max")
  {
    CHECK(retry_delay(channel, 1, std::nullopt, 0.999999) <= 30s);
    CHECK(retry_delay(channel, 1, std::nullopt, 0.999999) > 29s);
    CHECK(retry_delay(channel, 2, std::nullopt, 0.999999) > 59s);
    CHECK(retry_delay(channel, 3, std::nullopt, 0.999999) > 119s);
    CHECK(retry_delay(channel, 8, std::nullopt, 0.999999) > 59min);
    CHECK(retry_delay(channel, 8, std::nullopt, 0.999999) <= 1h);
    CHECK(retry_delay(channel, 1000, std::nullopt, 0.999999) <= 1h);
  }
  SECTION("full jitter: anywhere from nothing to the ceiling")
  {
    CHECK(retry_delay(channel, 3, std::nullopt, 0.0) == 0s);
    CHECK(retry_delay(channel, 3, std::nullopt, 0.5) == 60s);
  }
  SECTION("the provider's Retry-After is a floor, itself capped")
  {
    CHECK(retry_delay(channel, 1, 120s, 0.1) == 120s);
    CHECK(retry_delay(channel, 1, 5s, 0.5) == 15s);
    CHECK(retry_delay(channel, 1, 48h, 0.5) == 1h);
  }
}
