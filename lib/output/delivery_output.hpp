// SPDX-License-Identifier: MIT
#pragma once

#include "delivery/deliver.hpp"
#include "output/style.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

namespace hb::output {

// "notifications: 3 sent, 1 retrying (hook: HTTP 503), 2 held" — "" when nothing was delivered.
std::string delivery_line(const delivery::DeliveryReport& report, const Style& style);

// One line per channel that had work: sent, retrying, failed, held, requests, last error.
void print_delivery(const delivery::DeliveryReport& report, std::ostream& out, const Style& style);

// {"sent","retrying","failed","held","requests","channels":{name:{...,"lastError"}}}: part of
// hb-pulse's and hb-recover's reports.
nlohmann::json delivery_to_json(const delivery::DeliveryReport& report);

// hb-notify --json: delivery_to_json with its "schema" (docs/schema/hb-notify.schema.json).
nlohmann::json notify_to_json(const delivery::DeliveryReport& report);

} // namespace hb::output
