// SPDX-License-Identifier: MIT
#include "store/postgres/claims.hpp"

#include <fmt/format.h>

#include <set>

namespace hb::store::postgres {

std::string target_claim(const std::string& id) { return "target:" + id; }

std::string task_claim(const std::string& name) { return "task:" + name; }

std::string escalation_claim(const std::string& id) { return "escalation:" + id; }

ClaimResult Claims::claim(const char* operation, const ClaimTable& table,
                          const std::vector<std::string>& candidates, const std::string& owner,
                          Duration ttl,
                          const std::function<std::string(const std::string&)>& name_of,
                          const std::function<void()>& read_due,
                          const std::function<bool(const std::string&)>& is_due)
{
  Connection& db = m_connection;
  return m_connection.transaction(operation, [&] {
    ClaimResult result;
    if (candidates.empty()) {
      return result;
    }
    // 1. Lock the candidates' rows, skipping those another runner is deciding on right now:
    //    runners that claim at once share the work instead of queueing behind each other.
    std::set<std::string> locked;
    {
      const Result r = db.exec(fmt::format("SELECT {0} FROM {1} WHERE {0} = ANY($1::text[]) "
                                           "FOR UPDATE SKIP LOCKED",
                                           table.key, table.table),
                               Params(candidates));
      for (int i = 0; i < r.rows(); ++i) {
        locked.insert(r.text(i, 0));
      }
    }
    std::set<std::string> busy;  // rows that exist but another claimer holds locked
    if (locked.size() < candidates.size()) {
      const Result r = db.exec(
        fmt::format("SELECT {0} FROM {1} WHERE {0} = ANY($1::text[])", table.key, table.table),
        Params(candidates));
      for (int i = 0; i < r.rows(); ++i) {
        if (!locked.count(r.text(i, 0))) {
          busy.insert(r.text(i, 0));
        }
      }
    }
    // 2. A new statement reads a new snapshot (READ COMMITTED): leases and states as they are
    //    now that the rows are ours, never older than the locks.
    std::vector<std::string> names;
    names.reserve(candidates.size());
    for (const auto& id : candidates) {
      names.push_back(name_of(id));
    }
    std::set<std::string> held_names;
    {
      const Result r = db.exec(fmt::format("SELECT name FROM leases WHERE name = ANY($1::text[]) "
                                           "AND owner <> $2 AND expires_at > {}",
                                           k_db_now_ms),
                               Params(names, owner));
      for (int i = 0; i < r.rows(); ++i) {
        held_names.insert(r.text(i, 0));
      }
    }
    read_due();
    // 3. Decide, in candidate order, and take the leases of what is due and free.
    std::vector<std::string> wanted;
    std::vector<std::size_t> wanted_index;
    std::vector<bool> due(candidates.size(), false);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const auto& id = candidates[i];
      if (!is_due(id)) {
        continue;
      }
      due[i] = true;
      if (busy.count(id) || held_names.count(names[i])) {
        continue;
      }
      wanted.push_back(names[i]);
      wanted_index.push_back(i);
    }
    std::set<std::string> taken;
    if (!wanted.empty()) {
      // The insert checks again, on the newest version of any conflicting lease, that nobody
      // else holds it: a lease taken since our read stays with its owner. The clock is read
      // once (clock_timestamp() moves within a statement): a lease lasts exactly the ttl.
      const Result r = db.exec(fmt::format(R"sql(
        INSERT INTO leases (name, owner, acquired_at, expires_at)
        SELECT n, $2, t.now, t.now + $3::bigint FROM unnest($1::text[]) AS n, (SELECT {0} AS now) AS t
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,
          acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
        WHERE leases.owner = excluded.owner OR leases.expires_at <= excluded.acquired_at
        RETURNING name)sql",
                                           k_db_now_ms),
                               Params(wanted, owner, ttl));
      for (int i = 0; i < r.rows(); ++i) {
        taken.insert(r.text(i, 0));
      }
    }
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (!due[i]) {
        continue;
      }
      (taken.count(names[i]) ? result.claimed : result.held).push_back(candidates[i]);
    }
    return result;
  });
}

void Claims::release_all(const std::string& owner)
{
  m_connection.transaction("releasing claims", [&] { release_owner(m_connection, owner); });
}

void Claims::release_names(const std::string& owner, const std::vector<std::string>& names)
{
  m_connection.transaction("releasing claims", [&] {
    for (const auto& name : names) {
      release(m_connection, name, owner);
    }
  });
}

void Claims::release_owner(Connection& db, const std::string& owner)
{
  db.exec("DELETE FROM leases WHERE owner = $1", Params(owner));
}

void Claims::release(Connection& db, const std::string& name, const std::string& owner)
{
  db.exec("DELETE FROM leases WHERE name = $1 AND owner = $2", Params(name, owner));
}

} // namespace hb::store::postgres
