// SPDX-License-Identifier: MIT
#pragma once

// What hb-diagnose reports (SPEC §4.5): findings, each with a stable id, a severity, evidence
// and a recommendation, over one database and one config. Plain records; no I/O.

#include "core/errors.hpp"
#include "core/types.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::diagnose {

enum class Level { info, warning, critical };

std::string_view to_string(Level level);
std::optional<Level> parse_level(std::string_view text);

struct Finding {
  std::string id;       // stable, one of those docs/diagnose.md lists: "check.rate_limited"
  Level severity = Level::warning;
  std::string target;   // the target it is about, "" for the system
  std::string check;    // the check it is about, "" for none
  std::string title;    // one line
  std::vector<std::string> evidence;  // one fact each: numbers, times, the rows read
  std::string recommendation;         // what an operator can do about it
};

struct Diagnosis {
  TimePoint now;
  Duration window{0};
  std::string target;        // the target asked about, "" for all
  Level threshold = Level::info;
  std::string config_file;   // "" when none was found
  std::string database;
  bool database_exists = false;
  std::optional<store::DatabaseInfo> database_info;
  int targets_examined = 0;
  std::vector<Finding> findings;  // at or above the threshold; most severe first
  // 0 no finding at or above the threshold, 1 warnings, 2 critical findings.
  ExitCode exit_code = ExitCode::ok;

  int count(Level level) const;
};

} // namespace hb::diagnose
