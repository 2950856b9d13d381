// SPDX-License-Identifier: MIT
#include "checks/file_check.hpp"

#include "core/clock.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

namespace hb::checks {
namespace {

namespace fs = std::filesystem;

// "512 B", "1.2 KB", "3.4 GB" (binary multiples, as ls -h and du -h show them).
std::string format_size(std::uintmax_t bytes)
{
  if (bytes < 1024) {
    return fmt::format("{} B", bytes);
  }
  constexpr std::array<std::string_view, 5> k_units{"KB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < k_units.size()) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, k_units[unit]);
}

// A file that must exist (or must not), optionally younger than max_age and at least min_size
// bytes: backups, exports, heartbeat files written by other programs.
class FileCheck final : public Check {
public:
  FileCheck(std::string path, std::optional<Duration> max_age,
            std::optional<std::uintmax_t> min_size, bool must_exist, Severity severity)
      : m_path(std::move(path))
      , m_max_age(max_age)
      , m_min_size(min_size)
      , m_must_exist(must_exist)
      , m_severity(severity)
  {
  }

  CheckResult run(const CheckContext& context) const override
  {
    const auto started = std::chrono::steady_clock::now();
    CheckResult result = probe(context);
    result.latency =
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
    return result;
  }

  std::string describe() const override { return "file " + m_path; }

private:
  CheckResult probe(const CheckContext& context) const
  {
    CheckResult result;
    if (context.cancel.load()) {
      result.status = CheckStatus::error;
      result.message = "cut off: pulse deadline or shutdown";
      result.phase = "cancelled";
      return result;
    }
    const auto fail = [&](CheckStatus status, std::string phase, std::string message) {
      result.status = status;
      result.phase = std::move(phase);
      result.message = std::move(message);
      return result;
    };
    const CheckStatus failure = failure_status(m_severity);

    std::error_code ec;
    const fs::file_status status = fs::status(m_path, ec);
    if (status.type() == fs::file_type::not_found) {
      if (!m_must_exist) {
        return fail(CheckStatus::ok, "", fmt::format("{} does not exist, as required", m_path));
      }
      return fail(failure, "missing", fmt::format("{} does not exist", m_path));
    }
    if (ec) {
      return fail(CheckStatus::error, "stat",
                  fmt::format("cannot stat {}: {}", m_path, ec.message()));
    }
    if (!m_must_exist) {
      return fail(failure, "exists", fmt::format("{} exists but must not", m_path));
    }

    const fs::file_time_type written = fs::last_write_time(m_path, ec);
    if (ec) {
      return fail(CheckStatus::error, "stat",
                  fmt::format("cannot read the modification time of {}: {}", m_path, ec.message()));
    }
    const TimePoint modified =
        std::chrono::time_point_cast<Duration>(std::chrono::file_clock::to_sys(written));
    // A file written "in the future" (clock skew, HB_NOW in the past) counts as brand new.
    const Duration age = std::max(Duration(0), context.clock.now() - modified);

    const bool regular = fs::is_regular_file(status);
    std::uintmax_t size = 0;
    if (regular) {
      size = fs::file_size(m_path, ec);
      if (ec) {
        return fail(CheckStatus::error, "stat",
                    fmt::format("cannot read the size of {}: {}", m_path, ec.message()));
      }
      result.metrics.push_back(Metric{"size", static_cast<double>(size), "B", "", "", 0.0, {}});
    }
    result.metrics.push_back(Metric{"age", static_cast<double>(age.count()) / 1000.0, "s", "", "",
                                    std::nullopt, std::nullopt});

    if (m_max_age && age > *m_max_age) {
      return fail(failure, "age",
                  fmt::format("{} is {} old (max_age {})", m_path, util::format_duration(age),
                              util::format_duration(*m_max_age)));
    }
    if (m_min_size && !regular) {
      return fail(failure, "size",
                  fmt::format("{} is not a regular file, so it has no size to compare with "
                              "min_size",
                              m_path));
    }
    if (m_min_size && size < *m_min_size) {
      return fail(
          failure, "size",
          fmt::format("{} is only {} bytes (min_size {} bytes)", m_path, size, *m_min_size));
    }
    const std::string what = regular                    ? format_size(size)
                             : fs::is_directory(status) ? std::string("directory")
                                                        : std::string("not a regular file");
    return fail(CheckStatus::ok, "",
                fmt::format("{}: {}, {} old", m_path, what, util::format_duration(age)));
  }

  std::string m_path;
  std::optional<Duration> m_max_age;
  std::optional<std::uintmax_t> m_min_size;
  bool m_must_exist;
  Severity m_severity;
};

std::unique_ptr<Check> create_file_check(const ConfigNode& spec, const CommonSettings& common)
{
  const ConfigNode path_node = spec["path"];
  if (path_node.is_null()) {
    spec.fail_message("missing \"path\" (the file to check, like \"/var/backups/db.gz\")");
  }
  if (!path_node.is_string() && !path_node.is_object()) {
    path_node.fail("a file path like \"/var/backups/db.gz\"");
  }
  std::string path = path_node.as_string();
  if (path.empty()) {
    path_node.fail("a file path like \"/var/backups/db.gz\"");
  }

  std::optional<Duration> max_age = spec.find_duration("max_age");
  if (max_age && *max_age <= Duration(0)) {
    spec["max_age"].fail("a positive duration like \"24h\"");
  }

  std::optional<std::uintmax_t> min_size;
  if (const ConfigNode size_node = spec["min_size"]; !size_node.is_null()) {
    if (!size_node.raw().is_number()) {
      size_node.fail("a size in bytes like 1048576");
    }
    min_size =
        static_cast<std::uintmax_t>(size_node.as_int(0, std::numeric_limits<std::int64_t>::max()));
  }

  const bool must_exist = spec.get_bool("exists", true);
  if (!must_exist && (max_age || min_size)) {
    spec["exists"].fail_message(
        "\"exists\": false cannot be combined with \"max_age\" or \"min_size\"");
  }
  return std::make_unique<FileCheck>(std::move(path), max_age, min_size, must_exist,
                                     common.severity);
}

} // namespace

CheckType file_check_type()
{
  return {"file", {"path", "max_age", "min_size", "exists"}, &create_file_check};
}

} // namespace hb::checks
