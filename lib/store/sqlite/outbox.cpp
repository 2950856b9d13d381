// SPDX-License-Identifier: MIT
#include "store/sqlite/outbox.hpp"

#include "store/encoding.hpp"
#include "store/outbox_records.hpp"
#include "store/sqlite/codecs.hpp"

#include <fmt/format.h>

namespace hb::store::sqlite {
namespace {

constexpr const char* k_item_columns = R"sql(
  o.id, o.event_id, o.channel, o.state, o.level, o.incident_id, o.reason, o.flapping, o.attempts,
  o.created_at, o.next_attempt_at, o.sent_at, o.last_error, o.provider_id, o.fallback_of,
  e.id, e.target_id, e.at, e.type, e.old_state, e.new_state, e.message, e.in_grace,
  coalesce(t.name, ''))sql";

constexpr const char* k_item_joins = R"sql(
  FROM outbox o JOIN events e ON e.id = o.event_id LEFT JOIN targets t ON t.id = o.target_id)sql";

} // namespace

void insert_notification(SQLite::Database& db, Notification& row, const std::string& target_id)
{
  SQLite::Statement q(db, R"sql(
    INSERT INTO outbox (event_id, target_id, channel, state, level, incident_id, reason, flapping,
                        attempts, created_at, next_attempt_at, sent_at, last_error, provider_id,
                        fallback_of)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15))sql");
  q.bind(1, row.event_id);
  q.bind(2, target_id);
  q.bind(3, row.channel);
  q.bind(4, std::string(to_string(row.state)));
  q.bind(5, std::string(to_string(row.level)));
  q.bind(6, row.incident_id);
  q.bind(7, row.reason);
  q.bind(8, row.flapping ? 1 : 0);
  q.bind(9, row.attempts);
  bind_time(q, 10, row.created_at);
  bind_optional_time(q, 11, row.next_attempt_at);
  bind_optional_time(q, 12, row.sent_at);
  q.bind(13, row.last_error);
  q.bind(14, row.provider_id);
  q.bind(15, row.fallback_of);
  q.exec();
  row.id = db.getLastInsertRowid();
}

void Outbox::sync_policy(const NotifyPolicy& policy)
{
  const std::string text = encode_notify_policy(policy);
  m_connection.guarded("syncing the notification policy", [&] {
    SQLite::Database& db = m_connection.db();
    if (read_meta(db, k_notify_policy_key) == text) {
      return;
    }
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    write_meta(db, k_notify_policy_key, text);
    transaction.commit();
  });
}

std::optional<NotifyPolicy> Outbox::policy()
{
  return m_connection.guarded("reading the notification policy",
                              [&]() -> std::optional<NotifyPolicy> {
                                const auto text = read_meta(m_connection.db(), k_notify_policy_key);
                                if (!text) {
                                  return std::nullopt;
                                }
                                return decode_notify_policy(*text);
                              });
}

std::vector<OutboxItem> Outbox::claim(const std::string& owner, TimePoint now, Duration ttl,
                                      int limit)
{
  return m_connection.guarded("claiming notifications", [&] {
    SQLite::Database& db = m_connection.db();
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement take(db, fmt::format(R"sql(
      UPDATE outbox SET lease_owner = ?1, lease_until = {0} + ?2
      WHERE id IN (
        SELECT id FROM outbox
        WHERE state IN ('pending', 'held') AND next_attempt_at <= ?3
          AND (lease_until IS NULL OR lease_until <= {0})
        ORDER BY next_attempt_at, id LIMIT ?4))sql",
                                           k_db_now_ms));
    take.bind(1, owner);
    take.bind(2, static_cast<std::int64_t>(ttl.count()));
    bind_time(take, 3, now);
    take.bind(4, limit);
    take.exec();
    std::vector<OutboxItem> out;
    SQLite::Statement q(db, fmt::format("SELECT {} {} WHERE o.lease_owner = ?1 AND o.state IN "
                                        "('pending', 'held') ORDER BY o.next_attempt_at, o.id",
                                        k_item_columns, k_item_joins));
    q.bind(1, owner);
    while (q.executeStep()) {
      out.push_back(decode_outbox_item(StatementRow(q)));
    }
    transaction.commit();
    return out;
  });
}

void Outbox::finish(const Notification& row, std::vector<Notification>& follow_ups)
{
  m_connection.guarded("recording a delivery", [&] {
    SQLite::Database& db = m_connection.db();
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(db, R"sql(
      UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, sent_at = ?5,
        last_error = ?6, provider_id = ?7, reason = ?8,
        last_error_at = CASE WHEN ?6 <> '' AND ?6 IS NOT last_error THEN ?9 ELSE last_error_at END,
        lease_owner = NULL, lease_until = NULL
      WHERE id = ?1)sql");
    q.bind(1, row.id);
    q.bind(2, std::string(to_string(row.state)));
    q.bind(3, row.attempts);
    bind_optional_time(q, 4, row.next_attempt_at);
    bind_optional_time(q, 5, row.sent_at);
    q.bind(6, row.last_error);
    q.bind(7, row.provider_id);
    q.bind(8, row.reason);
    bind_time(q, 9, error_time(row));
    q.exec();
    if (!follow_ups.empty()) {
      SQLite::Statement target(db, "SELECT target_id FROM outbox WHERE id = ?1");
      target.bind(1, row.id);
      const std::string target_id = target.executeStep() ? target.getColumn(0).getString() : "";
      for (Notification& follow_up : follow_ups) {
        insert_notification(db, follow_up, target_id);
      }
    }
    transaction.commit();
  });
}

void Outbox::release(const std::string& owner)
{
  m_connection.guarded("releasing notifications", [&] {
    SQLite::Statement q(m_connection.db(),
                        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL "
                        "WHERE lease_owner = ?1");
    q.bind(1, owner);
    q.exec();
  });
}

std::vector<OutboxItem> Outbox::recent(const std::string& target_id, int limit)
{
  return m_connection.guarded("reading notifications", [&] {
    std::vector<OutboxItem> out;
    SQLite::Statement q(
        m_connection.db(),
        target_id.empty()
            ? fmt::format("SELECT {} {} ORDER BY o.created_at DESC, o.id DESC LIMIT ?2",
                          k_item_columns, k_item_joins)
            : fmt::format("SELECT {} {} WHERE o.target_id = ?1 "
                          "ORDER BY o.created_at DESC, o.id DESC LIMIT ?2",
                          k_item_columns, k_item_joins));
    if (!target_id.empty()) {
      q.bind(1, target_id);
    }
    q.bind(2, limit);
    while (q.executeStep()) {
      out.push_back(decode_outbox_item(StatementRow(q)));
    }
    return out;
  });
}

std::vector<ChannelHealth> Outbox::health(TimePoint since)
{
  return m_connection.guarded("reading channel health", [&] {
    std::vector<ChannelHealth> out;
    SQLite::Statement q(m_connection.db(), R"sql(
      SELECT channel,
        sum(state = 'pending'), sum(state = 'held'),
        sum(state = 'sent' AND coalesce(sent_at, created_at) >= ?1),
        sum(state = 'failed' AND coalesce(last_error_at, created_at) >= ?1),
        min(CASE WHEN state IN ('pending', 'held') THEN created_at END),
        (SELECT last_error FROM outbox l WHERE l.channel = o.channel AND l.last_error <> ''
         ORDER BY l.last_error_at DESC, l.id DESC LIMIT 1),
        max(CASE WHEN last_error <> '' THEN last_error_at END)
      FROM outbox o
      WHERE state IN ('pending', 'held') OR created_at >= ?1
        OR coalesce(last_error_at, 0) >= ?1
      GROUP BY channel ORDER BY channel)sql");
    bind_time(q, 1, since);
    while (q.executeStep()) {
      out.push_back(decode_channel_health(StatementRow(q)));
    }
    SQLite::Statement failed(m_connection.db(), R"sql(
      SELECT channel, count(*) FROM outbox WHERE state = 'failed' GROUP BY channel)sql");
    while (failed.executeStep()) {
      set_failed_total(out, failed.getColumn(0).getString(), failed.getColumn(1).getInt64());
    }
    return out;
  });
}

std::map<std::string, NoticeMarks> Outbox::notice_marks()
{
  return m_connection.guarded("reading notices", [&] {
    std::map<std::string, NoticeMarks> out;
    SQLite::Statement spoken(m_connection.db(), R"sql(
      SELECT target_id, max(at) FROM events
      WHERE notice IN ('routed', 'unrouted', '')
        AND type IN ('failing', 'warning', 'agent_degraded', 'agent_offline', 'job_failed',
                     'job_late', 'job_hung', 'still_failing')
      GROUP BY target_id)sql");
    while (spoken.executeStep()) {
      out[spoken.getColumn(0).getString()].last_spoken_bad = optional_time(spoken.getColumn(1));
    }
    SQLite::Statement reminded(m_connection.db(), R"sql(
      SELECT target_id, max(at) FROM events WHERE type = 'still_failing' GROUP BY target_id)sql");
    while (reminded.executeStep()) {
      out[reminded.getColumn(0).getString()].last_reminder = optional_time(reminded.getColumn(1));
    }
    return out;
  });
}

} // namespace hb::store::sqlite
