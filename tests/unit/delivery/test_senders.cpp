// SPDX-License-Identifier: MIT
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>

using hb::ChannelType;

TEST_CASE("make_sender", "[delivery]")
{
  SECTION("every channel type that sends has a sender")
  {
    for (const ChannelType type :
         {ChannelType::slack, ChannelType::webhook, ChannelType::email, ChannelType::sms,
          ChannelType::whatsapp, ChannelType::pagerduty, ChannelType::command}) {
      CAPTURE(hb::to_string(type));
      CHECK(hb::delivery::make_sender(hb::test::channel_of(type)) != nullptr);
    }
  }

  SECTION("the dashboard has none: it is delivered by being in the database")
  {
    CHECK(hb::delivery::make_sender(hb::test::channel_of(ChannelType::dashboard)) == nullptr);
  }
}
