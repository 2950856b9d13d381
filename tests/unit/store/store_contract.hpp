// SPDX-License-Identifier: MIT
#pragma once

// The store contract suite: every test in test_store_contract_*.cpp runs once per backend of
// backends(), through the Store interface only. A new backend passes the suite by adding one
// row there.

#include "store/store.hpp"

#include "support/postgres.hpp"
#include "support/tool_runner.hpp"
#include "util/time.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hb::test::contract {

using namespace std::chrono_literals;

struct Backend {
  const char* name;
  // Opens a store on a fresh database kept under `dir`; opening again with the same `dir` gives
  // a second connection to that same database (as a second process would have).
  std::function<std::unique_ptr<store::Store>(const std::filesystem::path& dir)> open;
};

// The PostgreSQL location of `dir`: a schema of the suite's server (support/postgres.hpp) per
// folder, so that opening again with the same folder reaches the same tables. The schemas of
// folders that are gone (their test finished) are dropped as new ones are made.
inline std::string postgres_location(const std::filesystem::path& dir)
{
  static std::map<std::filesystem::path, std::unique_ptr<PgSchema>> schemas;
  if (const auto it = schemas.find(dir); it != schemas.end()) {
    return it->second->url();
  }
  for (auto it = schemas.begin(); it != schemas.end();) {
    it = std::filesystem::exists(it->first) ? std::next(it) : schemas.erase(it);
  }
  return schemas.emplace(dir, std::make_unique<PgSchema>()).first->second->url();
}

inline const std::vector<Backend>& backends()
{
  static const std::vector<Backend> k_backends{
    {"sqlite",
     [](const std::filesystem::path& dir) {
       return store::open_store((dir / "contract.db").string(), store::OpenMode::read_write);
     }},
    {"postgres",
     [](const std::filesystem::path& dir) {
       return store::open_store(postgres_location(dir), store::OpenMode::read_write);
     }},
  };
  return k_backends;
}

// Runs `body` with a store of each backend, each in a DYNAMIC_SECTION named after the backend
// (so SECTIONs inside `body` work as usual) and a fresh temporary folder.
#define HB_FOR_EACH_BACKEND(backend, dir)                                                     \
  for (const auto& backend : ::hb::test::contract::backends())                                \
    DYNAMIC_SECTION(backend.name)                                                             \
      if (::hb::test::TempDir dir; true)

inline const TimePoint k_t0 = util::from_unix_ms(1'771'423'500'000);  // 2026-02-18T14:05:00Z

inline TargetInfo make_target(const std::string& id, const std::string& name,
                              std::vector<std::string> check_names = {"http"})
{
  TargetInfo t;
  t.id = id;
  t.name = name;
  t.kind = TargetKind::tenant;
  t.tags = {"prod", "eu"};
  t.interval = 30min;
  for (const auto& c : check_names) {
    t.checks.push_back({c, "http", Severity::alert, "GET https://" + id + ".example.com/"});
  }
  return t;
}

// An agent that beats every 30 s.
inline TargetInfo make_agent(const std::string& id)
{
  TargetInfo t;
  t.id = id;
  t.name = id;
  t.kind = TargetKind::agent;
  HeartbeatInfo h;
  h.every = 30s;
  h.grace = 3s;
  t.heartbeat = h;
  return t;
}

inline std::vector<std::string> ids(const std::vector<TargetRecord>& records)
{
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.info.id);
  }
  return out;
}

inline const TargetRecord* find(const std::vector<TargetRecord>& records, const std::string& id)
{
  for (const auto& r : records) {
    if (r.info.id == id) {
      return &r;
    }
  }
  return nullptr;
}

inline bool always_due(const std::string&, const TargetState&) { return true; }
inline bool task_always_due(const std::string&, const ScheduleState&) { return true; }

// A write for one finished execution of `target` at `at` with one check result ("http").
inline ExecutionWrite make_write(const std::string& target, TimePoint at, ExecStatus status,
                                 const std::string& release_owner = "")
{
  ExecutionWrite w;
  w.execution.target_id = target;
  w.execution.started_at = at;
  w.execution.completed_at = at + 1200ms;
  w.execution.trigger = Trigger::pulse;
  w.execution.status = status;
  CheckResultRecord r;
  r.check_name = "http";
  r.status = status == ExecStatus::all_clear ? CheckStatus::ok : CheckStatus::alert;
  r.message = status == ExecStatus::all_clear ? "200 OK" : "connection refused";
  r.latency = 120ms;
  r.phase = status == ExecStatus::all_clear ? "" : "connect";
  w.execution.results.push_back(r);
  w.state.target_id = target;
  w.state.health = status == ExecStatus::all_clear ? Health::healthy : Health::failing;
  w.state.since = at;
  w.state.last_execution_at = at;
  w.state.last_status = status;
  w.state.consecutive_failures = status == ExecStatus::all_clear ? 0 : 1;
  w.state.consecutive_successes = status == ExecStatus::all_clear ? 1 : 0;
  w.release_owner = release_owner;
  return w;
}

// An event from `old_state` ("unknown" is a first state, which count_events leaves out).
inline Event make_event(const std::string& target, TimePoint at, EventType type,
                        const std::string& message = "", const std::string& old_state = "healthy")
{
  Event e;
  e.target_id = target;
  e.at = at;
  e.type = type;
  e.old_state = old_state;
  e.new_state = std::string(to_string(type));
  e.message = message;
  return e;
}

} // namespace hb::test::contract
