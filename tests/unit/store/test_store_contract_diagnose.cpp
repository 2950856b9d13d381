// SPDX-License-Identifier: MIT
// The store contract for hb-diagnose's reads: check_failures counts a window whole and keeps
// the newest failing results; database_info reports size, rows and the integrity check; a
// read-only store never writes.
#include "store_contract.hpp"

#include "core/errors.hpp"

#include <catch2/catch.hpp>

using namespace hb;
using namespace hb::store;
using namespace hb::test::contract;

namespace {

ExecutionWrite write_with(const std::string& target, TimePoint at, CheckStatus status,
                          const std::string& message, const std::string& phase)
{
  auto w = make_write(target, at, status == CheckStatus::ok ? ExecStatus::all_clear
                                                            : ExecStatus::alert);
  w.execution.results[0].status = status;
  w.execution.results[0].message = message;
  w.execution.results[0].phase = phase;
  CheckResultRecord disk;
  disk.check_name = "disk";
  disk.status = CheckStatus::ok;
  disk.message = "12% used";
  w.execution.results.push_back(disk);
  return w;
}

} // namespace

TEST_CASE("Store::check_failures")
{
  HB_FOR_EACH_BACKEND(backend, dir)
  {
    auto store = backend.open(dir.path());
    store->sync_targets({make_target("acme", "Acme"), make_target("globex", "Globex")}, k_t0);
    std::vector<ExecutionWrite> writes;
    // Minute 0: ok; 1..4: HTTP 429 and 503 alternately; minute 5: ok. Another target fails too.
    writes.push_back(write_with("acme", k_t0, CheckStatus::ok, "200 OK", ""));
    for (int i = 1; i <= 4; ++i) {
      writes.push_back(write_with("acme", k_t0 + std::chrono::minutes(i), CheckStatus::alert,
                                  i % 2 == 1 ? "HTTP 429 (expected 200)" : "HTTP 503 (expected 200)",
                                  "http_status"));
    }
    writes.push_back(write_with("acme", k_t0 + 5min, CheckStatus::ok, "200 OK", ""));
    writes.push_back(write_with("globex", k_t0 + 2min, CheckStatus::alert, "refused", "connect"));
    store->record_executions(writes);

    SECTION("counts every result in the window per check, and keeps the newest failures")
    {
      const auto checks = store->check_failures("acme", k_t0, 3);
      REQUIRE(checks.size() == 2);
      CHECK(checks[0].check_name == "disk");
      CHECK(checks[0].runs == 6);
      CHECK(checks[0].failures == 0);
      CHECK(checks[0].newest.empty());
      CHECK(checks[1].check_name == "http");
      CHECK(checks[1].runs == 6);
      CHECK(checks[1].failures == 4);
      REQUIRE(checks[1].newest.size() == 3);  // the limit
      CHECK(checks[1].newest[0].first == k_t0 + 4min);
      CHECK(checks[1].newest[0].second.message == "HTTP 503 (expected 200)");
      CHECK(checks[1].newest[0].second.phase == "http_status");
      CHECK(checks[1].newest[0].second.status == CheckStatus::alert);
      CHECK(checks[1].newest[2].first == k_t0 + 2min);
    }

    SECTION("the window starts at `since`")
    {
      const auto checks = store->check_failures("acme", k_t0 + 3min, 10);
      REQUIRE(checks.size() == 2);
      CHECK(checks[1].runs == 3);
      CHECK(checks[1].failures == 2);
    }

    SECTION("nothing for a target without executions in the window")
    {
      CHECK(store->check_failures("acme", k_t0 + 1h, 10).empty());
      CHECK(store->check_failures("nobody", k_t0, 10).empty());
    }

    SECTION("database_info: size, rows, oldest execution and the integrity check")
    {
      const auto info = store->database_info(k_t0 + 10min, CheckIntegrity::yes);
      CHECK(info.backend == (std::string(backend.name) == "sqlite" ? "sqlite" : "postgresql"));
      CHECK(info.schema_version > 0);
      CHECK(info.size_bytes > 0);
      CHECK(info.rows == 7);
      CHECK(info.rows_last_day == 7);
      CHECK(info.oldest_execution == std::optional<TimePoint>(k_t0));
      CHECK(info.integrity == std::optional<std::string>("ok"));
      CHECK_FALSE(info.last_prune);
      // Without the check, and a day later: nothing written in the last 24 hours.
      const auto later = store->database_info(k_t0 + 25h, CheckIntegrity::no);
      CHECK_FALSE(later.integrity);
      CHECK(later.rows_last_day == 0);
    }
  }
}

TEST_CASE("OpenMode::read_only reads and never writes")
{
  hb::test::TempDir dir;
  const std::string path = (dir.path() / "ro.db").string();
  CHECK(open_store(path, OpenMode::read_only) == nullptr);  // no database yet: nothing created
  CHECK_FALSE(std::filesystem::exists(path));
  {
    auto writer = open_store(path, OpenMode::read_write);
    writer->sync_targets({make_target("acme", "Acme")}, k_t0);
  }
  auto reader = open_store(path, OpenMode::read_only);
  REQUIRE(reader != nullptr);
  CHECK(reader->targets(IncludeRetired::no).size() == 1);
  CHECK_THROWS_AS(reader->sync_targets({make_target("globex", "Globex")}, k_t0 + 1min),
                  hb::StoreError);
}
