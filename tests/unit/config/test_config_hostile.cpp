// SPDX-License-Identifier: MIT
// Hostile configs (SPEC §7: every malformed input gets a clear error, never a crash): truncated
// and mangled files, every value replaced by one of the wrong type, huge values, invalid UTF-8.
// The rule everywhere: load() either succeeds or throws hb::ConfigError whose message names the
// file; any other exception, a crash or a hang is a bug. Randomised parts use fixed seeds.
#include "config/config.hpp"

#include "core/errors.hpp"
#include "support/test_helpers.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using hb::ConfigError;
using hb::test::ScopedEnv;
using nlohmann::json;

constexpr const char* k_name = "heartbeat.json";

// Sanitizer builds run several times slower: the exhaustive loops take every n-th case there.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t k_stride = 3;
#else
constexpr std::size_t k_stride = 1;
#endif

// How one load of hostile text went.
struct Outcome {
  enum class Kind { loaded, config_error, other_error };
  Kind kind = Kind::loaded;
  std::string message;
};

Outcome try_load(const std::string& text)
{
  hb::config::LoadOptions options;
  options.discovery = hb::config::RunDiscovery::no;
  try {
    hb::config::load_from_string(text, k_name, options);
    return {};
  } catch (const ConfigError& e) {
    return {Outcome::Kind::config_error, e.what()};
  } catch (const std::exception& e) {
    return {Outcome::Kind::other_error,
            std::string("unexpected ") + typeid(e).name() + ": " + e.what()};
  } catch (...) {
    return {Outcome::Kind::other_error, "unexpected non-standard exception"};
  }
}

// Shown in failure messages: the start of hostile text, escaped.
std::string preview(const std::string& text)
{
  return json(text.substr(0, 200)).dump(-1, ' ', true, json::error_handler_t::replace);
}

// Fails the test unless `text` loads or is refused with a ConfigError naming the file.
void require_loads_or_config_error(const std::string& text, const std::string& what)
{
  const Outcome outcome = try_load(text);
  INFO(what << "\ninput: " << preview(text) << "\nmessage: " << outcome.message.substr(0, 500));
  CHECK(outcome.kind != Outcome::Kind::other_error);
  if (outcome.kind == Outcome::Kind::config_error) {
    CHECK(outcome.message.rfind(k_name, 0) == 0);
  }
}

// Fails the test unless `text` is refused with a ConfigError naming the file.
void require_config_error(const std::string& text, const std::string& what)
{
  const Outcome outcome = try_load(text);
  INFO(what << "\ninput: " << preview(text) << "\nmessage: " << outcome.message.substr(0, 500));
  CHECK(outcome.kind == Outcome::Kind::config_error);
  CHECK(outcome.message.rfind(k_name, 0) == 0);
}

// Like require_config_error(), for a value that is shown in the message: shortened, however
// long the value.
void require_short_config_error(const std::string& text, const std::string& what)
{
  require_config_error(text, what);
  const Outcome outcome = try_load(text);
  INFO(what << "\nmessage: " << outcome.message.substr(0, 500));
  CHECK(outcome.message.size() < 1000);
}

std::string example_text()
{
  std::ifstream in(fs::path(HB_SOURCE_DIR) / "examples/heartbeat.example.json", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The environment the example's secrets need.
struct ExampleSecrets {
  ScopedEnv api{"API_TOKEN", "t1"};
  ScopedEnv acme{"ACME_API_TOKEN", "t2"};
  ScopedEnv globex{"GLOBEX_API_TOKEN", "t3"};
  ScopedEnv password{"STATUS_PASSWORD", "t4"};
  ScopedEnv campaign{"CAMPAIGN_TOKEN", "t5"};
};

// Every JSON pointer in `value`, the root included, parents before children.
void collect_pointers(const json& value, const json::json_pointer& at,
                      std::vector<json::json_pointer>& out)
{
  out.push_back(at);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      collect_pointers(child, at / key, out);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      collect_pointers(value[i], at / i, out);
    }
  }
}

std::string one_target(const json& target)
{
  return json{{"targets", {target}}}.dump();
}

// A config with one target whose one check is the JSON object members `members` (raw text, so
// that it can hold what JSON libraries refuse to write).
std::string one_check(const std::string& members)
{
  return R"({"targets": [{"id": "a", "checks": [{)" + members + "}]}]}";
}

json http_target(json check_extra)
{
  json check{{"name", "home"}, {"type", "http"}, {"url", "http://127.0.0.1/"}};
  check.update(check_extra);
  return {{"id", "api"}, {"checks", {check}}};
}

} // namespace

TEST_CASE("load: hostile: the example config cut short", "[hostile]")
{
  const ExampleSecrets secrets;
  const std::string text = example_text();
  REQUIRE(text.size() > 1000);
  REQUIRE(try_load(text).kind == Outcome::Kind::loaded);
  // Every strict prefix that does not yet hold the closing brace is incomplete JSON. Every third
  // byte: all of them cost seconds (the test code is built without optimisation).
  const std::size_t last_brace = text.rfind('}');
  for (std::size_t cut = 0; cut < last_brace; cut += 3 * k_stride) {
    require_config_error(text.substr(0, cut), fmt::format("cut at byte {}", cut));
  }
}

TEST_CASE("load: hostile: garbage and mangled configs", "[hostile]")
{
  const ExampleSecrets secrets;
  const std::uint32_t seed = 20260305;
  std::mt19937 random(seed);
  auto byte = [&] { return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random)); };
  auto below = [&](std::size_t n) {
    return n == 0 ? std::size_t{0} : std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };

  SECTION("random bytes")
  {
    for (int i = 0; i < 300; ++i) {
      std::string text(below(4096), '\0');
      for (auto& c : text) {
        c = byte();
      }
      // Half of them start like a config, so that the parser gets past the first byte.
      if (i % 2 == 1) {
        text = "{\"targets\": [{\"id\": \"" + text;
      }
      require_loads_or_config_error(text, fmt::format("seed {}, garbage {}", seed, i));
    }
  }

  SECTION("the example with random bytes changed, inserted, removed or repeated")
  {
    const std::string example = example_text();
    for (int i = 0; i < 1500; ++i) {
      std::string text = example;
      const int edits = 1 + static_cast<int>(below(4));
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = below(text.size());
        switch (below(5)) {
        case 0:
          text[at] = byte();
          break;
        case 1:
          text.insert(at, 1, byte());
          break;
        case 2:
          text.erase(at, below(64));
          break;
        case 3:
          text.insert(at, text.substr(below(text.size()), below(200)));
          break;
        default:
          // Structural characters are where parsers go wrong.
          text[at] = "{}[]\",:\\/*0-e\n"[below(14)];
          break;
        }
      }
      require_loads_or_config_error(text, fmt::format("seed {}, mutation {}", seed, i));
    }
  }
}

TEST_CASE("load: hostile: every value of the example replaced by one of another type", "[hostile]")
{
  const ExampleSecrets secrets;
  const json example = json::parse(example_text(), nullptr, true, true);
  std::vector<json::json_pointer> pointers;
  collect_pointers(example, json::json_pointer(), pointers);
  REQUIRE(pointers.size() > 200);
  // Spliced into the dumped text in place of a marker: one dump per place, not per value.
  const std::string marker = "\"hb-test-marker-7f3a\"";
  const std::vector<std::string> replacements{
      "null",  "true", "1e308", "-1", "0",
      "\"x\"", "\"\"", "[]",    "{}", "\"" + std::string(4096, 'y') + "\""};
  // A 256 KB string too, once per name of a key that holds a string (the key decides how a value
  // is read): enough to find what breaks on huge strings (a regex of 100,000 characters overflowed
  // the stack), where one per place would take seconds to parse.
  const std::string huge = "\"" + std::string(256 << 10, 'y') + "\"";
  std::set<std::string> keys_seen;
  for (std::size_t i = 0; i < pointers.size(); ++i) {
    const auto& pointer = pointers[i];
    const bool new_key = example[pointer].is_string() && keys_seen.insert(pointer.back()).second;
    if (i % k_stride != 0 && !new_key) {
      continue;
    }
    json doc = example;
    doc[pointer] = "hb-test-marker-7f3a";
    const std::string text = doc.dump();
    const std::size_t at = text.find(marker);
    REQUIRE(at != std::string::npos);
    auto with = [&](const std::string& value) {
      return text.substr(0, at) + value + text.substr(at + marker.size());
    };
    for (const auto& replacement : replacements) {
      require_loads_or_config_error(with(replacement), pointer.to_string() + " replaced by " +
                                                           replacement.substr(0, 20));
    }
    if (new_key) {
      require_loads_or_config_error(with(huge), pointer.to_string() + " replaced by 256 KB");
    }
    // And the key or element left out.
    if (!pointer.empty()) {
      json& parent = doc[pointer.parent_pointer()];
      if (parent.is_object()) {
        parent.erase(pointer.back());
      } else {
        parent.erase(std::stoul(pointer.back()));
      }
      require_loads_or_config_error(doc.dump(), pointer.to_string() + " removed");
    }
  }
}

TEST_CASE("load: hostile: huge values", "[hostile]")
{
  SECTION("durations past what fits in 64 bits")
  {
    for (const char* duration :
         {"999999999999d", "99999999999999999999999ms", "9223372036854775807ms",
          "2562047788015216h", "1w999999999999999d", "106751991167d"}) {
      require_config_error(one_target({{"id", "a"}, {"interval", duration}}), duration);
      require_config_error(json{{"pulse", {{"deadline", duration}}}}.dump(), duration);
      require_config_error(one_target(http_target({{"timeout", duration}})), duration);
    }
  }

  SECTION("durations are at most 100 years: more would overflow what the tools compute")
  {
    // 2^61 - 1 ms is the most parse_duration reads (about 73 million years); every × 1000 of it
    // overflowed 64 bits in hb-status.
    for (const char* duration : {"2305843009213693951ms", "26687997791d", "36501d", "5215w"}) {
      for (const char* key : {"interval", "stale_after", "new_target_grace"}) {
        const Outcome outcome = try_load(one_target({{"id", "a"}, {key, duration}}));
        INFO(key << ": " << duration);
        CHECK(outcome.message ==
              fmt::format(R"(heartbeat.json: targets[0].{}: expected a duration of at most 100 )"
                          R"(years ("36500d"), got "{}")",
                          key, duration));
      }
      require_short_config_error(
          one_target({{"id", "a"}, {"kind", "agent"}, {"heartbeat", {{"every", duration}}}}),
          "agent heartbeat");
    }
    CHECK(try_load(one_target({{"id", "a"}, {"interval", "36500d"}})).kind ==
          Outcome::Kind::loaded);
    CHECK(try_load(one_target({{"id", "a"},
                               {"kind", "agent"},
                               {"heartbeat", {{"every", "36500d"}, {"offline_after", 1000}}}}))
              .kind == Outcome::Kind::loaded);
  }

  SECTION("numbers out of range")
  {
    for (const char* number :
         {"1e308", "-1e308", "1e400", "-1e400", "18446744073709551615", "18446744073709551616",
          "9223372036854775808", "-9223372036854775809", "1.5", "-0", "0.0000001", "NaN",
          "Infinity"}) {
      const std::string n(number);
      require_config_error(R"({"pulse": {"concurrency": )" + n + "}}", n);
      require_config_error(one_check(R"("name": "db", "type": "tcp", "host": "h", "port": )" + n),
                           n);
      require_config_error(
          one_check(R"("name": "c", "type": "file", "path": "/x", "confirm": )" + n), n);
      require_loads_or_config_error(
          one_check(R"("name": "c", "type": "file", "path": "/x", "min_size": )" + n), n);
    }
  }

  SECTION("enormous arrays and strings load, or are refused, in reasonable time")
  {
    const auto start = std::chrono::steady_clock::now();
    json many_targets = json::array();
    for (int i = 0; i < 5000; ++i) {
      json target = http_target(json::object());
      target["id"] = fmt::format("t{}", i);
      many_targets.push_back(std::move(target));
    }
    require_loads_or_config_error(json{{"targets", many_targets}}.dump(), "5000 targets");
    json statuses = json::array();
    for (int i = 0; i < 20000; ++i) {
      statuses.push_back(200 + i % 300);
    }
    require_loads_or_config_error(one_target(http_target({{"expect_status", statuses}})),
                                  "20000 statuses");
    json tags = json::array();
    for (int i = 0; i < 20000; ++i) {
      tags.push_back(fmt::format("tag-{}", i % 1000));
    }
    require_loads_or_config_error(one_target({{"id", "a"}, {"tags", tags}}), "20000 tags");
    const std::string huge(2 << 20, 'a');
    require_short_config_error(one_target({{"id", huge}}), "a 2 MB id");
    require_short_config_error(one_target(http_target({{"type", huge}})), "a 2 MB check type");
    require_short_config_error(one_target(http_target({{"timeout", huge}})), "a 2 MB duration");
    require_config_error(one_target({{"id", "a"}, {huge, 1}}), "a 2 MB key");
    require_loads_or_config_error(one_target({{"id", "a"}, {"name", huge}}), "a 2 MB name");
    require_loads_or_config_error(one_target(http_target({{"url", "http://127.0.0.1/" + huge}})),
                                  "a 2 MB URL");
    require_short_config_error(one_target(http_target({{"body_regex", huge}})), "a 2 MB regex");
    require_short_config_error(one_target(http_target({{"body_regex", std::string(100000, 'a')}})),
                               "a regex of 100,000 characters");
    CHECK(try_load(one_target(http_target({{"body_regex", std::string(1000, 'a')}}))).kind ==
          Outcome::Kind::loaded);
    require_loads_or_config_error(
        one_target(http_target(
            {{"body_regex", "(a*)*(b+)+" + std::string(100, '(') + std::string(100, ')')}})),
        "a regex of nested groups");
    // A quadratic or exponential path takes hours; the sanitizer build on a busy 2-core CI
    // machine takes up to a minute.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(180));
  }

  SECTION("deep nesting")
  {
    for (int depth : {1000, 100000}) {
      const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
      std::string objects;
      for (int i = 0; i < depth; ++i) {
        objects += "{\"a\":";
      }
      objects += "1" + std::string(depth, '}');
      require_config_error("{\"targets\": " + arrays + "}", fmt::format("arrays {} deep", depth));
      require_config_error("{\"targets\": [" + arrays + "]}", fmt::format("arrays {} deep", depth));
      require_config_error("{\"pulse\": " + objects + "}", fmt::format("objects {} deep", depth));
      require_config_error("{\"targets\": [{\"id\": \"a\", \"vars\": " + objects + "}]}",
                           fmt::format("vars {} deep", depth));
      require_config_error(one_target(http_target(json::object())).substr(0, 10) + arrays,
                           fmt::format("unterminated, {} deep", depth));
    }
  }
}

TEST_CASE("load: hostile: invalid UTF-8 and control characters", "[hostile]")
{
  const std::vector<std::string> bad_texts{"\xff",
                                           "\xc3\x28",
                                           "\xe2\x82",
                                           "\xf0\x28\x8c\xbc",
                                           "\xed\xa0\x80",
                                           "\xc0\xaf",
                                           std::string("a\0b", 3)};
  for (const std::string& bad : bad_texts) {
    const std::string shown = json(bad).dump(-1, ' ', true, json::error_handler_t::replace);
    for (const std::string& text : std::vector<std::string>{
             R"({"targets": [{"id": ")" + bad + R"("}]})",
             R"({"targets": [{"id": "a", "name": ")" + bad + R"("}]})",
             R"({"targets": [{"id": "a", "tags": [")" + bad + R"("]}]})",
             one_check(R"("name": ")" + bad + R"(", "type": "file", "path": "/x")"),
             one_check(R"("name": "c", "type": "http", "url": "http://h/)" + bad + R"(")"),
             one_check(R"("name": "c", "type": "http", "url": "http://h/", "headers": {"X": ")" +
                       bad + R"("})"),
             one_check(R"("name": "c", "type": "command", "command": ["/bin/true", ")" + bad +
                       R"("])"),
             R"({")" + bad + R"(": 1})",
             "{\"targets\": [] // " + bad + "\n}",
             "{\"targets\": [] /* " + bad + " */}",
         }) {
      require_loads_or_config_error(text, "invalid text " + shown);
    }
  }
  // Escaped control characters are valid JSON: they must be refused or loaded, never crash.
  for (const char* escaped : {"\\u0000", "\\u001b[2J", "\\ud800", "\\udfff\\ud800", "\\n\\r\\t"}) {
    const std::string e(escaped);
    require_loads_or_config_error(R"({"targets": [{"id": "a)" + e + R"("}]})", e);
    require_loads_or_config_error(R"({"targets": [{"id": "a", "name": ")" + e + R"("}]})", e);
    require_loads_or_config_error(
        one_check(R"("name": "c", "type": "command", "command": ["/bin/echo", ")" + e + R"("])"),
        e);
    require_loads_or_config_error(
        one_check(R"("name": "c", "type": "http", "url": "http://h/)" + e + R"(")"), e);
  }
}
