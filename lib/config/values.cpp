// SPDX-License-Identifier: MIT
// The leaf validators of the config (ids, clock times, timezones) and locating the config file.
#include "config/config.hpp"

#include "core/errors.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>

namespace hb::config {

const Target* Config::find_target(std::string_view id) const
{
  for (const auto& target : targets) {
    if (target.id == id) {
      return &target;
    }
  }
  return nullptr;
}

const Channel* Config::find_channel(std::string_view name) const
{
  for (const auto& channel : channels) {
    if (channel.policy.name == name) {
      return &channel;
    }
  }
  return nullptr;
}

bool is_valid_target_id(std::string_view id)
{
  if (id.empty() || id.size() > 100) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
                    || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool is_valid_timezone(const std::string& name)
{
  if (name.empty()) {
    return false;
  }
  // locate_zone reads tzdata on its first call; the cache keeps a config with thousands of
  // targets in the same zone from paying for the lookup (and its exception) every time.
  static std::mutex mutex;
  static std::map<std::string, bool, std::less<>> cache;
  const std::lock_guard lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) {
    return it->second;
  }
  bool valid = false;
  try {
    valid = date::locate_zone(name) != nullptr;
  } catch (const std::runtime_error&) {
    valid = false;
  }
  cache.emplace(name, valid);
  return valid;
}

std::optional<std::filesystem::path> locate(const std::string& explicit_path)
{
  // A file named explicitly "does not exist" only when it is really absent: a symlink loop or a
  // directory that may not be searched is left to the reader (load()), which says so.
  auto exists = [](const std::filesystem::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 || (errno != ENOENT && errno != ENOTDIR);
  };
  // A default location is used when it is there, or when it is a symlink loop (a mistake worth
  // reporting); one behind a directory we may not search is as good as absent.
  auto present = [](const std::filesystem::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 || errno == ELOOP;
  };
  if (!explicit_path.empty()) {
    if (!exists(explicit_path)) {
      throw ConfigError(fmt::format("config file \"{}\" does not exist", explicit_path));
    }
    return std::filesystem::path(explicit_path);
  }
  if (const char* env = std::getenv("HB_CONFIG"); env != nullptr && *env != '\0') {
    if (!exists(env)) {
      throw ConfigError(fmt::format("config file \"{}\" (from $HB_CONFIG) does not exist", env));
    }
    return std::filesystem::path(env);
  }
  for (const char* candidate : {"heartbeat.json", "/etc/heartbeat/heartbeat.json"}) {
    if (present(candidate)) {
      return std::filesystem::path(candidate);
    }
  }
  return std::nullopt;
}

} // namespace hb::config
