// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/metric.hpp"
#include "core/types.hpp"
#include "util/http.hpp"
#include "util/time.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hb::checks {

// Outcome of one run of one check (SPEC §2 "Check result").
struct CheckResult {
  CheckStatus status = CheckStatus::error;
  std::string message;          // one line, for people
  Duration latency{0};          // how long the probe took
  std::vector<Metric> metrics;
  // Where a failure happened, for diagnosis and recovery: "dns", "connect", "tls", "http_status",
  // "body", "latency", "timeout", "exit_code", "spawn", "missing", "age", "size", "cancelled", ...
  std::string phase;
};

// What a running check may consult. `cancel` becomes true when the pulse hits its deadline or the
// tool receives SIGTERM/SIGINT; a check must then return promptly (with status error). Checks
// take "now" from `clock` and make HTTP requests through `http`, never on their own, so tests
// can control both.
struct CheckContext {
  const std::atomic<bool>& cancel;
  Duration timeout;  // this check's own timeout; the check enforces it itself
  const util::Clock& clock;
  util::HttpClient& http = util::default_http_client();
};

// A configured probe. Implementations are immutable after construction and run concurrently
// from several threads; run() must not throw for expected failures (it returns a result), but the
// runner turns any exception into an error result anyway.
class Check {
public:
  virtual ~Check() = default;
  virtual CheckResult run(const CheckContext& context) const = 0;
  // A short description for people and for the database, with secrets removed:
  // "GET https://api.example.com/health", "check_disk -w 10%", "file /var/backups/db.gz".
  virtual std::string describe() const = 0;
  // The program a command check runs, as configured (argv[0]; "" for other types): hb-diagnose
  // says when it does not exist or cannot be executed.
  virtual std::string program() const { return {}; }
};

// A check as configured on a target: the common settings plus the type-specific probe.
struct CheckDef {
  std::string name;
  std::string type;
  Duration timeout{10'000};
  Severity severity = Severity::alert;
  int confirm = 1;       // consecutive failures before the failure counts
  int recover_after = 1; // consecutive successes before a failing check counts as healthy again
  std::shared_ptr<const Check> probe;
};

// A failing result of the configured severity, for checks whose probe found a definite problem.
CheckStatus failure_status(Severity severity);

} // namespace hb::checks
