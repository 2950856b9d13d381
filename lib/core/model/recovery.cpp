// SPDX-License-Identifier: MIT
#include "core/model/recovery.hpp"

#include "core/enum_table.hpp"

namespace hb {
namespace {

constexpr std::array k_recovery_issue{
  std::pair{std::string_view{"stale"}, RecoveryIssue::stale},
  std::pair{std::string_view{"failing"}, RecoveryIssue::failing},
  std::pair{std::string_view{"high_error_rate"}, RecoveryIssue::high_error_rate},
  std::pair{std::string_view{"offline"}, RecoveryIssue::offline},
};
constexpr std::array k_attempt_result{
  std::pair{std::string_view{"running"}, AttemptResult::running},
  std::pair{std::string_view{"recovered"}, AttemptResult::recovered},
  std::pair{std::string_view{"failed"}, AttemptResult::failed},
  std::pair{std::string_view{"interrupted"}, AttemptResult::interrupted},
};
constexpr std::array k_recovery_run_status{
  std::pair{std::string_view{"running"}, RecoveryRunStatus::running},
  std::pair{std::string_view{"ok"}, RecoveryRunStatus::ok},
  std::pair{std::string_view{"error"}, RecoveryRunStatus::error},
  std::pair{std::string_view{"interrupted"}, RecoveryRunStatus::interrupted},
};

} // namespace

std::string_view to_string(RecoveryIssue issue) { return enum_name(k_recovery_issue, issue); }
std::string_view to_string(AttemptResult result) { return enum_name(k_attempt_result, result); }
std::string_view to_string(RecoveryRunStatus status) { return enum_name(k_recovery_run_status, status); }
std::optional<RecoveryIssue> parse_recovery_issue(std::string_view text) { return parse_enum(k_recovery_issue, text); }
std::optional<AttemptResult> parse_attempt_result(std::string_view text) { return parse_enum(k_attempt_result, text); }
std::optional<RecoveryRunStatus> parse_recovery_run_status(std::string_view text) { return parse_enum(k_recovery_run_status, text); }

} // namespace hb
