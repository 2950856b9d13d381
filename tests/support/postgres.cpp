// SPDX-License-Identifier: MIT
#include "support/postgres.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <unistd.h>

namespace hb::test {
namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

PgConn connect(const std::string& location)
{
  PgConn conn(PQconnectdb(location.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(
      fmt::format("cannot connect to the test PostgreSQL server: {}", PQerrorMessage(conn.get())));
  }
  // Notices ("drop cascades to ...") are not the test's output.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

// The first column of the first row of `sql` on `conn`, "" for none or NULL.
std::string first_value(PGconn* conn, const std::string& sql);

} // namespace

std::string pg_server_url()
{
  const char* file = std::getenv("HB_TEST_PG_URL_FILE");
  const std::string path = file != nullptr && *file != '\0' ? file : HB_PG_URL_FILE;
  std::ifstream in(path);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    throw std::runtime_error(fmt::format(
      "the suite's PostgreSQL server is not running ({} is missing): ctest starts it through the "
      "\"postgres\" fixture; by hand: tests/support/pg-server start {}",
      path, std::string(path).substr(0, path.rfind('/'))));
  }
  return url;
}

bool testing_postgres()
{
  const char* which = std::getenv("HB_TEST_DB");
  return which != nullptr && std::string(which) == "postgres";
}

PgSchema::PgSchema()
{
  static std::atomic<int> counter{0};
  m_name = fmt::format("t{}_{}", ::getpid(), ++counter);
  const std::string server = pg_server_url();
  pg_query(server, fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", m_name));
  m_url = fmt::format("{}?options=-csearch_path%3D{}", server, m_name);
}

PgSchema::~PgSchema()
{
  try {
    pg_query(pg_server_url(), fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", m_name));
  } catch (const std::exception&) {
    // The server goes with the run anyway.
  }
}

std::vector<std::vector<std::string>> pg_rows(const std::string& location, const std::string& sql)
{
  const PgConn conn = connect(location);
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    throw std::runtime_error(fmt::format("query failed: {}: {}", sql,
                                         PQresultErrorMessage(result.get())));
  }
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      row.emplace_back(PQgetvalue(result.get(), r, c));
    }
  }
  return rows;
}

std::string pg_query(const std::string& location, const std::string& sql)
{
  return pg_query_each(location, {sql}).front();
}

std::vector<std::string> pg_query_each(const std::string& location,
                                       const std::vector<std::string>& sqls)
{
  const PgConn conn = connect(location);
  std::vector<std::string> out;
  for (const auto& sql : sqls) {
    out.push_back(first_value(conn.get(), sql));
  }
  return out;
}

namespace {

std::string first_value(PGconn* conn, const std::string& sql)
{
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), &PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    throw std::runtime_error(fmt::format("query failed: {}: {}", sql,
                                         PQresultErrorMessage(result.get())));
  }
  if (status != PGRES_TUPLES_OK || PQntuples(result.get()) == 0
      || PQgetisnull(result.get(), 0, 0) == 1) {
    return "";
  }
  return PQgetvalue(result.get(), 0, 0);
}

} // namespace

} // namespace hb::test
