// SPDX-License-Identifier: MIT
#include "diagnose/causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace hb::diagnose {
namespace {

bool contains_nocase(std::string_view text, std::string_view part)
{
  const auto it = std::search(text.begin(), text.end(), part.begin(), part.end(),
                              [](char a, char b) {
                                return std::tolower(static_cast<unsigned char>(a)) ==
                                       std::tolower(static_cast<unsigned char>(b));
                              });
  return it != text.end();
}

// The status of a message "HTTP 503 (expected 200-299)", 0 when it has none.
int http_status_of(std::string_view message)
{
  if (message.substr(0, 5) != "HTTP ") {
    return 0;
  }
  int status = 0;
  for (std::size_t i = 5; i < message.size() && i < 8; ++i) {
    if (std::isdigit(static_cast<unsigned char>(message[i])) == 0) {
      return 0;
    }
    status = status * 10 + (message[i] - '0');
  }
  return status;
}

} // namespace

std::string_view to_string(CauseKind kind)
{
  switch (kind) {
  case CauseKind::rate_limited: return "rate_limited";
  case CauseKind::server_error: return "server_error";
  case CauseKind::http_status: return "http_status";
  case CauseKind::body: return "body";
  case CauseKind::slow: return "slow";
  case CauseKind::timeout: return "timeout";
  case CauseKind::deadline: return "deadline";
  case CauseKind::dns: return "dns";
  case CauseKind::tls: return "tls";
  case CauseKind::refused: return "refused";
  case CauseKind::connect: return "connect";
  case CauseKind::exit_code: return "exit_code";
  case CauseKind::cannot_run: return "cannot_run";
  case CauseKind::file: return "file";
  case CauseKind::other: return "other";
  }
  return "other";
}

Cause classify(const CheckResultRecord& result)
{
  const std::string_view phase = result.phase;
  const std::string_view message = result.message;
  if (phase == "http_status") {
    const int status = http_status_of(message);
    if (status == 429) {
      return {CauseKind::rate_limited, "HTTP 429 Too Many Requests"};
    }
    if (status >= 500 && status <= 599) {
      return {CauseKind::server_error, fmt::format("HTTP {}", status)};
    }
    return {CauseKind::http_status, status != 0 ? fmt::format("HTTP {}", status) : "HTTP status"};
  }
  if (phase == "body") {
    return {CauseKind::body, "unexpected body"};
  }
  if (phase == "latency") {
    return {CauseKind::slow, "slower than max_latency"};
  }
  if (phase == "timeout") {
    return {CauseKind::timeout, "timed out"};
  }
  if (phase == "cancelled") {
    return {CauseKind::deadline, "cut off at the pulse deadline"};
  }
  if (phase == "dns") {
    return {CauseKind::dns, "DNS lookup failed"};
  }
  if (phase == "tls") {
    return {CauseKind::tls, contains_nocase(message, "expired") ? "TLS certificate expired"
                                                                 : "TLS failed"};
  }
  if (phase == "connect") {
    if (contains_nocase(message, "refused")) {
      return {CauseKind::refused, "connection refused"};
    }
    return {CauseKind::connect, "connection failed"};
  }
  if (phase == "exit_code" || phase == "signal") {
    return {CauseKind::exit_code, phase == "signal" ? "killed by a signal" : "non-zero exit"};
  }
  if (phase == "missing") {
    return {CauseKind::file, "file missing"};
  }
  if (phase == "age") {
    return {CauseKind::file, "file too old"};
  }
  if (phase == "size") {
    return {CauseKind::file, "file size out of range"};
  }
  if (phase == "spawn") {
    return {CauseKind::cannot_run, "program could not be started"};
  }
  return {CauseKind::other, phase.empty() ? std::string("failed") : std::string(phase)};
}

std::string check_finding_id(CauseKind kind)
{
  return fmt::format("check.{}", to_string(kind));
}

std::string advice_for(CauseKind kind)
{
  switch (kind) {
  case CauseKind::rate_limited:
    return "The service is rate limiting us (HTTP 429): retrying harder makes it worse. Check "
           "less often (a longer \"interval\"), cache or batch the calls that use the quota, and "
           "ask the provider for a higher limit; recovery should back off, not restart.";
  case CauseKind::server_error:
    return "The service answers but fails inside (5xx): read its logs around the first failure; "
           "a restart (recovery action) helps only when it is stuck.";
  case CauseKind::http_status:
    return "The service answers with a status the check does not expect: a changed URL, "
           "authentication (401/403) or a deployment; fix the service or the check's "
           "\"expect_status\".";
  case CauseKind::body:
    return "The service answers, but not with what the check looks for: it may be degraded or "
           "changed; compare the body with the check's \"body_contains\"/\"body_regex\".";
  case CauseKind::slow:
    return "The service answers slower than \"max_latency\": look at its load and its own "
           "dependencies.";
  case CauseKind::timeout:
    return "No answer within the check's timeout: the service is overloaded or hung, or the "
           "network drops packets; look at its load, or raise the check's \"timeout\" if it is "
           "merely slow.";
  case CauseKind::deadline:
    return "Checks were cut off when the pulse reached its deadline: raise \"pulse.deadline\" or "
           "\"pulse.concurrency\", or lower the slow checks' timeouts.";
  case CauseKind::dns:
    return "The host name does not resolve: check the name in the check, the resolver "
           "(/etc/resolv.conf) and the DNS zone.";
  case CauseKind::tls:
    return "The TLS handshake fails: check the certificate's expiry and chain (openssl s_client "
           "-connect host:443), and the clock of this host.";
  case CauseKind::refused:
    return "Nothing listens on that port: the service is down or listens elsewhere. Start it "
           "(a recovery action can), and check the port in the check.";
  case CauseKind::connect:
    return "The host cannot be reached: check the network path, firewalls and that the host is "
           "up.";
  case CauseKind::exit_code:
    return "The plugin reported a problem or failed: run its command by hand as the user "
           "hb-pulse runs as, and read what it prints.";
  case CauseKind::cannot_run:
    return "The check's program cannot be started: install it or fix the path in the config "
           "(see config.command_missing).";
  case CauseKind::file:
    return "The file the check watches is missing, too old or the wrong size: the job that "
           "writes it (a backup, an export) did not run or failed. Check that job (wrapped in "
           "hb-beat, hb-status shows its runs) and the disk it writes to.";
  case CauseKind::other:
    break;
  }
  return "Run the check by hand (hb-pulse --target ID --force --verbose) and read its message.";
}

} // namespace hb::diagnose
