// SPDX-License-Identifier: MIT
// hb-status --json against its JSON Schema files (docs/schema/), and with it the other tools'
// --json (hb-pulse, hb-beat, hb-notify, hb-recover: run_tool validates them), on a fleet built
// for real to show every optional shape the printers have (HTTP and command checks healthy, warning and failing,
// an agent with metrics, jobs, scheduled tasks, a paused and a retired target, hb-recover with
// target and shared-cause escalations, channels that deliver, fail, fall back, retry and hold,
// an incident that ends, clock skew, no database at all), every overview and target view
// validated. And proof that the validation cannot pass vacuously: documents the printer must
// never print are rejected, naming where, and a missing jsonschema module fails loudly.
#include "e2e_helpers.hpp"

#include "util/time.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace hb::test;
using nlohmann::json;

namespace {

const std::string k_t0 = "2026-03-02T10:00:00Z";

std::string at_minutes(int minutes)
{
  return hb::util::format_rfc3339(*hb::util::parse_rfc3339(k_t0) + std::chrono::minutes(minutes));
}

std::string script(const Workspace& ws, const std::string& name, const std::string& body)
{
  const auto path = ws.dir.write(name, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path.string();
}

json command_check(const std::string& name, const std::string& shell)
{
  return {{"name", name}, {"type", "command"}, {"command", {"/bin/sh", "-c", shell}}};
}

// Every kind of target, check, task, channel and recovery the printers have a shape for.
json fleet_config(const Workspace& ws, const TestHttpServer& server, int dead_port, bool with_old)
{
  const std::string up = (ws.dir / "shop-up").string();
  const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  json targets = json::array({
      {{"id", "api"},
       {"name", "Public API"},
       {"tags", {"core", "prod"}},
       {"checks", {{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}}}}},
      {{"id", "shop"},
       {"kind", "tenant"},
       {"checks",
        {{{"name", "home"}, {"type", "http"}, {"url", server.url("/flag?path=" + up)}}}}},
      {{"id", "disk"},
       {"checks", {command_check("usage", "echo 'DISK CRITICAL - 98% used | used=98%;90;95'; exit 2")}}},
      {{"id", "queue"},
       {"new_target_grace", "1d"},
       {"checks", {command_check("depth", "echo 'QUEUE WARNING - 1200 waiting | depth=1200'; exit 1")}}},
      {{"id", "dead-1"}, {"checks", {{{"name", "home"}, {"type", "http"}, {"url", dead + "/one"}}}}},
      {{"id", "dead-2"}, {"checks", {{{"name", "home"}, {"type", "http"}, {"url", dead + "/two"}}}}},
      {{"id", "held"},
       {"paused", true},
       {"checks", {{{"name", "noop"}, {"type", "command"}, {"command", {"/bin/true"}}}}}},
      {{"id", "worker"}, {"kind", "agent"}, {"heartbeat", {{"every", "1m"}}}},
      {{"id", "backup"}, {"kind", "job"}},
      {{"id", "nightly"},
       {"kind", "job"},
       {"heartbeat", {{"schedule", "0 3 * * *"}, {"grace", "30m"}, {"max_runtime", "2h"}}}},
  });
  if (with_old) {
    targets.push_back(
        {{"id", "old"}, {"checks", {{{"name", "noop"}, {"type", "command"}, {"command", {"/bin/true"}}}}}});
  }
  const std::string fail = script(ws, "restart.sh", "echo restarting \"$1\"; exit 1");
  const std::string dispatch = script(ws, "dispatch.sh", "cat > /dev/null; echo dispatched");
  return {
      // Hourly pulses: the timeline jumps minutes ahead without the pulse going stale.
      {"pulse", {{"interval", "1h"}}},
      {"defaults", {{"interval", "5m"}}},
      {"targets", std::move(targets)},
      {"schedules",
       {{{"name", "tick"}, {"cron", "*/5 * * * *"}, {"target", "api"}, {"command", {"/bin/true"}}},
        {{"name", "report"},
         {"cron", "*/5 * * * *"},
         {"command", {"/bin/sh", "-c", "echo no report today; exit 3"}}}}},
      {"channels",
       {{"hook", {{"type", "webhook"}, {"url", server.url("/record/hook")}}},
        {"broken",
         {{"type", "webhook"},
          {"url", server.url("/record/broken?status=404")},
          {"fallback", "hook"}}},
        {"flaky", {{"type", "webhook"}, {"url", server.url("/record/flaky?status=503")}}},
        {"night",
         {{"type", "webhook"},
          {"url", server.url("/record/night")},
          {"quiet_hours", {{"start", "00:00"}, {"end", "23:59"}}},
          {"timezone", "UTC"}}}}},
      {"notify",
       json::array({{{"channels", {"hook"}}},
                    {{"channels", {"broken", "flaky", "night"}}, {"targets", {"shop"}}}})},
      {"recovery",
       {{"verify_after", "0s"},
        {"escalate_after", 1},
        {"shared_cause_min", 2},
        {"escalation", {{"channels", {"hook"}}, {"command", json::array({dispatch})}}},
        {"actions", {{"failing", json::array({fail, "${target.id}"})}}}}},
  };
}

const json& row_of(const json& status, const std::string& id)
{
  for (const auto& t : status.at("targets")) {
    if (t.at("id") == id) {
      return t;
    }
  }
  FAIL("no row for target " << id << " in " << status.dump());
  static const json none;
  return none;
}

bool any_of(const json& array, const std::function<bool(const json&)>& test)
{
  return std::any_of(array.begin(), array.end(), test);
}

// Resolves a "$ref" of the schema files ("#/$defs/x" in `file`, or "other.json#/$defs/x").
const json& resolve(const std::map<std::string, json>& files, std::string& file, const std::string& ref)
{
  const auto hash = ref.find('#');
  if (hash > 0) {
    file = ref.substr(0, hash);
  }
  return files.at(file).at(json::json_pointer(ref.substr(hash + 1)));
}

// The properties of closed objects in `node` that have no "description", directly or through
// their "$ref"s: "hb-status.schema.json /$defs/agent/properties/state".
void undescribed(const std::map<std::string, json>& files, const std::string& file, const json& node,
                 const std::string& where, std::vector<std::string>& out)
{
  if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      undescribed(files, file, node[i], where + "/" + std::to_string(i), out);
    }
    return;
  }
  if (!node.is_object()) {
    return;
  }
  // Properties of a shape, not of a constraint clause (if/then, anyOf over required values).
  const bool shape = (node.contains("type") && node.at("type") == "object") || node.contains("required");
  if (shape && node.contains("properties")) {
    for (const auto& [name, property] : node.at("properties").items()) {
      std::string in = file;
      const json* p = &property;
      for (int hops = 0; !p->contains("description") && p->contains("$ref") && hops < 8; ++hops) {
        p = &resolve(files, in, p->at("$ref").get<std::string>());
      }
      if (!p->contains("description")) {
        out.push_back(file + " " + where + "/properties/" + name);
      }
    }
  }
  for (const auto& [key, value] : node.items()) {
    if ((key == "properties" || key == "$defs") && value.is_object()) {
      // Maps of names to schemas, not schemas: a property may be called "type".
      for (const auto& [name, schema] : value.items()) {
        undescribed(files, file, schema, where + "/" + key + "/" + name, out);
      }
    } else {
      undescribed(files, file, value, where + "/" + key, out);
    }
  }
}

} // namespace

TEST_CASE("status schema: the schema files are draft 2020-12 schemas and describe every field")
{
  std::map<std::string, json> files;
  for (const std::string file :
       {"hb-status.schema.json", "hb-status-target.schema.json", "hb-pulse.schema.json",
        "hb-beat.schema.json", "hb-notify.schema.json", "hb-recover.schema.json",
        "hb-migrate.schema.json"}) {
    std::string message;
    INFO(file);
    CHECK(run_validator({"--check-schema", schema_file(file)}, "", message) == 0);
    CHECK(message.empty());
    files[file] = json::parse(read_file(schema_file(file)));
  }
  std::vector<std::string> missing;
  for (const auto& [file, schema] : files) {
    undescribed(files, file, schema, "", missing);
  }
  INFO("fields without a description:\n" << json(missing).dump(2));
  CHECK(missing.empty());

  // And --check-schema does fail on a schema that is not one.
  TempDir dir;
  const auto broken = dir.write("broken.schema.json",
                                R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                    "type": "object", "properties": {"a": {"type": 5}}})");
  std::string message;
  CHECK(run_validator({"--check-schema", broken.string()}, "", message) == 2);
  CHECK_THAT(message, Catch::Contains("is not a valid draft 2020-12 schema"));
}

TEST_CASE("status schema: every view of a fleet with every optional shape matches")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  const int dead_port = closed_port();
  ws.write_config(fleet_config(ws, server, dead_port, true).dump(2));

  // Every tool's --json is validated against its schema as it runs (run_tool); these keep a
  // document of each, to check its version and that its schema is not one that accepts anything.
  std::map<std::string, json> documents;
  const auto keep = [&](const std::string& tool, const ToolResult& result) {
    INFO(tool << ": " << result.err);
    REQUIRE_FALSE(result.out.empty());
    documents[tool] = json::parse(result.out);
  };

  // The pulse records and runs everything; an agent reports degraded with metrics; a job fails.
  REQUIRE(ws.pulse({"--json"}, k_t0).exit_code == 0);
  auto r = ws.beat({"worker", "--status", "degraded", "--message", "disk slow", "--metric",
                    "cpu=45%", "--metric", "queue=12", "--json"},
                   at_minutes(1));
  INFO("hb-beat: " << r.err);
  REQUIRE(r.exit_code == 0);
  keep("hb-beat", r);
  r = ws.beat({"backup", "--", "/bin/sh", "-c", "echo tape jammed; exit 4"}, at_minutes(1));
  REQUIRE(r.exit_code == 4);
  // The tasks run (one fails); notifications go out, fail, fall back, wait for a retry or are
  // held; hb-recover fails on every failing target and escalates: once per target, once for the
  // two that fail the same way.
  r = ws.pulse({"--json"}, at_minutes(5));
  REQUIRE(r.exit_code == 0);
  keep("hb-pulse", r);
  const auto notify = run_tool("hb-notify", {"--config", ws.config, "--db", ws.db, "--json"},
                               {{"HB_NOW", at_minutes(6)}});
  INFO("hb-notify: " << notify.out << notify.err);
  keep("hb-notify", notify);
  CHECK_FALSE(ws.recover_json({"--dry-run"}, at_minutes(7)).at("targets").empty());
  const json recovered = ws.recover_json({}, at_minutes(7));
  documents["hb-recover"] = recovered;
  INFO("hb-recover: " << recovered.dump());
  REQUIRE(recovered.at("escalations_opened").size() >= 2);
  // "old" leaves the config: retired.
  ws.write_config(fleet_config(ws, server, dead_port, false).dump(2));
  REQUIRE(ws.pulse({"--json"}, at_minutes(10)).exit_code == 0);

  // Each document says which version of its format it is, and its schema rejects a field the
  // printer does not print.
  for (auto [tool, document] : documents) {
    INFO(tool);
    CHECK(document.at("schema") == 1);
    CHECK(schema_errors(schema_file(tool + ".schema.json"), document.dump()).empty());
    document["notAField"] = true;
    CHECK_FALSE(schema_errors(schema_file(tool + ".schema.json"), document.dump()).empty());
  }

  // The overview, with and without the retired target: valid (status_json checks), and the
  // optional shapes are really there, so that the validation covered them.
  const json overview = ws.status_json({}, at_minutes(11));
  const json all = ws.status_json({"--all"}, at_minutes(11));
  CHECK(overview.at("targets").size() == 10);
  CHECK(row_of(all, "old").at("retiredAt").is_string());
  CHECK(overview.at("overall").at("score").is_number());
  CHECK(overview.at("overall").at("components").is_null());
  CHECK(row_of(overview, "api").at("figures").at("components").is_object());
  CHECK(row_of(overview, "held").at("paused") == true);
  CHECK(row_of(overview, "queue").at("health") == "warning");
  CHECK(row_of(overview, "shop").at("health") == "failing");
  CHECK(row_of(overview, "worker").at("agent").at("metrics").at("cpu").at("unit") == "%");
  CHECK_FALSE(row_of(overview, "worker").at("agent").at("issues").empty());
  CHECK(row_of(overview, "backup").at("job").at("lastRun").at("exitCode") == 4);
  CHECK(row_of(overview, "nightly").at("job").at("nextExpected").is_string());
  const json& schedules = overview.at("schedules");
  CHECK(any_of(schedules, [](const json& s) { return s.at("target") == "api"; }));
  CHECK(any_of(schedules, [](const json& s) { return s.at("lastResult") == "failed"; }));
  const json& channels = overview.at("channels");
  CHECK(any_of(channels, [](const json& c) { return c.at("lastError").is_string(); }));
  CHECK(any_of(channels, [](const json& c) { return c.at("held") > 0; }));
  CHECK(any_of(channels, [](const json& c) { return c.at("sent24h") > 0; }));
  REQUIRE(overview.at("recovery").is_object());
  CHECK(overview.at("recovery").at("lastRun").is_object());
  std::set<std::string> kinds;
  for (const auto& e : overview.at("recovery").at("openEscalations")) {
    kinds.insert(e.at("summary").at("kind").get<std::string>());
  }
  CHECK(kinds == std::set<std::string>{"target", "shared_cause"});

  // Every target in depth, the retired one included.
  json details = json::object();
  for (const auto& row : all.at("targets")) {
    const std::string id = row.at("id");
    details[id] = ws.status_json({id}, at_minutes(11));
  }
  CHECK(details.at("old").at("retiredAt").is_string());
  CHECK(details.at("held").at("checks").at(0).at("last").is_null());
  CHECK(details.at("held").at("checks").at(0).at("counts").is_null());
  CHECK(details.at("disk").at("checks").at(0).at("counts").is_object());
  CHECK_FALSE(details.at("shop").at("recent").empty());
  CHECK_FALSE(details.at("shop").at("incidents").empty());
  CHECK_FALSE(details.at("shop").at("recovery").at("attempts").empty());
  CHECK(details.at("shop").at("recovery").at("state").is_object());
  const json& notifications = details.at("shop").at("notifications");
  for (const std::string state : {"sent", "failed", "pending", "held"}) {
    INFO("a notification " << state);
    CHECK(any_of(notifications, [&](const json& n) { return n.at("state") == state; }));
  }
  CHECK(any_of(notifications, [](const json& n) { return n.at("fallbackOf").is_number(); }));
  CHECK(any_of(details.at("queue").at("events"), [](const json& e) { return e.at("grace") == true; }));
  CHECK_FALSE(details.at("worker").at("beats").empty());
  CHECK_FALSE(details.at("backup").at("runs").empty());
  CHECK(any_of(details.at("dead-1").at("recovery").at("escalations"),
               [](const json& e) { return e.at("target") == ""; }));

  // The shop is fixed by hand: its incident ends, and hb-recover resolves its escalation.
  ws.dir.write("shop-up", "");
  REQUIRE(ws.pulse({"--json"}, at_minutes(20)).exit_code == 0);
  CHECK_FALSE(ws.recover_json({}, at_minutes(21)).at("escalations_resolved").empty());
  const auto reset = ws.recover({"--reset", "shop", "--json"}, at_minutes(21));
  CHECK(reset.exit_code == 0);
  CHECK(json::parse(reset.out).at("schema") == 1);
  const json shop = ws.status_json({"shop"}, at_minutes(22));
  CHECK(shop.at("health") == "healthy");
  CHECK(any_of(shop.at("incidents"), [](const json& i) { return i.at("recoveredAt").is_string(); }));
  CHECK(any_of(shop.at("recovery").at("escalations"),
               [](const json& e) { return e.at("resolved_at").is_string(); }));
  ws.status_json({}, at_minutes(22));

  // A beat dated in the future: clock skew, in the overview and in depth.
  REQUIRE(ws.beat({"worker"}, "2027-01-01T00:00:00Z").exit_code == 0);
  const json skewed = ws.status_json({}, at_minutes(23));
  REQUIRE(skewed.at("clockSkew").is_object());
  CHECK_FALSE(skewed.at("clockSkew").at("found").empty());
  ws.status_json({"worker"}, at_minutes(23));
}

TEST_CASE("status schema: the overview without a database matches")
{
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(R"({"targets": [{"id": "api", "checks": [{"name": "up", "type": "command",
                      "command": ["/bin/true"]}]}]})");
  for (const std::vector<std::string>& args : {std::vector<std::string>{}, {"--all"}}) {
    const json none = ws.status_json(args, k_t0);
    CHECK(none.at("exitCode") == 3);
    CHECK(none.at("pulse").at("state") == "unknown");
    CHECK(none.at("targets").empty());
    CHECK(none.at("database") == ws.db);
  }
  CHECK_FALSE(std::filesystem::exists(ws.db));
}

TEST_CASE("status schema: the validator rejects what the printer must not print")
{
  TestHttpServer server;
  Workspace ws;
  INFO("workspace: " << ws.dir.path());
  ws.write_config(json{{"targets",
                        {{{"id", "api"},
                          {"checks", {{{"name", "home"}, {"type", "http"}, {"url", server.url("/ok")}}}}}}}}
                      .dump());
  REQUIRE(ws.pulse({}, k_t0).exit_code == 0);
  const std::string overview_text = ws.status({"--json"}, at_minutes(1)).out;
  const std::string target_text = ws.status({"api", "--json"}, at_minutes(1)).out;
  const std::string overview_schema = schema_file("hb-status.schema.json");
  const std::string target_schema = schema_file("hb-status-target.schema.json");
  // The real documents pass: what the cases below break is all that is wrong with them.
  REQUIRE(schema_errors(overview_schema, overview_text).empty());
  REQUIRE(schema_errors(target_schema, target_text).empty());
  const json overview = json::parse(overview_text);
  const json target = json::parse(target_text);

  struct Case {
    std::string what;
    std::string schema;
    std::function<void(json&)> change;
    std::string expected;  // in the validator's message: where, and what
  };
  const std::vector<Case> cases{
      {"a field the schema does not know", overview_schema,
       [](json& j) { j["uptime"] = 1; }, "$: Additional properties are not allowed ('uptime'"},
      {"a field in a target row", overview_schema,
       [](json& j) { j["targets"][0]["owner"] = "ops"; }, "$.targets[0]: "},
      {"a number as a string", overview_schema,
       [](json& j) { j["targets"][0]["figures"]["uptime"]["24h"] = "100%"; },
       "$.targets[0].figures.uptime.24h: '100%' is not valid"},
      {"a float for an integer", overview_schema,
       [](json& j) { j["counts"]["healthy"] = 0.5; }, "$.counts.healthy: 0.5 is not of type 'integer'"},
      {"a required field missing", overview_schema,
       [](json& j) { j["targets"][0].erase("health"); }, "'health' is a required property"},
      {"a health that does not exist", overview_schema,
       [](json& j) { j["targets"][0]["health"] = "sick"; }, "$.targets[0].health: 'sick' is not one of"},
      {"null where the printer never prints null", overview_schema,
       [](json& j) { j["pulse"]["running"] = nullptr; }, "$.pulse.running: None is not of type 'boolean'"},
      {"a date that is no date", overview_schema,
       [](json& j) { j["generatedAt"] = "2026-02-30T10:00:00Z"; }, "$.generatedAt: '2026-02-30T10:00:00Z' is not a 'date-time'"},
      {"a time not in the printer's form", overview_schema,
       [](json& j) { j["generatedAt"] = "2026-03-02 10:01:00"; }, "$.generatedAt: '2026-03-02 10:01:00' does not match"},
      {"a band without a score", overview_schema,
       [](json& j) {
         j["overall"]["score"] = nullptr;
         j["overall"]["band"] = "good";
       },
       "$.overall.band: 'good' is not of type 'null'"},
      {"the target's view checked as the overview", overview_schema, [&](json& j) { j = target; },
       "'pulse' is a required property"},
      {"a field of the target's view", target_schema, [](json& j) { j["owner"] = "ops"; },
       "Unevaluated properties are not allowed ('owner'"},
      {"a field in a check", target_schema, [](json& j) { j["checks"][0]["retries"] = 3; },
       "$.checks[0]: Additional properties are not allowed ('retries'"},
      {"a check's status that does not exist", target_schema,
       [](json& j) { j["checks"][0]["last"]["status"] = "all_clear"; },
       "$.checks[0].last.status: 'all_clear' is not one of"},
      {"an agent's beats without its agent", target_schema,
       [](json& j) { j["beats"] = json::array(); }, "'agent' is a dependency of 'beats'"},
  };
  for (const auto& c : cases) {
    INFO("case: " << c.what);
    json document = c.schema == target_schema ? target : overview;
    c.change(document);
    const std::string errors = schema_errors(c.schema, document.dump(2));
    INFO("validator: " << errors);
    CHECK_THAT(errors, Catch::Contains(c.expected));
  }

  // Not JSON, or nothing at all, is no report either.
  CHECK_THAT(schema_errors(overview_schema, overview_text.substr(0, overview_text.size() / 2)),
             Catch::Contains("is not JSON"));
  CHECK_THAT(schema_errors(overview_schema, ""), Catch::Contains("is not JSON"));
  // Several documents in one run: each is judged, and named.
  const auto good = ws.dir.write("good.json", overview_text);
  json changed = overview;
  changed["exitCode"] = 7;
  const auto bad = ws.dir.write("bad.json", changed.dump());
  CHECK(schema_errors_in_files(overview_schema, {good.string(), good.string()}).empty());
  const std::string both = schema_errors_in_files(overview_schema, {good.string(), bad.string()});
  CHECK_THAT(both, Catch::Contains(bad.string() + " does not match hb-status.schema.json"));
  CHECK_THAT(both, Catch::Contains("$.exitCode: 7 is not one of [0, 1, 2, 3]"));
  CHECK_THAT(both, !Catch::Contains(good.string()));
}

TEST_CASE("status schema: the validator fails loudly without jsonschema, never passes")
{
  // A jsonschema module that cannot be imported, ahead of Debian's on the module path.
  TempDir dir;
  dir.write("jsonschema/__init__.py", "raise ImportError('hidden by the test')\n");
  std::string message;
  const int code = run_validator({schema_file("hb-status.schema.json"), "-"}, R"({"schema": 1})",
                                 message, {{"PYTHONPATH", dir.path().string()}});
  CHECK(code == 2);
  CHECK_THAT(message, Catch::Contains("validate_json.py: error: cannot import the Python module "
                                      "jsonschema (hidden by the test)"));
  CHECK_THAT(message, Catch::Contains("python3-jsonschema"));
}
