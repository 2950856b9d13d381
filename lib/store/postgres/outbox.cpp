// SPDX-License-Identifier: MIT
#include "store/postgres/outbox.hpp"

#include "store/encoding.hpp"
#include "store/outbox_records.hpp"
#include "store/postgres/codecs.hpp"

#include <fmt/format.h>

namespace hb::store::postgres {
namespace {

constexpr const char* k_item_columns = R"sql(
  o.id, o.event_id, o.channel, o.state, o.level, o.incident_id, o.reason, o.flapping, o.attempts,
  o.created_at, o.next_attempt_at, o.sent_at, o.last_error, o.provider_id, o.fallback_of,
  e.id, e.target_id, e.at, e.type, e.old_state, e.new_state, e.message, e.in_grace,
  coalesce(t.name, ''))sql";

constexpr const char* k_item_joins = R"sql(
  FROM outbox o JOIN events e ON e.id = o.event_id LEFT JOIN targets t ON t.id = o.target_id)sql";

} // namespace

void insert_notification(Connection& db, Notification& row, const std::string& target_id)
{
  const Result inserted = db.exec(
      R"sql(
    INSERT INTO outbox (event_id, target_id, channel, state, level, incident_id, reason, flapping,
                        attempts, created_at, next_attempt_at, sent_at, last_error, provider_id,
                        fallback_of)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
    RETURNING id)sql",
      Params(row.event_id, target_id, row.channel, to_string(row.state), to_string(row.level),
             row.incident_id, row.reason, row.flapping, row.attempts, row.created_at,
             row.next_attempt_at, row.sent_at, row.last_error, row.provider_id, row.fallback_of));
  row.id = inserted.int64(0, 0);
}

void Outbox::sync_policy(const NotifyPolicy& policy)
{
  const std::string text = encode_notify_policy(policy);
  Connection& db = m_connection;
  const auto stored = m_connection.guarded("syncing the notification policy",
                                           [&] { return read_meta(db, k_notify_policy_key); });
  if (stored == text) {
    return;
  }
  m_connection.transaction("syncing the notification policy",
                           [&] { write_meta(db, k_notify_policy_key, text); });
}

std::optional<NotifyPolicy> Outbox::policy()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading the notification policy",
                              [&]() -> std::optional<NotifyPolicy> {
                                const auto text = read_meta(db, k_notify_policy_key);
                                if (!text) {
                                  return std::nullopt;
                                }
                                return decode_notify_policy(*text);
                              });
}

std::vector<OutboxItem> Outbox::claim(const std::string& owner, TimePoint now, Duration ttl,
                                      int limit)
{
  Connection& db = m_connection;
  return m_connection.transaction("claiming notifications", [&] {
    // Lease the due rows whose lease is free. FOR UPDATE SKIP LOCKED: of two tools claiming at
    // once, each passes over the rows the other is leasing right now instead of waiting for it,
    // and a row the other leased after this statement began is judged again by its new lease
    // (and left alone), so the two take different rows.
    db.exec(fmt::format(R"sql(
      UPDATE outbox SET lease_owner = $1, lease_until = {0} + $2::bigint
      WHERE id IN (
        SELECT id FROM outbox
        WHERE state IN ('pending', 'held') AND next_attempt_at <= $3
          AND (lease_until IS NULL OR lease_until <= {0})
        ORDER BY next_attempt_at, id LIMIT $4
        FOR UPDATE SKIP LOCKED))sql",
                        k_db_now_ms),
            Params(owner, ttl, now, limit));
    std::vector<OutboxItem> out;
    const Result r = db.exec(fmt::format("SELECT {} {} WHERE o.lease_owner = $1 AND o.state IN "
                                         "('pending', 'held') ORDER BY o.next_attempt_at, o.id",
                                         k_item_columns, k_item_joins),
                             Params(owner));
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_outbox_item(ResultRow(r, i)));
    }
    return out;
  });
}

void Outbox::finish(const Notification& row, std::vector<Notification>& follow_ups)
{
  Connection& db = m_connection;
  m_connection.transaction("recording a delivery", [&] {
    const Result updated =
        db.exec(R"sql(
      UPDATE outbox SET state = $2, attempts = $3, next_attempt_at = $4, sent_at = $5,
        last_error = $6, provider_id = $7, reason = $8,
        last_error_at = CASE WHEN $6::text <> '' AND $6::text IS DISTINCT FROM last_error
                             THEN $9::bigint ELSE last_error_at END,
        lease_owner = NULL, lease_until = NULL
      WHERE id = $1
      RETURNING target_id)sql",
                Params(row.id, to_string(row.state), row.attempts, row.next_attempt_at, row.sent_at,
                       row.last_error, row.provider_id, row.reason, error_time(row)));
    if (!follow_ups.empty()) {
      const std::string target_id = updated.rows() > 0 ? updated.text(0, 0) : "";
      for (Notification& follow_up : follow_ups) {
        insert_notification(db, follow_up, target_id);
      }
    }
  });
}

void Outbox::release(const std::string& owner)
{
  Connection& db = m_connection;
  m_connection.guarded("releasing notifications", [&] {
    db.exec("UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
            Params(owner));
  });
}

std::vector<OutboxItem> Outbox::recent(const std::string& target_id, int limit)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading notifications", [&] {
    std::vector<OutboxItem> out;
    const Result r =
        target_id.empty()
            ? db.exec(fmt::format("SELECT {} {} ORDER BY o.created_at DESC, o.id DESC LIMIT $1",
                                  k_item_columns, k_item_joins),
                      Params(limit))
            : db.exec(fmt::format("SELECT {} {} WHERE o.target_id = $1 "
                                  "ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
                                  k_item_columns, k_item_joins),
                      Params(target_id, limit));
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_outbox_item(ResultRow(r, i)));
    }
    return out;
  });
}

std::vector<ChannelHealth> Outbox::health(TimePoint since)
{
  Connection& db = m_connection;
  return m_connection.guarded("reading channel health", [&] {
    std::vector<ChannelHealth> out;
    // NULLS LAST, where SQLite puts NULL when sorting down: an error without a time is the
    // latest only when no error has one.
    const Result r = db.exec(R"sql(
      SELECT channel,
        count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'held'),
        count(*) FILTER (WHERE state = 'sent' AND coalesce(sent_at, created_at) >= $1),
        count(*) FILTER (WHERE state = 'failed' AND coalesce(last_error_at, created_at) >= $1),
        min(CASE WHEN state IN ('pending', 'held') THEN created_at END),
        (SELECT last_error FROM outbox l WHERE l.channel = o.channel AND l.last_error <> ''
         ORDER BY l.last_error_at DESC NULLS LAST, l.id DESC LIMIT 1),
        max(CASE WHEN last_error <> '' THEN last_error_at END)
      FROM outbox o
      WHERE state IN ('pending', 'held') OR created_at >= $1
        OR coalesce(last_error_at, 0) >= $1
      GROUP BY channel ORDER BY channel)sql",
                             Params(since));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(decode_channel_health(ResultRow(r, i)));
    }
    const Result failed = db.exec(R"sql(
      SELECT channel, count(*) FROM outbox WHERE state = 'failed' GROUP BY channel)sql");
    for (int i = 0; i < failed.rows(); ++i) {
      set_failed_total(out, failed.text(i, 0), failed.int64(i, 1));
    }
    return out;
  });
}

std::map<std::string, NoticeMarks> Outbox::notice_marks()
{
  Connection& db = m_connection;
  return m_connection.guarded("reading notices", [&] {
    std::map<std::string, NoticeMarks> out;
    const Result spoken = db.exec(R"sql(
      SELECT target_id, max(at) FROM events
      WHERE notice IN ('routed', 'unrouted', '')
        AND type IN ('failing', 'warning', 'agent_degraded', 'agent_offline', 'job_failed',
                     'job_late', 'job_hung', 'still_failing')
      GROUP BY target_id)sql");
    for (int i = 0; i < spoken.rows(); ++i) {
      out[spoken.text(i, 0)].last_spoken_bad = spoken.optional_time(i, 1);
    }
    const Result reminded = db.exec(R"sql(
      SELECT target_id, max(at) FROM events WHERE type = 'still_failing' GROUP BY target_id)sql");
    for (int i = 0; i < reminded.rows(); ++i) {
      out[reminded.text(i, 0)].last_reminder = reminded.optional_time(i, 1);
    }
    return out;
  });
}

} // namespace hb::store::postgres
