// SPDX-License-Identifier: MIT
#pragma once

#include "checks/registry.hpp"
#include "core/config_node.hpp"
#include "core/errors.hpp"
#include "core/types.hpp"
#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace hb::test {

// Sets (or unsets, for nullptr) an environment variable and restores its previous state at scope
// exit.
class ScopedEnv {
public:
  ScopedEnv(std::string name, const char* value) : m_name(std::move(name))
  {
    if (const char* old = std::getenv(m_name.c_str())) {
      m_old = old;
    }
    if (value != nullptr) {
      ::setenv(m_name.c_str(), value, 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(std::string name, const std::string& value) : ScopedEnv(std::move(name), value.c_str())
  {
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv()
  {
    if (m_old) {
      ::setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

// Where a check spec is taken to sit in its config file: config error messages start with
// "<file>: <path>", so tests that assert those messages pick the place they quote.
struct CheckPlace {
  std::string file = "test.json";
  std::string path = "targets[0].checks[0]";
};

// Returns the check `spec` defines, parsed by the built-in registry; throws hb::ConfigError
// naming `place`.
inline checks::CheckDef parse_check(const nlohmann::json& spec, const CheckPlace& place = {})
{
  return checks::Registry::builtin().parse(ConfigNode(spec, place.file, place.path));
}

// Returns the wall clock, for check runs whose "now" does not matter.
inline const util::Clock& system_clock()
{
  static const util::SystemClock clock;
  return clock;
}

// Returns the result of one run of the check `spec` defines, with `timeout` and no cancellation;
// throws hb::ConfigError when `spec` is invalid.
inline checks::CheckResult run_check(const nlohmann::json& spec, Duration timeout = Duration(5'000),
                                     const CheckPlace& place = {})
{
  const checks::CheckDef def = parse_check(spec, place);
  std::atomic<bool> cancel{false};
  return def.probe->run(checks::CheckContext{cancel, timeout, system_clock()});
}

// One run of `def` (with a long timeout) whose cancel flag is set after `delay`, and how long
// the run took: for "a cut-off check returns promptly" tests.
struct CancelledRun {
  checks::CheckResult result;
  std::chrono::steady_clock::duration elapsed;
};
inline CancelledRun run_cancelled_after(const checks::CheckDef& def, Duration delay)
{
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(delay);
    cancel.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  CancelledRun out{def.probe->run(checks::CheckContext{cancel, Duration(30'000), system_clock()}),
                   {}};
  out.elapsed = std::chrono::steady_clock::now() - start;
  canceller.join();
  return out;
}

// Returns the message of the hb::ConfigError parsing `spec` throws, or "no error".
inline std::string config_error(const nlohmann::json& spec, const CheckPlace& place = {})
{
  try {
    parse_check(spec, place);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Returns the metric called `name` in `result`, or nullptr.
inline const Metric* find_metric(const checks::CheckResult& result, const std::string& name)
{
  for (const auto& metric : result.metrics) {
    if (metric.name == name) {
      return &metric;
    }
  }
  return nullptr;
}

} // namespace hb::test
