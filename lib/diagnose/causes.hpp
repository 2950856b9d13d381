// SPDX-License-Identifier: MIT
#pragma once

// Why a check result failed, normalised so that many results group into a few causes
// (hb-diagnose): from the failure phase the check recorded and its message. Pure.

#include "core/model/execution.hpp"

#include <string>
#include <string_view>

namespace hb::diagnose {

enum class CauseKind {
  rate_limited,  // HTTP 429
  server_error,  // HTTP 5xx
  http_status,   // another unexpected HTTP status
  body,          // the answer's body was not what was expected
  slow,          // answered, slower than max_latency
  timeout,       // no answer within the check's timeout
  deadline,      // cut off at the pulse deadline (or by a shutdown)
  dns,
  tls,
  refused,       // connection refused: nothing listens there
  connect,       // another connection failure (unreachable, reset)
  exit_code,     // a command check (plugin) exited non-zero or was killed
  cannot_run,    // a command check's program could not be started
  file,          // a file check: the file is missing, too old or of the wrong size
  other,
};

std::string_view to_string(CauseKind kind);

struct Cause {
  CauseKind kind = CauseKind::other;
  std::string label;  // for people, with digits kept: "HTTP 429", "connection refused"
};

// Classifies a failing result by its phase (checks::CheckResult::phase) and message.
Cause classify(const CheckResultRecord& result);

// The finding id of a failing check whose main cause is `kind`: "check.rate_limited", ...
std::string check_finding_id(CauseKind kind);

// What an operator can do about a check failing for `kind`.
std::string advice_for(CauseKind kind);

} // namespace hb::diagnose
