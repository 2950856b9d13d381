// SPDX-License-Identifier: MIT
#include "store/store.hpp"

#include "store/location.hpp"
#include "store/postgres/connection.hpp"

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include "core/errors.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <unistd.h>

namespace hb::store {
namespace {

// A backend, keyed by the scheme of the locations it serves ("sqlite" for "sqlite:///path").
struct Backend {
  std::string_view scheme;
  std::string_view example;  // for messages
  // Opens the location with the "scheme://" removed.
  std::unique_ptr<Store> (*open)(std::string_view rest, const std::string& location, OpenMode mode);
};

std::unique_ptr<Store> open_sqlite_url(std::string_view rest, const std::string& location,
                                       OpenMode mode)
{
  if (rest.empty() || rest.front() != '/') {
    throw UsageError(fmt::format(
      "database location \"{}\": expected sqlite:///absolute/path, or a plain file path",
      location));
  }
  return sqlite::open_sqlite(std::string(rest), mode);
}

// libpq reads the whole URI itself (host, port, user, database, parameters such as sslmode);
// its password, if any, never reaches a message (postgres::display_location).
std::unique_ptr<Store> open_postgres_url(std::string_view /*rest*/, const std::string& location,
                                         OpenMode mode)
{
  return postgres::open_postgres(location, mode);
}

// Every backend this binary has; a plain path (no scheme) is SQLite.
constexpr std::array<Backend, 3> k_backends{{
  {"sqlite", "sqlite:///path", open_sqlite_url},
  {"postgresql", "postgresql://user@host:5432/heartbeat", open_postgres_url},
  {"postgres", "postgres://user@host/heartbeat", open_postgres_url},
}};

// The scheme of `location` ("postgresql" in "postgresql://host/db"), or std::nullopt for a
// plain path. Only "scheme://" counts, so a file named "a:b.db" stays a path.
std::optional<std::string_view> scheme_of(std::string_view location)
{
  const auto colon = location.find("://");
  if (colon == std::string_view::npos || colon == 0
      || std::isalpha(static_cast<unsigned char>(location[0])) == 0) {
    return std::nullopt;
  }
  for (const char c : location.substr(0, colon)) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.') {
      return std::nullopt;
    }
  }
  return location.substr(0, colon);
}

} // namespace

std::unique_ptr<Store> open_store(const std::string& location, OpenMode mode)
{
  if (location.empty()) {
    throw UsageError("the database location is empty: pass --db PATH or set HB_DB");
  }
  const auto scheme = scheme_of(location);
  if (!scheme) {
    return sqlite::open_sqlite(location, mode);
  }
  std::string served = "a plain file path";
  for (const auto& backend : k_backends) {
    if (backend.scheme == *scheme) {
      return backend.open(std::string_view(location).substr(scheme->size() + 3), location, mode);
    }
    served += fmt::format(" or {}", backend.example);
  }
  throw UsageError(fmt::format("unsupported database location \"{}\": scheme \"{}\" is not "
                               "served; use {}",
                               postgres::display_location(location), *scheme, served));
}

std::string display_location(const std::string& location)
{
  const auto scheme = scheme_of(location);
  if (scheme && (*scheme == "postgresql" || *scheme == "postgres")) {
    return postgres::display_location(location);
  }
  return location;
}

std::string default_database_path()
{
  if (::geteuid() == 0) {
    return "/var/lib/heartbeat/heartbeat.db";
  }
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    return std::string(state) + "/heartbeat/heartbeat.db";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/state/heartbeat/heartbeat.db";
  }
  return "heartbeat.db";
}

} // namespace hb::store
