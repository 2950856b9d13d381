// SPDX-License-Identifier: MIT
#include "store/sqlite/claims.hpp"

#include <fmt/format.h>

#include <set>

namespace hb::store::sqlite {

std::string target_claim(const std::string& id) { return "target:" + id; }

std::string task_claim(const std::string& name) { return "task:" + name; }

std::string escalation_claim(const std::string& id) { return "escalation:" + id; }

ClaimResult Claims::claim(const char* operation, const std::vector<std::string>& candidates,
                          const std::string& owner, Duration ttl,
                          const std::function<std::string(const std::string&)>& name_of,
                          const std::function<bool(const std::string&)>& is_due)
{
  SQLite::Database& db = m_connection.db();
  return m_connection.guarded(operation, [&] {
    ClaimResult result;
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Expired claims belong to runs that died; they no longer hold anything. Judged by the
    // database's clock, which every process sharing the file agrees on, never by the caller's.
    db.exec(fmt::format("DELETE FROM leases WHERE expires_at <= {}", k_db_now_ms));

    std::set<std::string> held;
    {
      SQLite::Statement q(db, "SELECT name FROM leases WHERE owner != ?1");
      q.bind(1, owner);
      while (q.executeStep()) {
        held.insert(q.getColumn(0).getString());
      }
    }
    SQLite::Statement take(db, fmt::format(R"sql(
      INSERT INTO leases (name, owner, acquired_at, expires_at) VALUES (?1, ?2, {0}, {0} + ?3)
      ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
        expires_at = excluded.expires_at)sql",
                                           k_db_now_ms));
    for (const auto& id : candidates) {
      if (!is_due(id)) {
        continue;
      }
      const std::string name = name_of(id);
      if (held.count(name)) {
        result.held.push_back(id);
        continue;
      }
      take.bind(1, name);
      take.bind(2, owner);
      take.bind(3, static_cast<int64_t>(ttl.count()));
      take.exec();
      take.reset();
      result.claimed.push_back(id);
    }
    txn.commit();
    return result;
  });
}

void Claims::release_all(const std::string& owner)
{
  m_connection.guarded("releasing claims", [&] { release_owner(m_connection.db(), owner); });
}

void Claims::release_names(const std::string& owner, const std::vector<std::string>& names)
{
  m_connection.guarded("releasing claims", [&] {
    SQLite::Database& db = m_connection.db();
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& name : names) {
      release(db, name, owner);
    }
    txn.commit();
  });
}

void Claims::release_owner(SQLite::Database& db, const std::string& owner)
{
  SQLite::Statement q(db, "DELETE FROM leases WHERE owner = ?1");
  q.bind(1, owner);
  q.exec();
}

void Claims::release(SQLite::Database& db, const std::string& name, const std::string& owner)
{
  SQLite::Statement q(db, "DELETE FROM leases WHERE name = ?1 AND owner = ?2");
  q.bind(1, name);
  q.bind(2, owner);
  q.exec();
}

} // namespace hb::store::sqlite
