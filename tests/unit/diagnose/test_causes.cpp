// SPDX-License-Identifier: MIT
#include "diagnose/causes.hpp"

#include <catch2/catch.hpp>

using namespace hb;
using namespace hb::diagnose;

namespace {

Cause of(const std::string& phase, const std::string& message)
{
  CheckResultRecord r;
  r.status = CheckStatus::alert;
  r.phase = phase;
  r.message = message;
  return classify(r);
}

} // namespace

TEST_CASE("classify: HTTP statuses")
{
  CHECK(of("http_status", "HTTP 429 (expected 200-399)").kind == CauseKind::rate_limited);
  CHECK(of("http_status", "HTTP 503 (expected 200-399)").kind == CauseKind::server_error);
  CHECK(of("http_status", "HTTP 503 (expected 200-399)").label == "HTTP 503");
  CHECK(of("http_status", "HTTP 500 (expected 200)").kind == CauseKind::server_error);
  CHECK(of("http_status", "HTTP 404 (expected 200)").kind == CauseKind::http_status);
  CHECK(of("http_status", "HTTP 404 (expected 200)").label == "HTTP 404");
  // Not a status line: still an HTTP status problem, without a number.
  CHECK(of("http_status", "odd").label == "HTTP status");
}

TEST_CASE("classify: transport phases")
{
  CHECK(of("timeout", "Operation timed out after 2001 milliseconds").kind == CauseKind::timeout);
  CHECK(of("cancelled", "cut off: pulse deadline or shutdown").kind == CauseKind::deadline);
  CHECK(of("dns", "dns lookup failed: Could not resolve host").kind == CauseKind::dns);
  CHECK(of("tls", "TLS failed: SSL certificate problem: certificate has expired").label ==
        "TLS certificate expired");
  CHECK(of("tls", "TLS failed: unknown CA").label == "TLS failed");
  CHECK(of("connect", "connect failed: Connection refused").kind == CauseKind::refused);
  CHECK(of("connect", "connect failed: No route to host").kind == CauseKind::connect);
}

TEST_CASE("classify: commands and the rest")
{
  CHECK(of("exit_code", "DISK CRITICAL - free space: / 2%").kind == CauseKind::exit_code);
  CHECK(of("signal", "killed by signal 9").kind == CauseKind::exit_code);
  CHECK(of("spawn", "cannot run \"/x/check\": No such file or directory").kind ==
        CauseKind::cannot_run);
  CHECK(of("body", "body does not contain \"ok\"").kind == CauseKind::body);
  CHECK(of("latency", "slow: 3s > 1s").kind == CauseKind::slow);
  CHECK(of("", "something").kind == CauseKind::other);
  CHECK(of("", "something").label == "failed");
  CHECK(of("age", "export.csv is 3d old (max_age 1d)").kind == CauseKind::file);
  CHECK(of("age", "export.csv is 3d old (max_age 1d)").label == "file too old");
  CHECK(of("missing", "no such file").label == "file missing");
  CHECK(of("size", "12 B < 1 KiB").kind == CauseKind::file);
  CHECK(of("quota", "odd").label == "quota");
}

TEST_CASE("check_finding_id and advice_for cover every cause")
{
  for (int k = 0; k <= static_cast<int>(CauseKind::other); ++k) {
    const auto kind = static_cast<CauseKind>(k);
    CHECK(check_finding_id(kind) == "check." + std::string(to_string(kind)));
    CHECK_FALSE(advice_for(kind).empty());
  }
  CHECK(check_finding_id(CauseKind::rate_limited) == "check.rate_limited");
}
