// SPDX-License-Identifier: MIT
#include "store/postgres/executions.hpp"

#include "store/encoding.hpp"
#include "store/execution_states.hpp"
#include "store/observation_tally.hpp"
#include "store/postgres/claims.hpp"
#include "store/postgres/codecs.hpp"
#include "store/postgres/events.hpp"
#include "store/postgres/rollups.hpp"

#include "util/time.hpp"

#include <unordered_map>

namespace hb::store::postgres {

void Executions::record(std::vector<ExecutionWrite>& writes)
{
  if (writes.empty()) {
    return;
  }
  Connection& db = m_connection;
  m_connection.transaction("recording executions", [&] {
    EventWriter events(db);

    for (auto& w : writes) {
      auto& e = w.execution;
      const Result inserted = db.exec(R"sql(
        INSERT INTO executions (target_id, started_at, completed_at, trigger, forced, status,
                                pulse_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING id)sql",
                                      Params(e.target_id, e.started_at, e.completed_at,
                                             to_string(e.trigger), e.forced, to_string(e.status),
                                             e.pulse_id));
      e.id = inserted.int64(0, 0);

      // The results in one statement, as arrays; their position is their place in the arrays.
      if (!e.results.empty()) {
        std::vector<std::string> names, statuses, messages, phases, metrics;
        std::vector<std::int64_t> latencies;
        for (const auto& r : e.results) {
          names.push_back(r.check_name);
          statuses.emplace_back(to_string(r.status));
          messages.push_back(r.message);
          latencies.push_back(r.latency.count());
          phases.push_back(r.phase);
          metrics.push_back(encode_metrics(r.metrics));
        }
        db.exec(R"sql(
          INSERT INTO check_results (execution_id, check_name, status, message, latency_ms, phase,
                                     metrics, position)
          SELECT $1, r.check_name, r.status, r.message, r.latency_ms, r.phase, r.metrics,
                 (r.position - 1)::integer
          FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])
            WITH ORDINALITY AS r(check_name, status, message, latency_ms, phase, metrics,
                                 position))sql",
                Params(e.id, names, statuses, messages, latencies, phases, metrics));
      }

      const auto& s = w.state;
      db.exec(R"sql(
        INSERT INTO target_states (target_id, health, since, consecutive_failures,
          consecutive_successes, last_execution_at, last_status, last_success_at, last_failure_at,
          last_message)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT(target_id) DO UPDATE SET health = excluded.health, since = excluded.since,
          consecutive_failures = excluded.consecutive_failures,
          consecutive_successes = excluded.consecutive_successes,
          last_execution_at = excluded.last_execution_at, last_status = excluded.last_status,
          last_success_at = excluded.last_success_at, last_failure_at = excluded.last_failure_at,
          last_message = excluded.last_message)sql",
              Params(s.target_id, to_string(s.health), s.since, s.consecutive_failures,
                     s.consecutive_successes, s.last_execution_at,
                     s.last_status ? std::optional(std::string(to_string(*s.last_status)))
                                   : std::nullopt,
                     s.last_success_at, s.last_failure_at, s.last_message));

      // A check removed from the config leaves no state behind: the target's check states are
      // replaced as a whole (check names are unique per target, the config rejects duplicates).
      db.exec("DELETE FROM check_states WHERE target_id = $1", Params(s.target_id));
      if (!s.checks.empty()) {
        std::vector<std::string> names, statuses, confirmed, bad_since, messages;
        std::vector<std::int64_t> failures, successes, latencies;
        for (const auto& c : s.checks) {
          names.push_back(c.check_name);
          statuses.emplace_back(to_string(c.last_status));
          failures.push_back(c.consecutive_failures);
          successes.push_back(c.consecutive_successes);
          confirmed.emplace_back(to_string(c.confirmed));
          // As text, "" for none: an array parameter cannot carry a NULL.
          bad_since.push_back(c.bad_since ? std::to_string(util::to_unix_ms(*c.bad_since)) : "");
          messages.push_back(c.last_message);
          latencies.push_back(c.last_latency.count());
        }
        db.exec(R"sql(
          INSERT INTO check_states (target_id, check_name, last_status, consecutive_failures,
            consecutive_successes, confirmed, bad_since, last_message, last_latency_ms)
          SELECT $1, c.check_name, c.last_status, c.failures, c.successes, c.confirmed,
                 nullif(c.bad_since, '')::bigint, c.last_message, c.latency_ms
          FROM unnest($2::text[], $3::text[], $4::integer[], $5::integer[], $6::text[],
                      $7::text[], $8::text[], $9::bigint[])
            AS c(check_name, last_status, failures, successes, confirmed, bad_since,
                 last_message, latency_ms))sql",
                Params(s.target_id, names, statuses, failures, successes, confirmed, bad_since,
                       messages, latencies));
      }

      for (auto& ev : w.events) {
        events.write(ev);
      }

      if (const auto tally = execution_tally(w)) {
        add_to_rollups(db, e.target_id, tally->at, tally->tally);
      }

      if (!w.release_owner.empty()) {
        Claims::release(db, target_claim(e.target_id), w.release_owner);
      }
    }
  });
}

std::map<std::string, TargetState> Executions::read_states(const std::vector<std::string>* only)
{
  Connection& db = m_connection;
  std::map<std::string, TargetState> out;
  const char* filter = only ? " WHERE target_id = ANY($1::text[])" : "";
  const Params params = only ? Params(*only) : Params();
  const Result q = db.exec(std::string(R"sql(
    SELECT target_id, health, since, consecutive_failures, consecutive_successes,
           last_execution_at, last_status, last_success_at, last_failure_at, last_message
    FROM target_states)sql") + filter,
                           params);
  for (int i = 0; i < q.rows(); ++i) {
    TargetState s = decode_target_state(ResultRow(q, i));
    out.emplace(s.target_id, std::move(s));
  }
  const Result c = db.exec(std::string(R"sql(
    SELECT target_id, check_name, last_status, consecutive_failures, consecutive_successes,
           confirmed, bad_since, last_message, last_latency_ms
    FROM check_states)sql") + filter + " ORDER BY target_id, check_name",
                           params);
  for (int i = 0; i < c.rows(); ++i) {
    add_check_state(out, ResultRow(c, i));
  }
  return out;
}

std::optional<TargetState> Executions::state(const std::string& target_id)
{
  return m_connection.guarded("reading target state", [&]() -> std::optional<TargetState> {
    const std::vector<std::string> only{target_id};
    auto states = read_states(&only);
    if (states.empty()) {
      return std::nullopt;
    }
    return std::move(states.begin()->second);
  });
}

std::map<std::string, TargetState> Executions::states()
{
  return m_connection.guarded("reading target states", [&] { return read_states(nullptr); });
}

std::vector<ExecutionStats> Executions::stats(TimePoint since, const std::string& target_id)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading execution counts", [&] {
    std::vector<ExecutionStats> out;
    if (!target_id.empty()) {
      const Result one = db.exec(R"sql(
        SELECT count(*), count(*) FILTER (WHERE status <> 'all_clear') FROM executions
        WHERE target_id = $1 AND started_at >= $2)sql",
                                 Params(target_id, since));
      if (one.rows() > 0 && one.integer(0, 0) > 0) {
        out.push_back({target_id, one.integer(0, 0), one.integer(0, 1)});
      }
      return out;
    }
    // Counted in the database over the window of executions_by_time_covering (which holds
    // every column read): one row per target comes back, not one per execution.
    const Result q = db.exec(R"sql(
      SELECT target_id, count(*), count(*) FILTER (WHERE status <> 'all_clear')
      FROM executions WHERE started_at >= $1 GROUP BY target_id)sql",
                             Params(since));
    out.reserve(static_cast<std::size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) {
      out.push_back({q.text(i, 0), q.integer(i, 1), q.integer(i, 2)});
    }
    return out;
  });
}

std::vector<ExecutionRecord> Executions::recent(const std::string& target_id, int limit,
                                                WithResults with_results)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading executions", [&] {
    std::vector<ExecutionRecord> out;
    const Result q = db.exec(R"sql(
      SELECT id, target_id, started_at, completed_at, trigger, forced, status, pulse_id
      FROM executions WHERE target_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2)sql",
                             Params(target_id, limit));
    out.reserve(static_cast<std::size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) {
      ExecutionRecord e;
      e.id = q.int64(i, 0);
      e.target_id = q.text(i, 1);
      e.started_at = q.time(i, 2);
      e.completed_at = q.time(i, 3);
      e.trigger = parse_or(parse_trigger(q.view(i, 4)), Trigger::pulse);
      e.forced = q.boolean(i, 5);
      e.status = parse_or(parse_exec_status(q.view(i, 6)), ExecStatus::error);
      e.pulse_id = q.optional_int64(i, 7);
      out.push_back(std::move(e));
    }
    if (with_results == WithResults::yes && !out.empty()) {
      // Every execution's results in one query, each execution's in check order.
      std::vector<std::int64_t> ids;
      std::unordered_map<std::int64_t, std::size_t> index;  // execution id -> place in `out`
      for (std::size_t i = 0; i < out.size(); ++i) {
        ids.push_back(out[i].id);
        index.emplace(out[i].id, i);
      }
      const Result r = db.exec(R"sql(
        SELECT execution_id, check_name, status, message, latency_ms, phase, metrics
        FROM check_results WHERE execution_id = ANY($1::bigint[])
        ORDER BY execution_id, position)sql",
                               Params(ids));
      for (int i = 0; i < r.rows(); ++i) {
        const auto it = index.find(r.int64(i, 0));
        if (it == index.end()) {
          continue;
        }
        CheckResultRecord c;
        c.check_name = r.text(i, 1);
        c.status = parse_or(parse_check_status(r.view(i, 2)), CheckStatus::error);
        c.message = r.text(i, 3);
        c.latency = Duration(r.int64(i, 4));
        c.phase = r.text(i, 5);
        c.metrics = decode_metrics(r.view(i, 6));
        out[it->second].results.push_back(std::move(c));
      }
    }
    return out;
  });
}

std::vector<CheckFailures> Executions::check_failures(const std::string& target_id,
                                                     TimePoint since, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading check failures", [&] {
    std::vector<CheckFailures> out;
    // Through executions_by_target (target_id, started_at), then each execution's results by
    // their primary key; metrics are not read.
    const Result counts = db.exec(R"sql(
      SELECT r.check_name, count(*), count(*) FILTER (WHERE r.status <> 'ok')
      FROM executions e JOIN check_results r ON r.execution_id = e.id
      WHERE e.target_id = $1 AND e.started_at >= $2
      GROUP BY r.check_name ORDER BY r.check_name)sql",
                                  Params(target_id, since));
    for (int i = 0; i < counts.rows(); ++i) {
      CheckFailures c;
      c.check_name = counts.text(i, 0);
      c.runs = counts.integer(i, 1);
      c.failures = counts.integer(i, 2);
      out.push_back(std::move(c));
    }
    for (CheckFailures& c : out) {
      if (c.failures == 0) {
        continue;
      }
      const Result failed = db.exec(R"sql(
        SELECT e.started_at, r.status, r.message, r.latency_ms, r.phase
        FROM executions e JOIN check_results r ON r.execution_id = e.id
        WHERE e.target_id = $1 AND e.started_at >= $2 AND r.check_name = $3 AND r.status <> 'ok'
        ORDER BY e.started_at DESC, e.id DESC LIMIT $4)sql",
                                    Params(target_id, since, c.check_name, limit));
      for (int i = 0; i < failed.rows(); ++i) {
        CheckResultRecord r;
        r.check_name = c.check_name;
        r.status = parse_or(parse_check_status(failed.view(i, 1)), CheckStatus::error);
        r.message = failed.text(i, 2);
        r.latency = Duration(failed.int64(i, 3));
        r.phase = failed.text(i, 4);
        c.newest.emplace_back(failed.time(i, 0), std::move(r));
      }
    }
    return out;
  });
}

std::vector<Event> Executions::recent_events(const std::string& target_id, int limit)
{
  return m_connection.guarded("reading events", [&] {
    return read_recent_events(m_connection, target_id, limit);
  });
}

void Executions::record_event(Event& event)
{
  Connection& db = m_connection;
  m_connection.transaction("recording an event", [&] {
    EventWriter events(db);
    events.write(event);
  });
}

std::map<std::string, int> Executions::count_events(TimePoint since,
                                                    const std::vector<EventType>& types)
{
  return m_connection.guarded("counting events", [&] {
    return read_event_counts(m_connection, since, types);
  });
}

} // namespace hb::store::postgres
