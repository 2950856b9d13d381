// SPDX-License-Identifier: MIT
#include "delivery/format.hpp"
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>

using hb::EventType;
using hb::test::failing_group;
using hb::test::failing_message;
using hb::test::recovery_message;

TEST_CASE("delivery::title", "[delivery]")
{
  auto message = failing_message();
  CHECK(hb::delivery::title(message) == "Payments API is failing");
  message.target_name = "";
  CHECK(hb::delivery::title(message) == "payments is failing");
  message.event.type = EventType::job_late;
  CHECK(hb::delivery::title(message) == "payments is late");
  message.event.type = EventType::still_failing;
  CHECK(hb::delivery::title(message) == "payments is still failing");
  CHECK(hb::delivery::title(recovery_message()) == "Payments API recovered");
  message.event.target_id = "";
  message.event.type = EventType::pulse_stale;
  CHECK(hb::delivery::title(message) == "hb-pulse has stopped running");
}

TEST_CASE("delivery::level_word", "[delivery]")
{
  auto message = failing_message();
  CHECK(hb::delivery::level_word(message) == "ALERT");
  message.level = hb::EventLevel::critical;
  CHECK(hb::delivery::level_word(message) == "CRITICAL");
  CHECK(hb::delivery::level_word(recovery_message()) == "RESOLVED");
}

TEST_CASE("delivery::group_title", "[delivery]")
{
  CHECK(hb::delivery::group_title(failing_group(5)) == "5 targets failing");
  auto mixed = failing_group(2);
  mixed.push_back(recovery_message());
  CHECK(hb::delivery::group_title(mixed) == "3 targets changed state");
  CHECK(hb::delivery::group_level(mixed) == hb::EventLevel::alert);
  CHECK_FALSE(hb::delivery::all_recoveries(mixed));
}

TEST_CASE("delivery::format_clock", "[delivery]")
{
  CHECK(hb::delivery::format_clock(*hb::util::parse_rfc3339("2026-02-18T14:02:59Z")) == "14:02Z");
  CHECK(hb::delivery::format_time(*hb::util::parse_rfc3339("2026-02-18T14:02:59Z")) ==
        "2026-02-18T14:02:59Z");
}

TEST_CASE("delivery::truncate", "[delivery]")
{
  CHECK(hb::delivery::truncate("short", 10) == "short");
  CHECK(hb::delivery::truncate("0123456789abc", 10) == "0123456...");
  // Never cuts a character in two.
  CHECK(hb::delivery::truncate("ab\u00fc\u00fc\u00fc\u00fc", 8) == "ab\u00fc...");
  CHECK(hb::delivery::one_line("a\n\n b\x1b[1m\tc", 100) == "a b [1m c");
}
