// SPDX-License-Identifier: MIT
#pragma once

#include "store/postgres/connection.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace hb::store::postgres {

// The name of the claim on target `id` ("target:api"), on task `name` ("task:backup") and on
// running escalation `id`'s command ("escalation:12"): the same names as SQLite's.
std::string target_claim(const std::string& id);
std::string task_claim(const std::string& name);
std::string escalation_claim(const std::string& id);

// What a claim locks while it decides: the row of `table` whose `key` is the candidate.
struct ClaimTable {
  const char* table;  // "targets", "schedules"
  const char* key;    // the key as text: "id", "name", "id::text"
};

// Claims on work (the `leases` table), with expiry and liveness judged by the database's clock.
// Many runners claim at once without blocking each other: each locks the candidates' rows with
// SELECT ... FOR UPDATE SKIP LOCKED (a row another runner is deciding on right now is skipped
// and reported held), then reads the leases and states in a fresh snapshot, so that what it
// decides on is never older than the locks it holds, and takes a lease only where no other
// owner holds a live one (checked again by the insert itself).
class Claims {
public:
  explicit Claims(Connection& connection) : m_connection(connection) {}

  // Claims, in one transaction, each of `candidates` that `is_due` accepts (called inside the
  // transaction, after the candidates' rows are locked) and that no other owner holds a live
  // claim on. `read_due` is called once, inside the transaction, before `is_due`, to load what
  // is_due needs. Throws hb::StoreError or hb::TemporaryError.
  ClaimResult claim(const char* operation, const ClaimTable& table,
                    const std::vector<std::string>& candidates, const std::string& owner,
                    Duration ttl, const std::function<std::string(const std::string&)>& name_of,
                    const std::function<void()>& read_due,
                    const std::function<bool(const std::string&)>& is_due);
  // Drops every claim of `owner`. Throws hb::StoreError.
  void release_all(const std::string& owner);
  // Drops the claims of `owner` named `names`, in one transaction. Throws hb::StoreError.
  void release_names(const std::string& owner, const std::vector<std::string>& names);

  // Inside the caller's transaction: drops every claim of `owner`, or only the claim `name` of
  // `owner`. Throw PgError.
  static void release_owner(Connection& db, const std::string& owner);
  static void release(Connection& db, const std::string& name, const std::string& owner);

private:
  Connection& m_connection;
};

} // namespace hb::store::postgres
