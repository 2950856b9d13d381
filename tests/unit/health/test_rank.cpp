// SPDX-License-Identifier: MIT
#include "health/rank.hpp"

#include <catch2/catch.hpp>

#include <array>

namespace {

using hb::Health;

// The documented order, best evidence first: unknown < healthy < warning < failing.
constexpr std::array<Health, 4> k_order{Health::unknown, Health::healthy, Health::warning,
                                        Health::failing};

} // namespace

TEST_CASE("health::rank")
{
  using hb::health::rank;
  using hb::health::worse;
  using hb::health::worst;

  SECTION("unknown < healthy < warning < failing")
  {
    for (std::size_t i = 0; i + 1 < k_order.size(); ++i) {
      CAPTURE(hb::to_string(k_order[i]), hb::to_string(k_order[i + 1]));
      CHECK(rank(k_order[i]) < rank(k_order[i + 1]));
      CHECK(worse(k_order[i + 1], k_order[i]));
      CHECK_FALSE(worse(k_order[i], k_order[i + 1]));
    }
  }

  SECTION("worst of two follows the order and does not depend on the argument order")
  {
    for (std::size_t i = 0; i < k_order.size(); ++i) {
      for (std::size_t j = 0; j < k_order.size(); ++j) {
        CAPTURE(hb::to_string(k_order[i]), hb::to_string(k_order[j]));
        CHECK(worst(k_order[i], k_order[j]) == k_order[std::max(i, j)]);
        CHECK(worst(k_order[i], k_order[j]) == worst(k_order[j], k_order[i]));
      }
    }
  }

  SECTION("unknown never outweighs evidence")
  {
    // pulse/evaluate.cpp once ranked unknown equal to healthy and status/status.cpp below it:
    // with one ranking, no evidence loses to any evidence, including good news.
    CHECK(worse(Health::healthy, Health::unknown));
    CHECK(worst(Health::unknown, Health::healthy) == Health::healthy);
    CHECK(worst(Health::healthy, Health::unknown) == Health::healthy);
    CHECK_FALSE(worse(Health::unknown, Health::unknown));
  }
}
