// SPDX-License-Identifier: MIT
#pragma once

// hb-diagnose (SPEC §4.5): reads the database and the config, writes nothing, and explains what
// is wrong with evidence and advice. Every finding id is listed in docs/diagnose.md.

#include "config/config.hpp"
#include "diagnose/finding.hpp"
#include "store/store.hpp"

#include <string>

namespace hb::diagnose {

struct Inputs {
  store::Store* store = nullptr;             // nullptr: no database yet
  const config::Config* config = nullptr;    // nullptr: none found, or it failed to load
  std::string config_file;                   // the file found, "" for none
  std::string config_error;                  // why it failed to load, "" when it loaded
  std::string database;                      // where the database is (or would be)
  TimePoint now;
  Duration window{24LL * 3'600'000};          // how far back to look
  std::string target;                        // only this target ("" for all, and the system)
  Level threshold = Level::info;             // findings below it are left out
  store::CheckIntegrity integrity = store::CheckIntegrity::no;
};

// Databases up to this size get PRAGMA quick_check on every run (it reads every page: about
// 50 ms for 16 MiB); larger ones only when asked (--integrity).
inline constexpr long long k_integrity_auto_bytes = 16LL * 1024 * 1024;
// A WAL over this size, and over half the database, is reported (database.wal_large).
inline constexpr long long k_wal_large_bytes = 64LL * 1024 * 1024;

// About how many bytes a day the database grows by while its history has not reached the
// retention window: size × rows written in the last 24 hours / rows kept. None without rows.
std::optional<long long> growth_per_day(const store::DatabaseInfo& info);

// Diagnoses at `inputs.now`. Throws hb::DataError (exit 65) for an unknown target,
// hb::StoreError when the database cannot be read.
Diagnosis diagnose(const Inputs& inputs);

} // namespace hb::diagnose
