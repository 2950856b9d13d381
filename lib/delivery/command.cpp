// SPDX-License-Identifier: MIT
// Command: a program run without a shell, the notification's JSON body on its stdin
// (docs/channels.md, "Command").

#include "delivery/format.hpp"
#include "delivery/http_send.hpp"
#include "delivery/senders.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"

#include <fmt/format.h>

namespace hb::delivery {
namespace {

// sysexits.h's EX_TEMPFAIL: "try again later".
constexpr int k_exit_tempfail = 75;
constexpr std::size_t k_max_error = 300;

class CommandSender final : public OneAtATimeSender {
public:
  explicit CommandSender(config::Channel channel)
      : m_channel(std::move(channel))
  {
    for (const auto& [name, value] : m_channel.env) {
      m_secrets.push_back(value);
    }
    // What looks like a secret among the arguments (--token x, URL credentials) may be echoed.
    for (auto& hidden : util::mask_arguments(m_channel.command).hidden) {
      m_secrets.push_back(std::move(hidden));
    }
  }

private:
  SendResult send_one(const Message& message, const SendContext& context) override
  {
    SendResult result;
    if (m_channel.command.empty()) {
      result.error = "command: the channel has no command";
      return result;
    }
    util::ProcessSpec spec;
    spec.argv = m_channel.command;
    spec.env = m_channel.env;
    spec.timeout = m_channel.policy.timeout;
    spec.cancel = context.cancel;
    spec.stdin_data = json_body(message_json(message));
    spec.output_cap = 16 * 1024;
    // The reason a failing program gives is usually the last thing it printed.
    spec.keep = util::ProcessSpec::Keep::tail;
    const util::ProcessResult run = util::run_process(spec);
    const util::ProcessOutcome outcome = util::outcome_of(run);
    switch (outcome.kind) {
    case util::ProcessOutcome::Kind::succeeded:
      result.kind = SendResult::Kind::sent;
      return result;
    case util::ProcessOutcome::Kind::timed_out:
    case util::ProcessOutcome::Kind::cancelled:
      result.kind = SendResult::Kind::retry;
      break;
    case util::ProcessOutcome::Kind::failed:
      result.kind = run.end == util::ProcessResult::End::exited && run.exit_code == k_exit_tempfail
                        ? SendResult::Kind::retry
                        : SendResult::Kind::failed;
      break;
    }
    result.error =
        scrub(fmt::format("command {}: {}", program(), one_line(outcome.message, k_max_error)),
              m_secrets, context.redactor);
    return result;
  }

  // The program's name, never its arguments (which may hold a token).
  std::string program() const
  {
    const std::string& path = m_channel.command.front();
    const std::size_t slash = path.rfind('/');
    return fmt::format("\"{}\"", slash == std::string::npos ? path : path.substr(slash + 1));
  }

  config::Channel m_channel;
  std::vector<std::string> m_secrets;
};

} // namespace

std::unique_ptr<Sender> make_command_sender(const config::Channel& channel)
{
  return std::make_unique<CommandSender>(channel);
}

} // namespace hb::delivery
