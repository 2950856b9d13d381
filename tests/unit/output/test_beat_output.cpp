// SPDX-License-Identifier: MIT
#include "output/beat_output.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>

TEST_CASE("beat_to_json")
{
  hb::agents::RecordedBeat beat;
  beat.target = "worker";
  beat.at = *hb::util::parse_rfc3339("2026-03-02T12:08:30Z");
  beat.status = hb::BeatStatus::degraded;
  beat.write.state.state = hb::AgentState::online;
  beat.write.state.beats = 4;
  hb::Event e;
  e.target_id = "worker";
  e.at = beat.at;
  e.type = hb::EventType::agent_online;
  e.old_state = "offline";
  e.new_state = "online";
  beat.write.events.push_back(e);

  const auto j = hb::output::beat_to_json(beat);
  CHECK(j["target"] == "worker");
  CHECK(j["at"] == "2026-03-02T12:08:30Z");
  CHECK(j["status"] == "degraded");
  CHECK(j["state"] == "online");
  CHECK(j["beats"] == 4);
  REQUIRE(j["events"].size() == 1);
  CHECK(j["events"][0]["from"] == "offline");
  CHECK(hb::output::beat_line(beat) == "worker: degraded beat recorded; state online");
}
