// SPDX-License-Identifier: MIT
#include "store/recovery_records.hpp"

#include "store/encoding.hpp"

namespace hb::store {
namespace {

// The target whose counters clear_state deletes: the state's, else the attempt's, else the
// resolved escalation's. "" when the write names none.
std::string target_to_clear(const RecoveryWrite& write, const RecoveryWriteSteps& steps)
{
  if (write.state) {
    return write.state->target_id;
  }
  if (write.attempt) {
    return write.attempt->target_id;
  }
  if (write.resolve_escalation != 0) {
    if (auto target = steps.escalation_target(write.resolve_escalation)) {
      return *target;
    }
  }
  return "";
}

} // namespace

RecoveryRun decode_recovery_run(const StoredRow& row)
{
  RecoveryRun run;
  run.id = row.int64(0);
  run.owner = row.text(1);
  run.started_at = row.time(2);
  run.completed_at = row.optional_time(3);
  run.status = parse_or(parse_recovery_run_status(row.text(4)), RecoveryRunStatus::error);
  run.interval = Duration(row.int64(5));
  run.assessed = row.integer(6);
  run.unhealthy = row.integer(7);
  run.attempted = row.integer(8);
  run.recovered = row.integer(9);
  run.failed = row.integer(10);
  run.escalated = row.integer(11);
  run.message = row.text(12);
  return run;
}

RecoveryAttempt decode_recovery_attempt(const StoredRow& row)
{
  RecoveryAttempt a;
  a.id = row.int64(0);
  a.run_id = row.int64(1);
  a.target_id = row.text(2);
  a.issue = parse_or(parse_recovery_issue(row.text(3)), RecoveryIssue::failing);
  a.check_name = row.text(4);
  a.phase = row.text(5);
  a.action = row.text(6);
  a.started_at = row.time(7);
  a.completed_at = row.optional_time(8);
  a.result = parse_or(parse_attempt_result(row.text(9)), AttemptResult::failed);
  a.message = row.text(10);
  a.steps = decode_attempt_steps(row.text(11));
  return a;
}

RecoveryState decode_recovery_state(const StoredRow& row)
{
  RecoveryState s;
  s.target_id = row.text(0);
  s.failed_attempts = row.integer(1);
  s.last_attempt_at = row.optional_time(2);
  s.next_attempt_at = row.optional_time(3);
  s.suspended_at = row.optional_time(4);
  s.reset_at = row.optional_time(5);
  s.escalation_id = row.int64(6);
  return s;
}

Escalation decode_escalation(const StoredRow& row)
{
  Escalation e;
  e.id = row.int64(0);
  e.target_id = row.text(1);
  e.cause = row.text(2);
  e.targets = decode_tags(row.text(3));
  e.opened_at = row.time(4);
  e.resolved_at = row.optional_time(5);
  e.failed_attempts = row.integer(6);
  e.summary = row.text(7);
  e.command_result = row.text(8);
  return e;
}

void tally_attempts(RecoveryCounts& counts, std::string_view result, int attempts)
{
  const auto parsed = parse_attempt_result(result);
  if (parsed == AttemptResult::recovered) {
    counts.succeeded += attempts;
  } else if (parsed == AttemptResult::failed) {
    counts.failed += attempts;
  } else if (parsed == AttemptResult::interrupted) {
    counts.interrupted += attempts;
  }
}

RecoveryCounts total_counts(const std::map<std::string, RecoveryCounts>& by_target)
{
  RecoveryCounts out;
  for (const auto& [target, counts] : by_target) {
    out.succeeded += counts.succeeded;
    out.failed += counts.failed;
    out.interrupted += counts.interrupted;
  }
  return out;
}

void apply_recovery_write(RecoveryWrite& write, const RecoveryWriteSteps& steps)
{
  if (write.attempt) {
    steps.write_attempt(*write.attempt);
  }
  if (write.open) {
    const bool opened = steps.open_escalation(*write.open);
    if (write.state) {
      write.state->escalation_id = write.open->id;
    }
    if (!opened) {
      // Another run opened it first and told its channels: this one's news is old.
      std::erase_if(write.events,
                    [](const Event& event) { return event.type == EventType::escalated; });
      write.open.reset();
    }
  }
  if (write.resolve_escalation != 0) {
    steps.resolve_escalation(write.resolve_escalation, write.resolved_at);
  }
  if (write.clear_state) {
    steps.clear_state(target_to_clear(write, steps));
  } else if (write.state) {
    steps.save_state(*write.state);
  }
  for (Event& event : write.events) {
    if (event.type == EventType::escalated && write.open) {
      event.escalation_id = write.open->id;
    } else if (event.type == EventType::escalation_resolved && event.escalation_id == 0) {
      event.escalation_id = write.resolve_escalation;
    }
  }
  if (!write.events.empty()) {
    steps.write_events(write.events);
  }
  if (write.open) {
    for (const Event& event : write.events) {
      if (event.type == EventType::escalated) {
        steps.link_escalation_event(write.open->id, event.id);
        break;
      }
    }
  }
}

} // namespace hb::store
