// SPDX-License-Identifier: MIT
#include "recovery/escalation.hpp"

#include "util/duration.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace hb::recovery {
namespace {

constexpr const char* k_schema = "heartbeat.escalation/1";

nlohmann::json time_or_null(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json diagnosis(const Assessment& a)
{
  nlohmann::json d{{"issue", to_string(a.issue)}, {"reason", a.reason}, {"since", time_or_null(a.since)}};
  if (!a.check_name.empty()) {
    d["failing_checks"] = nlohmann::json::array(
        {{{"name", a.check_name}, {"phase", a.phase}, {"message", a.message}}});
  } else {
    d["failing_checks"] = nlohmann::json::array();
  }
  return d;
}

bool contains(std::string_view text, std::string_view part)
{
  return text.find(part) != std::string_view::npos;
}

} // namespace

std::vector<std::string> next_steps(RecoveryIssue issue, std::string_view phase,
                                    std::string_view message, const std::string& target_id)
{
  std::vector<std::string> steps;
  if (issue == RecoveryIssue::stale) {
    steps.push_back("check that the scheduler runs hb-pulse (crontab -l, systemctl list-timers "
                    "hb-pulse.timer) and that the target's active hours include now");
  } else if (issue == RecoveryIssue::offline) {
    steps.push_back("check the agent's host and process: it has stopped sending beats (hb-beat)");
  } else if (phase == "dns") {
    steps.push_back("check DNS: the host name does not resolve");
  } else if (phase == "connect") {
    steps.push_back("check that the service runs and listens on its port, and that no firewall "
                    "blocks it");
  } else if (phase == "tls") {
    steps.push_back("check the server's certificate (expiry, chain, host name)");
  } else if (phase == "timeout") {
    steps.push_back("the service is too slow to answer: check its load and dependencies, or "
                    "scale it up");
  } else if (phase == "http_status" && contains(message, "HTTP 429")) {
    steps.push_back("the service is rate limiting us (HTTP 429): lower the check frequency or "
                    "raise the limit; restarting will not help");
  } else if (phase == "http_status") {
    steps.push_back("the service answers with an error status: read its logs");
  } else if (phase == "exit_code") {
    steps.push_back("run the check's plugin by hand and read its output");
  } else {
    steps.push_back("read the failing check's message and the service's logs");
  }
  steps.push_back("the automatic action did not fix it: check what it does and its output "
                  "(hb-status " + target_id + ")");
  steps.push_back("after fixing it, hb-recover --reset " + target_id +
                  " resumes automatic recovery if it was suspended");
  return steps;
}

Escalation target_escalation(const config::Config& config, const config::Target& target,
                             const Assessment& assessment, const RecoveryState& state,
                             const std::vector<RecoveryAttempt>& attempts, TimePoint now)
{
  (void)config;
  Escalation e;
  e.target_id = target.id;
  e.targets = {target.id};
  e.opened_at = now;
  e.failed_attempts = state.failed_attempts;
  nlohmann::json tried = nlohmann::json::array();
  for (const auto& attempt : attempts) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : attempt.steps) {
      steps.push_back({{"kind", step.kind},
                       {"what", step.what},
                       {"exit_code", step.exit_code ? nlohmann::json(*step.exit_code) : nlohmann::json(nullptr)},
                       {"result", step.result},
                       {"duration_ms", step.duration.count()},
                       {"output", step.output}});
    }
    tried.push_back({{"started_at", util::format_rfc3339(attempt.started_at)},
                     {"action", attempt.action},
                     {"result", to_string(attempt.result)},
                     {"message", attempt.message},
                     {"steps", std::move(steps)}});
  }
  const nlohmann::json summary{
      {"schema", k_schema},
      {"kind", "target"},
      {"priority", "critical"},
      {"opened_at", util::format_rfc3339(now)},
      {"target", {{"id", target.id}, {"name", target.name}, {"kind", to_string(target.kind)}}},
      {"failed_attempts", state.failed_attempts},
      {"diagnosis", diagnosis(assessment)},
      {"attempts", std::move(tried)},
      {"next_steps", next_steps(assessment.issue, assessment.phase, assessment.message, target.id)},
  };
  e.summary = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return e;
}

Escalation shared_escalation(const config::Config& config, const SharedCause& cause,
                             const std::vector<Assessment>& members, TimePoint now)
{
  Escalation e;
  e.cause = cause.cause;
  e.targets = cause.targets;
  e.opened_at = now;
  nlohmann::json affected = nlohmann::json::array();
  for (const auto& a : members) {
    const config::Target* target = config.find_target(a.target_id);
    affected.push_back({{"id", a.target_id},
                        {"name", target != nullptr ? target->name : a.target_id},
                        {"diagnosis", diagnosis(a)}});
  }
  const Assessment& first = members.front();
  std::vector<std::string> steps{
      fmt::format("{} targets fail the same way ({}): look for the common dependency (a host, "
                  "a network, a database) instead of restarting them one by one",
                  cause.targets.size(), cause.cause)};
  for (auto& step : next_steps(first.issue, first.phase, first.message, first.target_id)) {
    if (step.rfind("the automatic action", 0) != 0 && step.rfind("after fixing", 0) != 0) {
      steps.push_back(std::move(step));
    }
  }
  const nlohmann::json summary{
      {"schema", k_schema},
      {"kind", "shared_cause"},
      {"priority", "critical"},
      {"opened_at", util::format_rfc3339(now)},
      {"cause", cause.cause},
      {"targets", affected},
      {"failed_attempts", 0},
      {"attempts", nlohmann::json::array()},
      {"next_steps", steps},
  };
  e.summary = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return e;
}

std::string escalation_message(const Escalation& escalation, const config::Target& target,
                               const Assessment& assessment)
{
  return fmt::format("{}: recovery failed {} — {}; escalated", target.id,
                     util::plural(escalation.failed_attempts, "time"),
                     assessment.reason.empty() ? std::string(to_string(assessment.issue))
                                               : assessment.reason);
}

std::string shared_message(const SharedCause& cause)
{
  return fmt::format("shared cause: {} targets failing with \"{}\" ({}); not restarted one by "
                     "one, escalated once",
                     cause.targets.size(), cause.cause, fmt::join(cause.targets, ", "));
}

std::string escalation_stdin(const Escalation& escalation)
{
  nlohmann::json json = nlohmann::json::parse(escalation.summary, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    json = nlohmann::json::object();
  }
  json["id"] = escalation.id;
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace hb::recovery
