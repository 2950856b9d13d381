// SPDX-License-Identifier: MIT
#pragma once

// A thin RAII layer over libpq: one connection, parameters in text format, prepared statements
// cached per SQL text, transactions retried on serialization failures and deadlocks, and
// PostgreSQL's error classes turned into heartbeat's errors (connection lost: hb::TemporaryError,
// exit 75; anything else: hb::StoreError, exit 74). libpq directly rather than libpqxx 6.4:
// SQLSTATEs and connection status come straight from libpq, libpq 15 has pipeline mode should
// batching ever need it, and there is no second C++ ABI to depend on.

#include "core/errors.hpp"
#include "core/types.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace hb::store::postgres {

// The database's own wall clock in Unix milliseconds, as an SQL expression: claims and leases
// are judged by it rather than by the caller's clock (HB_NOW), so every runner on every host
// agrees on when a claim expires. clock_timestamp(), not now(): a transaction's start may be
// long past when it takes the claim.
inline constexpr const char* k_db_now_ms =
  "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

// A failure PostgreSQL reported, with its SQLSTATE ("" when libpq gave none).
class PgError : public std::runtime_error {
public:
  PgError(std::string message, std::string sqlstate, bool connection_lost)
    : std::runtime_error(std::move(message)), m_sqlstate(std::move(sqlstate)),
      m_connection_lost(connection_lost)
  {
  }
  const std::string& sqlstate() const { return m_sqlstate; }
  bool connection_lost() const { return m_connection_lost; }
  // A serialization failure (40001) or a deadlock (40P01): the transaction may simply be run
  // again.
  bool retryable() const { return m_sqlstate == "40001" || m_sqlstate == "40P01"; }

private:
  std::string m_sqlstate;
  bool m_connection_lost;
};

// The server answered that the database named in the location does not exist (OpenMode::existing
// takes it as "no data yet").
class MissingDatabase : public StoreError {
public:
  using StoreError::StoreError;
};

// Query parameters, in text format; PostgreSQL infers each one's type from the statement (cast
// in the SQL where it cannot, e.g. $1::text[]).
class Params {
public:
  Params() = default;
  template <typename... T>
  explicit Params(const T&... values)
  {
    (add(values), ...);
  }

  Params& add(std::string_view text);
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(bool value);
  Params& add(double value);
  Params& add(TimePoint t);  // Unix milliseconds
  Params& add(Duration d);   // milliseconds
  Params& add(std::nullopt_t);
  template <typename T>
  Params& add(const std::optional<T>& value)
  {
    return value ? add(*value) : add(std::nullopt);
  }
  // A text[] literal of `items` (ANY($n::text[]), unnest($n::text[])).
  Params& add(const std::vector<std::string>& items);
  Params& add(const std::vector<std::int64_t>& items);

  int size() const { return static_cast<int>(m_values.size()); }
  std::vector<const char*> pointers() const;

private:
  std::vector<std::optional<std::string>> m_values;
};

// One result; columns are read by index, in text format.
class Result {
public:
  explicit Result(pg_result* result);
  Result(Result&&) noexcept;
  Result& operator=(Result&&) noexcept;
  ~Result();

  int rows() const;
  // Rows an INSERT, UPDATE or DELETE touched.
  long long affected() const;
  bool is_null(int row, int column) const;
  std::string_view view(int row, int column) const;
  std::string text(int row, int column) const { return std::string(view(row, column)); }
  std::int64_t int64(int row, int column) const;
  int integer(int row, int column) const { return static_cast<int>(int64(row, column)); }
  double real(int row, int column) const;
  bool boolean(int row, int column) const;  // "t" or "f"
  TimePoint time(int row, int column) const;  // from Unix milliseconds
  std::optional<TimePoint> optional_time(int row, int column) const;
  std::optional<int> optional_int(int row, int column) const;
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  std::optional<std::string> optional_text(int row, int column) const;

private:
  pg_result* m_result;
};

// One open connection. Not thread-safe: one per thread, as libpq connections are.
class Connection {
public:
  // Connects to `location` ("postgresql://user@host:5432/db?..."; libpq's environment, PGPASSFILE
  // and ~/.pgpass apply; the password never appears in messages). OpenMode::read_only makes
  // every transaction read-only. Throws hb::TemporaryError when the server cannot be reached,
  // hb::StoreError when it refuses us (authentication), MissingDatabase when the database named
  // does not exist.
  Connection(const std::string& location, OpenMode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The location without its password, for messages.
  const std::string& display() const { return m_display; }
  bool read_only() const { return m_mode == OpenMode::read_only; }

  // Runs `sql` with `params` as a prepared statement (prepared once per connection). Throws
  // PgError.
  Result exec(std::string_view sql, const Params& params = {});
  // Runs a script of several statements without parameters (migrations). Throws PgError.
  void exec_script(std::string_view sql);

  // COPY ... FROM STDIN: starts `copy_statement`, sends what `produce` hands to its `send`
  // (text format: rows of tab-separated values, each ending with a newline), and ends the copy.
  // Returns the rows copied. Throws PgError.
  long long copy_in(std::string_view copy_statement,
                    const std::function<void(const std::function<void(std::string_view)>& send)>&
                      produce);

  // Runs fn() inside one transaction and commits. A serialization failure or a deadlock rolls
  // back and runs fn() again (at most k_attempts times, with a short growing pause), so fn must
  // be safe to repeat; any other failure rolls back and is turned into heartbeat's error,
  // naming the database and `operation`. Nested calls join the outer transaction.
  template <typename Fn>
  auto transaction(const char* operation, Fn&& fn) -> decltype(fn())
  {
    if (m_in_transaction) {
      return fn();
    }
    for (int attempt = 1;; ++attempt) {
      try {
        begin();
        if constexpr (std::is_void_v<decltype(fn())>) {
          fn();
          commit();
          return;
        } else {
          auto result = fn();
          commit();
          return result;
        }
      } catch (const PgError& e) {
        rollback_quietly();
        if (e.retryable() && attempt < k_attempts) {
          pause_before_retry(attempt);
          continue;
        }
        fail(operation, e);
      } catch (...) {
        rollback_quietly();
        throw;
      }
    }
  }

  // Returns fn() (reads outside a transaction), turning PgError into heartbeat's errors.
  template <typename Fn>
  auto guarded(const char* operation, Fn&& fn) -> decltype(fn())
  {
    try {
      return fn();
    } catch (const PgError& e) {
      fail(operation, e);
    }
  }

  static constexpr int k_attempts = 5;

private:
  void begin();
  void commit();
  void rollback_quietly();
  void pause_before_retry(int attempt);
  [[noreturn]] void fail(const char* operation, const PgError& e) const;
  [[noreturn]] void throw_error(pg_result* result);
  void simple(const char* sql);

  pg_conn* m_conn = nullptr;
  std::string m_display;
  OpenMode m_mode;
  bool m_in_transaction = false;
  std::unordered_map<std::string, std::string> m_prepared;  // SQL text -> statement name
};

// `location` with any password removed ("postgresql://user@host/db"): safe to print.
std::string display_location(const std::string& location);

} // namespace hb::store::postgres
