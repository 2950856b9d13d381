// SPDX-License-Identifier: MIT
#pragma once

#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace hb::store::sqlite {

// The name of the claim on target `id` ("target:api") and on task `name` ("task:backup").
std::string target_claim(const std::string& id);
std::string task_claim(const std::string& name);
// The claim on running escalation `id`'s command ("escalation:12").
std::string escalation_claim(const std::string& id);

// Claims on work (the `leases` table), with expiry and liveness judged by the database's clock.
class Claims {
public:
  explicit Claims(Connection& connection) : m_connection(connection) {}

  // Claims, in one IMMEDIATE transaction, each of `candidates` that `is_due` accepts (called
  // inside the transaction, so it may read state that cannot change under it) and that no other
  // owner holds a live claim on; `name_of` gives a candidate's claim name. The claims expire
  // `ttl` after the database's now. Throws hb::StoreError or hb::TemporaryError.
  ClaimResult claim(const char* operation, const std::vector<std::string>& candidates,
                    const std::string& owner, Duration ttl,
                    const std::function<std::string(const std::string&)>& name_of,
                    const std::function<bool(const std::string&)>& is_due);

  // Drops every claim of `owner`, in its own statement. Throws hb::StoreError.
  void release_all(const std::string& owner);
  // Drops the claims of `owner` named `names`, in one transaction. Throws hb::StoreError.
  void release_names(const std::string& owner, const std::vector<std::string>& names);

  // Inside the caller's transaction: drops every claim of `owner`, or only the claim `name` of
  // `owner`. Throw SQLite::Exception.
  static void release_owner(SQLite::Database& db, const std::string& owner);
  static void release(SQLite::Database& db, const std::string& name, const std::string& owner);

private:
  Connection& m_connection;
};

} // namespace hb::store::sqlite
