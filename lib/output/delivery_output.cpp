// SPDX-License-Identifier: MIT
#include "output/delivery_output.hpp"

#include "output/table.hpp"

#include <fmt/format.h>

namespace hb::output {
namespace {

// docs/schema/hb-notify.schema.json; changes only when a field changes meaning or disappears.
constexpr int k_notify_json_schema = 1;

} // namespace

using delivery::ChannelTally;

std::string delivery_line(const delivery::DeliveryReport& report, const Style& style)
{
  const int sent = report.total(&ChannelTally::sent);
  const int retrying = report.total(&ChannelTally::retrying);
  const int failed = report.total(&ChannelTally::failed);
  const int held = report.total(&ChannelTally::held);
  if (sent + retrying + failed + held == 0) {
    return "";
  }
  std::string line = fmt::format("notifications: {} sent", sent);
  if (retrying > 0) {
    line += ", " + style.paint(fmt::format("{} retrying", retrying), Tone::warn);
  }
  if (failed > 0) {
    line += ", " + style.paint(fmt::format("{} failed", failed), Tone::bad);
  }
  if (held > 0) {
    line += fmt::format(", {} held for quiet hours", held);
  }
  return line;
}

void print_delivery(const delivery::DeliveryReport& report, std::ostream& out, const Style& style)
{
  Table table({"", "CHANNEL", "SENT", "RETRYING", "FAILED", "HELD", "LAST ERROR"});
  for (const auto& [name, t] : report.channels) {
    const bool bad = t.failed > 0 || t.retrying > 0;
    table.add({style.paint(symbol(bad ? Symbol::bad : Symbol::ok), bad ? Tone::bad : Tone::good), name,
               std::to_string(t.sent), std::to_string(t.retrying), std::to_string(t.failed),
               std::to_string(t.held), t.last_error});
  }
  if (!table.empty()) {
    table.print(out);
  }
  const std::string line = delivery_line(report, style);
  out << (line.empty() ? "notifications: nothing due" : line) << '\n';
}

nlohmann::json delivery_to_json(const delivery::DeliveryReport& report)
{
  nlohmann::json channels = nlohmann::json::object();
  for (const auto& [name, t] : report.channels) {
    channels[name] = {{"sent", t.sent},         {"retrying", t.retrying}, {"failed", t.failed},
                      {"held", t.held},         {"requests", t.requests},
                      {"lastError", t.last_error}};
  }
  return {{"sent", report.total(&ChannelTally::sent)},
          {"retrying", report.total(&ChannelTally::retrying)},
          {"failed", report.total(&ChannelTally::failed)},
          {"held", report.total(&ChannelTally::held)},
          {"requests", report.total(&ChannelTally::requests)},
          {"channels", channels}};
}

nlohmann::json notify_to_json(const delivery::DeliveryReport& report)
{
  nlohmann::json out{{"schema", k_notify_json_schema}};
  out.update(delivery_to_json(report));
  return out;
}

} // namespace hb::output
