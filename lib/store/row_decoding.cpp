// SPDX-License-Identifier: MIT
#include "store/row_decoding.hpp"

#include "store/encoding.hpp"

namespace hb::store {

std::string prefixed_columns(std::initializer_list<const char*> columns, const std::string& table)
{
  std::string out;
  for (const char* column : columns) {
    out += (out.empty() ? "" : ", ") + table + column;
  }
  return out;
}

TargetRecord decode_target(const StoredRow& row, int first)
{
  TargetRecord t;
  t.info.id = row.text(first);
  t.info.name = row.text(first + 1);
  t.info.kind = parse_or(parse_target_kind(row.text(first + 2)), TargetKind::service);
  t.info.tags = decode_tags(row.text(first + 3));
  t.info.paused = row.boolean(first + 4);
  t.info.interval = Duration(row.int64(first + 5));
  t.first_seen = row.time(first + 6);
  t.retired_at = row.optional_time(first + 7);
  t.info.stale_after = Duration(row.int64(first + 8));
  if (!row.is_null(first + 9)) {
    t.info.heartbeat = decode_heartbeat(row.text(first + 9));
  }
  t.origin = row.text(first + 10) == "beat" ? Origin::beat : Origin::config;
  t.info.active_hours = row.text(first + 11);
  t.info.timezone = row.text(first + 12);
  return t;
}

JobRun decode_job_run(const StoredRow& row, int first)
{
  JobRun j;
  j.id = row.int64(first);
  j.target_id = row.text(first + 1);
  j.started_at = row.time(first + 2);
  j.completed_at = row.optional_time(first + 3);
  j.status = parse_or(parse_job_run_status(row.text(first + 4)), JobRunStatus::failed);
  j.exit_code = row.optional_int(first + 5);
  j.message = row.text(first + 6);
  j.output_tail = row.text(first + 7);
  j.command = row.text(first + 8);
  j.host = row.text(first + 9);
  j.pid = row.integer(first + 10);
  return j;
}

} // namespace hb::store
