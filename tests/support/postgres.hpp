// SPDX-License-Identifier: MIT
#pragma once

// The suite's PostgreSQL: a throwaway server (tests/support/pg-server) that ctest starts once per
// run (the "postgres" fixture) and stops afterwards. Each test works in a fresh schema of its
// own, selected through the location's search_path, so every tool and store opened on that
// location sees only that test's tables.

#include <string>
#include <vector>

namespace hb::test {

// The server's location (postgresql://hb@127.0.0.1:PORT/heartbeat). Throws std::runtime_error,
// failing the test, when the server is not running: a PostgreSQL test never passes without one.
std::string pg_server_url();

// Whether the end-to-end suite runs on PostgreSQL (HB_TEST_DB=postgres) rather than SQLite.
bool testing_postgres();

// A fresh schema on the suite's server, dropped (with everything in it) when this goes.
class PgSchema {
public:
  PgSchema();
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  const std::string& name() const { return m_name; }
  // The server's location with search_path set to this schema: what --db and HB_DB take.
  const std::string& url() const { return m_url; }

private:
  std::string m_name;
  std::string m_url;
};

// Runs `sql` on `location` (a PostgreSQL location) and returns the first column of the first
// row as text ("" when there is none or it is NULL). Throws std::runtime_error.
std::string pg_query(const std::string& location, const std::string& sql);
// pg_query for each of `sqls` in turn, on one connection (a connection costs more than most
// queries). Throws std::runtime_error.
std::vector<std::string> pg_query_each(const std::string& location,
                                       const std::vector<std::string>& sqls);
// Every row of `sql`, each column as text ("" for NULL). Throws std::runtime_error.
std::vector<std::vector<std::string>> pg_rows(const std::string& location, const std::string& sql);

} // namespace hb::test
