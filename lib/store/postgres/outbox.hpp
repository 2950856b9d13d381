// SPDX-License-Identifier: MIT
#pragma once

#include "core/model/notify.hpp"
#include "store/postgres/connection.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// The `meta` key the routing policy is kept under.
inline constexpr const char* k_notify_policy_key = "notify_policy";

// The notification outbox (rows are written by the EventWriter, events.hpp) and the routing
// policy kept in `meta`. Delivery claims rows with a lease on the row itself, judged by the
// database's clock, so two tools delivering at once never send one row twice, and a tool killed
// mid-delivery leaves its rows to whoever comes after the lease.
class Outbox {
public:
  explicit Outbox(Connection& connection) : m_connection(connection) {}

  void sync_policy(const NotifyPolicy& policy);
  std::optional<NotifyPolicy> policy();

  std::vector<OutboxItem> claim(const std::string& owner, TimePoint now, Duration ttl, int limit);
  void finish(const Notification& row, std::vector<Notification>& follow_ups);
  void release(const std::string& owner);
  std::vector<OutboxItem> recent(const std::string& target_id, int limit);
  std::vector<ChannelHealth> health(TimePoint since);
  std::map<std::string, NoticeMarks> notice_marks();

private:
  Connection& m_connection;
};

// Inserts `row` (assigning row.id) inside the caller's transaction; target_id is the event's.
// Throws PgError.
void insert_notification(Connection& db, Notification& row, const std::string& target_id);

} // namespace hb::store::postgres
