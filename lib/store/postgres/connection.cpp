// SPDX-License-Identifier: MIT
#include "store/postgres/connection.hpp"

#include "store/postgres/libpq_api.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <thread>

namespace hb::store::postgres {
namespace {

// Server settings of every connection: a runner stuck behind a lock, or a tool that hangs in a
// transaction, must not hold the fleet's rows forever.
constexpr const char* k_session_settings =
  "SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '5min'; "
  "SET statement_timeout = '10min'; SET client_min_messages = warning";

// Notices (e.g. "relation already exists, skipping") are not heartbeat's to print.
void ignore_notice(void* /*arg*/, const char* /*message*/) {}

bool contains(std::string_view text, std::string_view part)
{
  return text.find(part) != std::string_view::npos;
}

// libpq's messages end with a newline and may span lines; one line reads better in our logs.
std::string one_line(std::string text)
{
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  for (char& c : text) {
    if (c == '\n') {
      c = ' ';
    }
  }
  return text;
}

std::string program_name()
{
  const char* name = program_invocation_short_name;
  return name != nullptr && *name != '\0' ? name : "heartbeat";
}

} // namespace

// --- Params ------------------------------------------------------------------------------------

Params& Params::add(std::string_view text)
{
  m_values.emplace_back(std::string(text));
  return *this;
}

Params& Params::add(std::int64_t value)
{
  m_values.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(bool value)
{
  m_values.emplace_back(value ? "true" : "false");
  return *this;
}

Params& Params::add(double value)
{
  m_values.emplace_back(fmt::format("{}", value));
  return *this;
}

Params& Params::add(TimePoint t) { return add(static_cast<std::int64_t>(util::to_unix_ms(t))); }

Params& Params::add(Duration d) { return add(static_cast<std::int64_t>(d.count())); }

Params& Params::add(std::nullopt_t)
{
  m_values.emplace_back(std::nullopt);
  return *this;
}

Params& Params::add(const std::vector<std::string>& items)
{
  std::string literal = "{";
  for (const auto& item : items) {
    if (literal.size() > 1) {
      literal += ',';
    }
    literal += '"';
    for (const char c : item) {
      if (c == '"' || c == '\\') {
        literal += '\\';
      }
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  m_values.emplace_back(std::move(literal));
  return *this;
}

Params& Params::add(const std::vector<std::int64_t>& items)
{
  std::string literal = "{";
  for (const auto item : items) {
    literal += (literal.size() > 1 ? "," : "") + std::to_string(item);
  }
  literal += '}';
  m_values.emplace_back(std::move(literal));
  return *this;
}

std::vector<const char*> Params::pointers() const
{
  std::vector<const char*> out;
  out.reserve(m_values.size());
  for (const auto& v : m_values) {
    out.push_back(v ? v->c_str() : nullptr);
  }
  return out;
}

// --- Result ------------------------------------------------------------------------------------

Result::Result(pg_result* result) : m_result(result) {}

Result::Result(Result&& other) noexcept : m_result(other.m_result) { other.m_result = nullptr; }

Result& Result::operator=(Result&& other) noexcept
{
  if (this != &other) {
    libpq().clear(m_result);
    m_result = other.m_result;
    other.m_result = nullptr;
  }
  return *this;
}

Result::~Result() { libpq().clear(m_result); }

int Result::rows() const { return libpq().ntuples(m_result); }

long long Result::affected() const
{
  const char* n = libpq().cmd_tuples(m_result);
  return n != nullptr && *n != '\0' ? std::atoll(n) : 0;
}

bool Result::is_null(int row, int column) const
{
  return libpq().get_is_null(m_result, row, column) == 1;
}

std::string_view Result::view(int row, int column) const
{
  return {libpq().get_value(m_result, row, column),
          static_cast<std::size_t>(libpq().get_length(m_result, row, column))};
}

std::int64_t Result::int64(int row, int column) const
{
  const auto text = view(row, column);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    // A numeric aggregate (sum over bigint) may come back with a fraction: round it.
    return static_cast<std::int64_t>(std::llround(std::strtod(std::string(text).c_str(), nullptr)));
  }
  return value;
}

double Result::real(int row, int column) const
{
  return std::strtod(std::string(view(row, column)).c_str(), nullptr);
}

bool Result::boolean(int row, int column) const
{
  const auto text = view(row, column);
  return !text.empty() && (text[0] == 't' || text[0] == '1');
}

TimePoint Result::time(int row, int column) const { return util::from_unix_ms(int64(row, column)); }

std::optional<TimePoint> Result::optional_time(int row, int column) const
{
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return time(row, column);
}

std::optional<int> Result::optional_int(int row, int column) const
{
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return integer(row, column);
}

std::optional<std::int64_t> Result::optional_int64(int row, int column) const
{
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return int64(row, column);
}

std::optional<std::string> Result::optional_text(int row, int column) const
{
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return text(row, column);
}

// --- Connection --------------------------------------------------------------------------------

Connection::Connection(const std::string& location, OpenMode mode)
  : m_display(display_location(location)), m_mode(mode)
{
  const std::string application = program_name();
  // Ours come first so that the location's own settings override them.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", application.c_str(), location.c_str(), nullptr};
  m_conn = libpq().connectdb_params(keywords, values, 1);
  if (m_conn == nullptr) {
    throw StoreError(fmt::format("database {}: cannot allocate a connection", m_display));
  }
  if (libpq().status(m_conn) != CONNECTION_OK) {
    const std::string message = one_line(libpq().error_message(m_conn));
    const bool needs_password = libpq().connection_needs_password(m_conn) == 1;
    libpq().finish(m_conn);
    m_conn = nullptr;
    if (contains(message, "database \"") && contains(message, "does not exist")) {
      throw MissingDatabase(fmt::format(
        "database {}: {}; create it first (docs/postgresql.md)", m_display, message));
    }
    if (needs_password || contains(message, "authentication") || contains(message, "role \"")
        || contains(message, "permission denied") || contains(message, "no pg_hba.conf entry")) {
      throw StoreError(fmt::format("database {}: the server refused us: {}", m_display, message));
    }
    if (contains(message, "invalid") || contains(message, "missing") || contains(message, "URI")) {
      throw UsageError(fmt::format("database location {}: {}", m_display, message));
    }
    throw TemporaryError(
      fmt::format("database {}: cannot connect: {}; try again", m_display, message));
  }
  libpq().set_notice_processor(m_conn, ignore_notice, nullptr);
  try {
    simple(k_session_settings);
    if (mode == OpenMode::read_only) {
      simple("SET default_transaction_read_only = on");
    }
  } catch (const PgError& e) {
    libpq().finish(m_conn);
    m_conn = nullptr;
    fail("setting up the session", e);
  }
}

Connection::~Connection()
{
  if (m_conn != nullptr) {
    libpq().finish(m_conn);
  }
}

void Connection::throw_error(pg_result* result)
{
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    if (const char* s = libpq().result_error_field(result, PG_DIAG_SQLSTATE)) {
      sqlstate = s;
    }
    if (const char* m = libpq().result_error_field(result, PG_DIAG_MESSAGE_PRIMARY)) {
      message = m;
    }
    if (const char* detail = libpq().result_error_field(result, PG_DIAG_MESSAGE_DETAIL)) {
      message += fmt::format(" ({})", detail);
    }
    libpq().clear(result);
  }
  if (message.empty()) {
    message = one_line(libpq().error_message(m_conn));
  }
  const bool lost = libpq().status(m_conn) == CONNECTION_BAD || sqlstate.rfind("08", 0) == 0
                    || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  throw PgError(message.empty() ? "unknown failure" : message, sqlstate, lost);
}

void Connection::simple(const char* sql)
{
  pg_result* result = libpq().exec(m_conn, sql);
  const auto status = libpq().result_status(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw_error(result);
  }
  libpq().clear(result);
}

Result Connection::exec(std::string_view sql, const Params& params)
{
  std::string key(sql);
  auto it = m_prepared.find(key);
  if (it == m_prepared.end()) {
    std::string name = fmt::format("hb{}", m_prepared.size() + 1);
    pg_result* prepared = libpq().prepare(m_conn, name.c_str(), key.c_str(), 0, nullptr);
    if (libpq().result_status(prepared) != PGRES_COMMAND_OK) {
      throw_error(prepared);
    }
    libpq().clear(prepared);
    it = m_prepared.emplace(std::move(key), std::move(name)).first;
  }
  const auto pointers = params.pointers();
  pg_result* result = libpq().exec_prepared(m_conn, it->second.c_str(), params.size(), pointers.data(),
                                     nullptr, nullptr, 0);
  const auto status = libpq().result_status(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw_error(result);
  }
  return Result(result);
}

void Connection::exec_script(std::string_view sql) { simple(std::string(sql).c_str()); }

long long Connection::copy_in(
  std::string_view copy_statement,
  const std::function<void(const std::function<void(std::string_view)>& send)>& produce)
{
  pg_result* started = libpq().exec(m_conn, std::string(copy_statement).c_str());
  if (libpq().result_status(started) != PGRES_COPY_IN) {
    throw_error(started);
  }
  libpq().clear(started);
  std::string buffer;
  auto flush = [&] {
    if (!buffer.empty()
        && libpq().put_copy_data(m_conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
      throw PgError(one_line(libpq().error_message(m_conn)), "", libpq().status(m_conn) == CONNECTION_BAD);
    }
    buffer.clear();
  };
  try {
    produce([&](std::string_view data) {
      buffer.append(data);
      if (buffer.size() >= 1 << 20) {
        flush();
      }
    });
    flush();
  } catch (const std::exception& e) {
    // Abandon the copy (the transaction fails with it), then report what went wrong.
    libpq().put_copy_end(m_conn, e.what());
    libpq().clear(libpq().get_result(m_conn));
    while (pg_result* rest = libpq().get_result(m_conn)) {
      libpq().clear(rest);
    }
    throw;
  }
  if (libpq().put_copy_end(m_conn, nullptr) != 1) {
    throw PgError(one_line(libpq().error_message(m_conn)), "", libpq().status(m_conn) == CONNECTION_BAD);
  }
  pg_result* finished = libpq().get_result(m_conn);
  if (libpq().result_status(finished) != PGRES_COMMAND_OK) {
    while (pg_result* rest = libpq().get_result(m_conn)) {
      libpq().clear(rest);
    }
    throw_error(finished);
  }
  const Result done(finished);
  while (pg_result* rest = libpq().get_result(m_conn)) {
    libpq().clear(rest);
  }
  return done.affected();
}

void Connection::begin()
{
  simple("BEGIN");
  m_in_transaction = true;
}

void Connection::commit()
{
  // Whatever COMMIT answers, the transaction is over.
  m_in_transaction = false;
  simple("COMMIT");
}

void Connection::rollback_quietly()
{
  const bool was_open = m_in_transaction;
  m_in_transaction = false;
  if (was_open && libpq().status(m_conn) == CONNECTION_OK) {
    libpq().clear(libpq().exec(m_conn, "ROLLBACK"));
  }
}

void Connection::pause_before_retry(int attempt)
{
  // Full jitter over a growing window (5, 10, 20, 40 ms): two runners that collided once do not
  // collide again in lockstep.
  thread_local std::mt19937 random(std::random_device{}());
  const int window = 5 << (attempt - 1);
  std::this_thread::sleep_for(
    std::chrono::milliseconds(std::uniform_int_distribution<int>(1, window)(random)));
}

void Connection::fail(const char* operation, const PgError& e) const
{
  const std::string& state = e.sqlstate();
  const std::string code = state.empty() ? "" : fmt::format(" (SQLSTATE {})", state);
  if (e.connection_lost()) {
    throw TemporaryError(fmt::format(
      "database {}: lost the connection while {}: {}{}; what it was writing is whole or absent, "
      "try again",
      m_display, operation, e.what(), code));
  }
  if (e.retryable() || state == "55P03" || state == "57014" || state == "53300"
      || state == "53400") {
    throw TemporaryError(fmt::format("database {} is busy ({}: {}{}); try again", m_display,
                                     operation, e.what(), code));
  }
  throw StoreError(
    fmt::format("database {}: {} failed: {}{}", m_display, operation, e.what(), code));
}

std::string display_location(const std::string& location)
{
  std::string out = location;
  const auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const auto authority = scheme_end + 3;
    const auto authority_end = out.find_first_of("/?", authority);
    const auto at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at > authority) {
      const auto colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) {
        out.erase(colon, at - colon);
      }
    }
    // ?password=... among the parameters.
    if (const auto query = out.find('?', authority); query != std::string::npos) {
      std::string kept;
      std::string_view rest = std::string_view(out).substr(query + 1);
      while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto item = rest.substr(0, amp);
        if (item.rfind("password=", 0) != 0 && !item.empty()) {
          kept += (kept.empty() ? "" : "&") + std::string(item);
        }
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      }
      out = out.substr(0, query) + (kept.empty() ? "" : "?" + kept);
    }
    return out;
  }
  // key=value form: drop password=... (quoted or not).
  for (auto pos = out.find("password"); pos != std::string::npos; pos = out.find("password", pos)) {
    auto eq = out.find_first_not_of(' ', pos + 8);
    if (eq == std::string::npos || out[eq] != '=' || (pos > 0 && out[pos - 1] != ' ')) {
      pos += 8;
      continue;
    }
    auto value = out.find_first_not_of(' ', eq + 1);
    std::size_t end = value;
    if (value != std::string::npos && out[value] == '\'') {
      end = value + 1;
      while (end < out.size() && out[end] != '\'') {
        end += out[end] == '\\' ? 2 : 1;
      }
      end = std::min(out.size(), end + 1);
    } else if (value != std::string::npos) {
      end = out.find(' ', value);
      if (end == std::string::npos) {
        end = out.size();
      }
    } else {
      end = out.size();
    }
    out.erase(pos, end - pos);
  }
  return out;
}

} // namespace hb::store::postgres
