// SPDX-License-Identifier: MIT
#include "support/tool_runner.hpp"
#include "unit/delivery/delivery_test.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <string>

using hb::ChannelType;
using hb::Duration;
using hb::delivery::SendResult;
using hb::test::failing_message;
using hb::test::TempDir;

namespace {

// The command channel runs argv without a shell; the test's program happens to be sh.
hb::config::Channel command(const std::string& script, std::map<std::string, std::string> env = {})
{
  hb::config::Channel channel = hb::test::channel_of(ChannelType::command, "hook-cmd");
  channel.command = {"/bin/sh", "-c", script, "notify"};
  channel.env = std::move(env);
  return channel;
}

SendResult send(const hb::config::Channel& channel, const hb::util::Redactor& redactor = {},
                const std::atomic<bool>* cancel = nullptr)
{
  hb::test::FakeHttpClient http(hb::test::http_answer(500));
  hb::delivery::SendContext context{http, redactor, cancel};
  return hb::delivery::make_sender(channel)->send({failing_message()}, context);
}

} // namespace

TEST_CASE("command sender", "[delivery][command]")
{
  TempDir dir;
  const std::string out = (dir / "stdin.json").string();

  SECTION("the message JSON arrives on stdin, with the channel's environment; exit 0 is sent")
  {
    const SendResult result = send(
        command("cat > \"$OUT\"; echo \"$TEAM\" > \"$OUT.env\"", {{"OUT", out}, {"TEAM", "ops"}}));
    CHECK(result.kind == SendResult::Kind::sent);
    CHECK(result.error.empty());
    const auto body = nlohmann::json::parse(hb::test::read_file(out));
    CHECK(body["id"] == "hb-42");
    CHECK(body["event"]["type"] == "failing");
    CHECK(body["target"]["id"] == "payments");
    CHECK(hb::test::read_file(out + ".env") == "ops\n");
  }

  SECTION("exit 75 (EX_TEMPFAIL) is retried")
  {
    const SendResult result = send(command("cat > /dev/null; echo 'queue full' >&2; exit 75"));
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(result.error == "command \"sh\": exited with code 75: queue full");
  }

  SECTION("exit 2 fails, with the last line it printed")
  {
    const SendResult result =
        send(command("cat > /dev/null; echo starting; echo 'bad channel id' >&2; exit 2"));
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error == "command \"sh\": exited with code 2: bad channel id");
  }

  SECTION("a timeout is retried")
  {
    auto channel = command("exec sleep 30");
    channel.policy.timeout = Duration(300);
    const auto start = std::chrono::steady_clock::now();
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::retry);
    CHECK(result.error.find("timed out") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  }

  SECTION("a program that does not exist fails")
  {
    auto channel = command("");
    channel.command = {(dir / "no-such-program").string()};
    const SendResult result = send(channel);
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error.rfind("command \"no-such-program\": ", 0) == 0);
  }

  SECTION("secrets it prints are hidden: env values, --token arguments, the redactor's")
  {
    auto channel = command("echo \"key $API_KEY tok $2 pw hunter22\" >&2; exit 1",
                           {{"API_KEY", "k3y-from-env-123"}});
    channel.command.push_back("--token");
    channel.command.push_back("t0ken-arg-456");
    const SendResult result = send(channel, hb::util::Redactor({"hunter22"}));
    CHECK(result.kind == SendResult::Kind::failed);
    CHECK(result.error.find("k3y-from-env-123") == std::string::npos);
    CHECK(result.error.find("t0ken-arg-456") == std::string::npos);
    CHECK(result.error.find("hunter22") == std::string::npos);
    CHECK(result.error == "command \"sh\": exited with code 1: key *** tok *** pw ***");
  }
}
