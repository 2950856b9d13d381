// SPDX-License-Identifier: MIT
#include "core/config_node.hpp"

#include "core/errors.hpp"
#include "support/fifo.hpp"
#include "support/test_helpers.hpp"
#include "support/tool_runner.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <optional>
#include <string>

namespace {

using hb::ConfigError;
using hb::ConfigNode;
using hb::Duration;
using hb::test::ScopedEnv;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using nlohmann::json;

// The message of the ConfigError `fn` throws; fails the test when it throws nothing.
template <typename Fn>
std::string config_error(Fn&& fn)
{
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("no ConfigError was thrown");
  return {};
}

} // namespace

TEST_CASE("ConfigNode::where")
{
  const json doc = json::parse(R"({"a": {"b": [1, {"c": 2}]}})");
  const ConfigNode root(doc, "f.json", "");

  SECTION("the root is named by its file")
  {
    CHECK(root.where() == "f.json");
  }

  SECTION("members and elements extend the path")
  {
    CHECK(root["a"]["b"].where() == "f.json: a.b");
    CHECK(root["a"]["b"].elements()[1]["c"].where() == "f.json: a.b[1].c");
  }

  SECTION("a missing member still names its key")
  {
    const ConfigNode missing = root["a"]["nope"];
    CHECK(missing.is_null());
    CHECK(missing.where() == "f.json: a.nope");
  }

  SECTION("with_vars appends its context")
  {
    const ConfigNode::Vars vars;
    CHECK(root["a"].with_vars(&vars, "used by target \"acme\"").where()
          == "f.json: a (used by target \"acme\")");
    CHECK(root["a"].with_vars(&vars, "used by target \"acme\"")["b"].where()
          == "f.json: a.b (used by target \"acme\")");
  }
}

TEST_CASE("ConfigNode typed readers")
{
  const json doc = json::parse(R"({
    "a": {"s": "text", "n": 5, "f": 2.5, "whole": 2.0, "t": true, "d": "30s", "bad_d": "30 minutes",
          "neg": -3, "big": 18446744073709551615, "null": null, "list": ["x", "y"],
          "mixed": ["x", 1], "map": {"A": "1", "B": "2"}, "bad_map": {"A": 1}, "obj": {}}
  })");
  const ConfigNode a = ConfigNode(doc, "f.json", "")["a"];

  SECTION("as_string")
  {
    CHECK(a["s"].as_string() == "text");
    CHECK(config_error([&] { a["n"].as_string(); }) == "f.json: a.n: expected a string, got 5");
    CHECK(config_error([&] { a["nope"].as_string(); })
          == "f.json: a.nope: expected a string, got nothing");
  }

  SECTION("as_bool")
  {
    CHECK(a["t"].as_bool());
    CHECK(config_error([&] { a["s"].as_bool(); })
          == "f.json: a.s: expected true or false, got \"text\"");
  }

  SECTION("as_number")
  {
    CHECK(a["f"].as_number() == 2.5);
    CHECK(a["n"].as_number() == 5.0);
    CHECK(config_error([&] { a["s"].as_number(); })
          == "f.json: a.s: expected a number, got \"text\"");
  }

  SECTION("as_duration")
  {
    CHECK(a["d"].as_duration() == Duration(30'000));
    CHECK(config_error([&] { a["bad_d"].as_duration(); })
          == "f.json: a.bad_d: expected a duration like \"30s\", got \"30 minutes\"");
    CHECK(config_error([&] { a["n"].as_duration(); })
          == "f.json: a.n: expected a duration like \"30s\", got 5");
  }

  SECTION("as_string_list")
  {
    CHECK(a["s"].as_string_list() == std::vector<std::string>{"text"});
    CHECK(a["list"].as_string_list() == std::vector<std::string>{"x", "y"});
    CHECK(config_error([&] { a["mixed"].as_string_list(); })
          == "f.json: a.mixed[1]: expected a string, got 1");
    CHECK(config_error([&] { a["n"].as_string_list(); })
          == "f.json: a.n: expected a string or an array of strings, got 5");
  }

  SECTION("as_string_map")
  {
    const std::map<std::string, std::string> expected{{"A", "1"}, {"B", "2"}};
    CHECK(a["map"].as_string_map() == expected);
    CHECK(config_error([&] { a["bad_map"].as_string_map(); })
          == "f.json: a.bad_map.A: expected a string, got 1");
    CHECK(config_error([&] { a["list"].as_string_map(); })
          == "f.json: a.list: expected an object of strings, got [\"x\",\"y\"]");
  }

  SECTION("elements and objects")
  {
    CHECK(a["list"].elements().size() == 2);
    CHECK(config_error([&] { a["obj"].elements(); }) == "f.json: a.obj: expected an array, got {}");
    CHECK(config_error([&] { a["n"].expect_object(); })
          == "f.json: a.n: expected an object, got 5");
    CHECK(config_error([&] { a["n"].members(); }) == "f.json: a.n: expected an object, got 5");
  }

  SECTION("has ignores absent and null members")
  {
    CHECK(a.has("s"));
    CHECK_FALSE(a.has("null"));
    CHECK_FALSE(a.has("nope"));
    CHECK_FALSE(a["s"].has("x"));
  }

  SECTION("optional readers fall back when absent or null")
  {
    CHECK(a.get_string("nope", "fallback") == "fallback");
    CHECK(a.get_string("null", "fallback") == "fallback");
    CHECK(a.get_string("s", "fallback") == "text");
    CHECK(a.get_bool("nope", true));
    CHECK(a.get_int("nope", 7, 0, 10) == 7);
    CHECK(a.get_int("n", 7, 0, 10) == 5);
    CHECK(a.get_duration("nope", Duration(1)) == Duration(1));
    CHECK(a.get_duration("d", Duration(1)) == Duration(30'000));
    CHECK(a.find_string("nope") == std::nullopt);
    CHECK(a.find_string("s") == std::optional<std::string>("text"));
    CHECK(a.find_duration("null") == std::nullopt);
    CHECK(a.find_duration("d") == std::optional<Duration>(Duration(30'000)));
    CHECK(config_error([&] { a.get_bool("s", false); })
          == "f.json: a.s: expected true or false, got \"text\"");
  }

  SECTION("fail and fail_message")
  {
    CHECK(config_error([&] { a["s"].fail("a port number"); })
          == "f.json: a.s: expected a port number, got \"text\"");
    CHECK(config_error([&] { a["s"].fail_message("is wrong"); }) == "f.json: a.s: is wrong");
  }

  SECTION("errors carry the config exit code")
  {
    try {
      a["s"].as_bool();
      FAIL("no exception");
    } catch (const ConfigError& e) {
      CHECK(e.exit_code() == hb::ExitCode::config);
    }
  }
}

TEST_CASE("ConfigNode::as_int")
{
  const json doc = json::parse(
    R"({"n": 5, "neg": -3, "whole": 2.0, "f": 2.5, "s": "5", "huge": 18446744073709551615, "e": 1e300})");
  const ConfigNode root(doc, "f.json", "");
  constexpr auto k_max = std::numeric_limits<std::int64_t>::max();

  SECTION("inside the range")
  {
    CHECK(root["n"].as_int(1, 10) == 5);
    CHECK(root["n"].as_int(5, 5) == 5);
    CHECK(root["neg"].as_int(-10, 0) == -3);
    CHECK(root["whole"].as_int(0, 10) == 2);
  }

  SECTION("outside the range names it")
  {
    CHECK(config_error([&] { root["n"].as_int(6, 10); })
          == "f.json: n: expected an integer from 6 to 10, got 5");
    CHECK(config_error([&] { root["n"].as_int(1, 4); })
          == "f.json: n: expected an integer from 1 to 4, got 5");
    CHECK(config_error([&] { root["neg"].as_int(0, k_max); })
          == "f.json: neg: expected an integer >= 0, got -3");
  }

  SECTION("not an integer")
  {
    CHECK(config_error([&] { root["f"].as_int(0, 10); })
          == "f.json: f: expected an integer from 0 to 10, got 2.5");
    CHECK(config_error([&] { root["s"].as_int(0, 10); })
          == "f.json: s: expected an integer from 0 to 10, got \"5\"");
    CHECK(config_error([&] { root["huge"].as_int(0, k_max); })
          == "f.json: huge: expected an integer >= 0, got 18446744073709551615");
    CHECK(config_error([&] { root["e"].as_int(0, k_max); })
          == "f.json: e: expected an integer >= 0, got 1e+300");
  }
}

TEST_CASE("ConfigNode::shown_value")
{
  SECTION("long values are shortened past 80 characters")
  {
    const json doc = {{"long", std::string(100, 'x')}};
    const std::string shown = ConfigNode(doc, "f.json", "")["long"].shown_value();
    CHECK(shown.size() == 80);
    CHECK(shown == "\"" + std::string(76, 'x') + "...");
  }

  SECTION("compact JSON")
  {
    const json doc = json::parse(R"({"o": {"a": [1, 2]}})");
    CHECK(ConfigNode(doc, "f.json", "")["o"].shown_value() == R"({"a":[1,2]})");
  }
}

TEST_CASE("ConfigNode::reject_unknown_keys")
{
  SECTION("accepts allowed keys")
  {
    const json doc = json::parse(R"({"check": {"name": "x", "timeout": "5s"}})");
    CHECK_NOTHROW(ConfigNode(doc, "f.json", "")["check"].reject_unknown_keys({"name", "timeout"}));
  }

  SECTION("suggests the closest allowed key")
  {
    const json doc = json::parse(R"({"check": {"name": "x", "timeot": "5s"}})");
    const ConfigNode check = ConfigNode(doc, "f.json", "")["check"];
    CHECK(config_error([&] { check.reject_unknown_keys({"name", "timeout", "severity"}); })
          == "f.json: check.timeot: unknown key \"timeot\" (did you mean \"timeout\"?)");
  }

  SECTION("no suggestion when nothing is close")
  {
    const json doc = json::parse(R"({"check": {"zzzzzz": 1}})");
    const ConfigNode check = ConfigNode(doc, "f.json", "")["check"];
    CHECK(config_error([&] { check.reject_unknown_keys({"name", "timeout"}); })
          == "f.json: check.zzzzzz: unknown key \"zzzzzz\"");
  }

  SECTION("the vector overload and the context suffix")
  {
    const json doc = json::parse(R"({"check": {"timeot": "5s"}})");
    const ConfigNode::Vars vars;
    const ConfigNode check =
      ConfigNode(doc, "f.json", "")["check"].with_vars(&vars, "used by target \"acme\"");
    const std::vector<std::string_view> allowed{"name", "timeout"};
    CHECK(config_error([&] { check.reject_unknown_keys(allowed); })
          == "f.json: check.timeot (used by target \"acme\"): unknown key \"timeot\" (did you "
             "mean \"timeout\"?)");
  }

  SECTION("not an object")
  {
    const json doc = json::parse(R"({"check": []})");
    CHECK(config_error([&] { ConfigNode(doc, "f.json", "")["check"].reject_unknown_keys({"a"}); })
          == "f.json: check: expected an object, got []");
  }
}

// nlohmann::json keeps object members sorted by key, not in file order as the header promises.
TEST_CASE("ConfigNode::members")
{
  SECTION("sorted by key, each with its path")
  {
    const json doc = json::parse(R"({"o": {"zeta": 1, "alpha": 2}})");
    const auto members = ConfigNode(doc, "f.json", "")["o"].members();
    REQUIRE(members.size() == 2);
    CHECK(members[0].first == "alpha");
    CHECK(members[0].second.path() == "o.alpha");
    CHECK(members[1].first == "zeta");
  }
}

TEST_CASE("ConfigNode placeholders")
{
  ScopedEnv token("HB_TEST_TOKEN", "abc123");
  ScopedEnv unset("HB_TEST_UNSET_VARIABLE", nullptr);

  SECTION("an environment variable, whole or embedded")
  {
    const json doc = {{"a", "${HB_TEST_TOKEN}"}, {"b", "Bearer ${HB_TEST_TOKEN}!"}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(root["a"].as_string() == "abc123");
    CHECK(root["b"].as_string() == "Bearer abc123!");
  }

  SECTION("$${ is a literal ${")
  {
    const json doc = {{"a", "$${HB_TEST_TOKEN} and ${HB_TEST_TOKEN}"}, {"b", "cost: $5"}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(root["a"].as_string() == "${HB_TEST_TOKEN} and abc123");
    CHECK(root["b"].as_string() == "cost: $5");
  }

  SECTION("an unset variable is named")
  {
    const json doc = {{"a", {{"b", "x ${HB_TEST_UNSET_VARIABLE}"}}}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["a"]["b"].as_string(); })
          == "f.json: a.b: environment variable \"HB_TEST_UNSET_VARIABLE\" is not set");
  }

  SECTION("unterminated and empty placeholders")
  {
    const json doc = {{"a", "${HB_TEST_TOKEN"}, {"b", "${}"}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["a"].as_string(); })
          == "f.json: a: unterminated \"${\" in \"${HB_TEST_TOKEN\" (write \"$${\" for a "
             "literal \"${\")");
    CHECK(config_error([&] { root["b"].as_string(); }) == "f.json: b: empty placeholder \"${}\"");
  }

  SECTION("vars come before the environment")
  {
    const json doc = {{"a", "https://${host}/${HB_TEST_TOKEN}"}};
    const ConfigNode::Vars vars{{"host", "acme.example.com"}, {"HB_TEST_TOKEN", "from-vars"}};
    const ConfigNode node = ConfigNode(doc, "f.json", "")["a"].with_vars(&vars, "used by target \"acme\"");
    CHECK(node.as_string() == "https://acme.example.com/from-vars");
  }

  SECTION("with vars, a name found nowhere is reported with the context")
  {
    const json doc = {{"a", "${nope}"}};
    const ConfigNode::Vars vars{{"host", "acme.example.com"}};
    const ConfigNode node = ConfigNode(doc, "f.json", "")["a"].with_vars(&vars, "used by target \"acme\"");
    CHECK(config_error([&] { node.as_string(); })
          == "f.json: a (used by target \"acme\"): \"${nope}\" is neither a variable given in "
             "\"vars\" nor a set environment variable");
  }

  SECTION("with vars, the environment is still consulted")
  {
    const json doc = {{"a", "${HB_TEST_TOKEN}"}};
    const ConfigNode::Vars vars{{"host", "acme.example.com"}};
    CHECK(ConfigNode(doc, "f.json", "")["a"].with_vars(&vars, "ctx").as_string() == "abc123");
  }
}

TEST_CASE("ConfigNode secrets")
{
  ScopedEnv secret("HB_TEST_SECRET", "s3cr3t-value");
  ScopedEnv unset("HB_TEST_UNSET_SECRET", nullptr);
  hb::test::TempDir dir;

  SECTION("{\"env\": NAME}")
  {
    const json doc = {{"a", {{"env", "HB_TEST_SECRET"}}}};
    CHECK(ConfigNode(doc, "f.json", "")["a"].as_string() == "s3cr3t-value");
  }

  SECTION("{\"env\": NAME} unset or malformed")
  {
    const json doc = {{"a", {{"env", "HB_TEST_UNSET_SECRET"}}}, {"b", {{"env", ""}}},
                      {"c", {{"env", 5}}}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["a"].as_string(); })
          == "f.json: a.env: environment variable \"HB_TEST_UNSET_SECRET\" is not set");
    CHECK(config_error([&] { root["b"].as_string(); })
          == "f.json: b.env: expected an environment variable name, got \"\"");
    CHECK(config_error([&] { root["c"].as_string(); })
          == "f.json: c.env: expected an environment variable name, got 5");
  }

  SECTION("{\"file\": PATH} with one trailing newline removed")
  {
    const auto lf = dir.write("lf", "hunter2\n");
    const auto crlf = dir.write("crlf", "hunter2\r\n");
    const auto two = dir.write("two", "hunter2\n\n");
    const auto none = dir.write("none", "hunter2");
    const json doc = {{"lf", {{"file", lf.string()}}},
                      {"crlf", {{"file", crlf.string()}}},
                      {"two", {{"file", two.string()}}},
                      {"none", {{"file", none.string()}}}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(root["lf"].as_string() == "hunter2");
    CHECK(root["crlf"].as_string() == "hunter2");
    CHECK(root["two"].as_string() == "hunter2\n");
    CHECK(root["none"].as_string() == "hunter2");
  }

  SECTION("{\"file\": PATH} unreadable")
  {
    const std::string missing = (dir / "missing").string();
    const json doc = {{"a", {{"file", missing}}}, {"b", {{"file", ""}}}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["a"].as_string(); })
          == "f.json: a.file: cannot read secret file \"" + missing
               + "\": no such file or directory");
    CHECK(config_error([&] { root["b"].as_string(); })
          == "f.json: b.file: expected a file path, got \"\"");
  }

  SECTION("{\"file\": PATH} must be a regular file of at most 64 KiB")
  {
    const hb::test::Fifo fifo(dir / "fifo");
    const auto big = dir.write("big", std::string(hb::k_secret_file_limit + 1, 'x'));
    const auto limit = dir.write("limit", std::string(hb::k_secret_file_limit, 'x'));
    std::filesystem::create_symlink("loop-b", dir / "loop-a");
    std::filesystem::create_symlink("loop-a", dir / "loop-b");
    const json doc = {{"fifo", {{"file", fifo.path().string()}}},
                      {"dir", {{"file", dir.path().string()}}},
                      {"big", {{"file", big.string()}}},
                      {"limit", {{"file", limit.string()}}},
                      {"loop", {{"file", (dir / "loop-a").string()}}}};
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["fifo"].as_string(); })
          == "f.json: fifo.file: cannot read secret file \"" + fifo.path().string()
               + "\": is a FIFO, not a regular file");
    CHECK(config_error([&] { root["dir"].as_string(); })
          == "f.json: dir.file: cannot read secret file \"" + dir.path().string()
               + "\": is a directory, not a regular file");
    CHECK(config_error([&] { root["big"].as_string(); })
          == "f.json: big.file: cannot read secret file \"" + big.string()
               + "\": is 64.1 KiB, over the 64 KiB limit for secret files");
    CHECK(root["limit"].as_string().size() == hb::k_secret_file_limit);
    CHECK(config_error([&] { root["loop"].as_string(); })
          == "f.json: loop.file: cannot read secret file \"" + (dir / "loop-a").string()
               + "\": too many levels of symbolic links (a symlink loop?)");
  }

  SECTION("every value read from the environment or a file is collected, once per use")
  {
    const auto file = dir.write("secret", "file-secret-value\n");
    const json doc = {{"env", {{"env", "HB_TEST_SECRET"}}},
                      {"file", {{"file", file.string()}}},
                      {"embedded", "Bearer ${HB_TEST_SECRET}"},
                      {"var", "${host}"},
                      {"literal", "plain"}};
    ConfigNode::Secrets secrets;
    const ConfigNode root(doc, "f.json", "", &secrets);
    const ConfigNode::Vars vars{{"host", "db.internal"}};
    CHECK(root["embedded"].as_string() == "Bearer s3cr3t-value");
    CHECK(root["file"].as_string() == "file-secret-value");
    CHECK(root["env"].with_vars(&vars, "used by target \"a\"").as_string() == "s3cr3t-value");
    // A check-set variable is the target's own setting, not a secret (unless it was read from
    // one, which is collected when the variable is read).
    CHECK(root["var"].with_vars(&vars, "used by target \"a\"").as_string() == "db.internal");
    CHECK(root["literal"].as_string() == "plain");
    root.note_secret("hunter2");
    root.note_secret("");
    CHECK(secrets
          == ConfigNode::Secrets{"s3cr3t-value", "file-secret-value", "s3cr3t-value", "hunter2"});
  }

  SECTION("an object that is not a secret reference")
  {
    const json doc = json::parse(R"({"a": {"env": "X", "file": "y"}, "b": {"value": "x"}})");
    const ConfigNode root(doc, "f.json", "");
    CHECK(config_error([&] { root["a"].as_string(); })
          == R"(f.json: a: expected a string, got {"env":"X","file":"y"})");
    CHECK(config_error([&] { root["b"].as_string(); })
          == R"(f.json: b: expected a string, got {"value":"x"})");
  }

  SECTION("messages quote the raw config text, never the secret")
  {
    const auto file = dir.write("secret", "file-secret-value\n");
    const json doc = {{"env", {{"env", "HB_TEST_SECRET"}}},
                      {"file", {{"file", file.string()}}},
                      {"placeholder", "${HB_TEST_SECRET}"},
                      {"list", json::array({"${HB_TEST_SECRET}", 5})},
                      {"map", {{"A", "${HB_TEST_SECRET}"}, {"B", 5}}}};
    const ConfigNode root(doc, "f.json", "");
    const std::string messages[] = {
      config_error([&] { root["env"].as_duration(); }),
      config_error([&] { root["file"].as_duration(); }),
      config_error([&] { root["placeholder"].as_duration(); }),
      config_error([&] { root["placeholder"].as_int(0, 10); }),
      config_error([&] { root["placeholder"].as_bool(); }),
      config_error([&] { root["env"].as_int(0, 10); }),
      config_error([&] { root["list"].as_string_list(); }),
      config_error([&] { root["map"].as_string_map(); }),
    };
    CHECK(messages[0] == R"(f.json: env: expected a duration like "30s", got {"env":"HB_TEST_SECRET"})");
    CHECK(messages[2] == R"(f.json: placeholder: expected a duration like "30s", got "${HB_TEST_SECRET}")");
    CHECK(messages[3] == R"(f.json: placeholder: expected an integer from 0 to 10, got "${HB_TEST_SECRET}")");
    for (const auto& message : messages) {
      INFO(message);
      CHECK_THAT(message, !Contains("s3cr3t-value"));
      CHECK_THAT(message, !Contains("file-secret-value"));
    }
  }
}

TEST_CASE("closest_match")
{
  const std::vector<std::string_view> allowed{"timeout", "name", "severity", "recover_after"};

  SECTION("one edit away")
  {
    CHECK(hb::closest_match("timout", allowed) == "timeout");
    CHECK(hb::closest_match("nme", allowed) == "name");
  }

  SECTION("longer words allow more edits")
  {
    CHECK(hb::closest_match("recovr_aftr", allowed) == "recover_after");
    CHECK(hb::closest_match("sevirety", allowed) == "severity");
  }

  SECTION("a transposition counts as one edit")
  {
    CHECK(hb::closest_match("nmae", allowed) == "name");  // a transposition is one edit
    CHECK(hb::closest_match("tiemout", allowed) == "timeout");
  }

  SECTION("nothing close")
  {
    CHECK(hb::closest_match("xyz", allowed).empty());
    CHECK(hb::closest_match("banana", allowed).empty());
    CHECK(hb::closest_match("anything", {}).empty());
  }

  SECTION("exact match")
  {
    CHECK(hb::closest_match("name", allowed) == "name");
  }
}
