// SPDX-License-Identifier: MIT
#pragma once

#include "core/types.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb {

// A read-only view of one JSON value in a config file that knows where it is, so that every
// error can name the file, the JSON path, what was expected and the value found:
//   heartbeat.json: targets[3].checks[0].timeout: expected a duration like "30s", got "abc"
// Strings are read through as_string(), which resolves secrets and placeholders:
//   "${NAME}"              a check-set variable of the using target, else environment variable NAME
//                          (may be embedded: "Bearer ${TOKEN}"; "$${" is a literal "${")
//   {"env": "NAME"}        environment variable NAME
//   {"file": "/run/x"}     the file's content with one trailing newline removed
//                          (a regular file of at most 64 KiB, k_secret_file_limit)
// Error messages quote the raw config text, never a resolved value, so secrets are not printed.
// Every value read from the environment or a file is also added to the node's `Secrets`, when it
// has one, so that one util::Redactor can hide them from whatever heartbeat prints and stores.
// Every reader throws hb::ConfigError.
class ConfigNode {
public:
  using Vars = std::map<std::string, std::string, std::less<>>;
  // The resolved secret values of a config, collected while it is read; shared by a node and
  // every node reached from it.
  using Secrets = std::vector<std::string>;

  // `secrets`, when given, must outlive the node and every node reached from it.
  ConfigNode(const nlohmann::json& value, std::string file, std::string path,
             Secrets* secrets = nullptr);

  // Returns a copy whose ${...} placeholders see `vars`; `context` is appended to locations,
  // e.g. "used by target \"acme\"". `vars` must outlive the node.
  ConfigNode with_vars(const Vars* vars, std::string context) const;

  const nlohmann::json& raw() const { return *m_value; }
  const std::string& file() const { return m_file; }
  const std::string& path() const { return m_path; }
  // "file: path" (plus " (context)"), the prefix of every message about this node.
  std::string where() const;

  bool is_null() const { return m_value->is_null(); }
  bool is_object() const { return m_value->is_object(); }
  bool is_array() const { return m_value->is_array(); }
  bool is_string() const { return m_value->is_string(); }

  // Throws unless this node is an object.
  void expect_object() const;
  // Throws on the first key not in `allowed`, suggesting the closest allowed key.
  void reject_unknown_keys(std::initializer_list<std::string_view> allowed) const;
  void reject_unknown_keys(const std::vector<std::string_view>& allowed) const;

  bool has(std::string_view key) const;
  // The member `key` of this object, or a null node (whose path still names `key`) when absent.
  ConfigNode operator[](std::string_view key) const;
  // Elements of an array; throws unless this node is an array.
  std::vector<ConfigNode> elements() const;
  // Members of an object, sorted by key (nlohmann::json keeps objects sorted); throws unless
  // this node is an object.
  std::vector<std::pair<std::string, ConfigNode>> members() const;

  std::string as_string() const;
  bool as_bool() const;
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  double as_number() const;
  Duration as_duration() const;
  // A string or an array of strings.
  std::vector<std::string> as_string_list() const;
  // An object whose values are strings: headers, env.
  std::map<std::string, std::string> as_string_map() const;

  // Readers for an optional member: return `fallback` when the member is absent or null.
  std::string get_string(std::string_view key, std::string fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  Duration get_duration(std::string_view key, Duration fallback) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<Duration> find_duration(std::string_view key) const;

  // Throws "<where>: expected <expected>, got <raw value>".
  [[noreturn]] void fail(std::string_view expected) const;
  // Throws "<where>: <message>".
  [[noreturn]] void fail_message(std::string_view message) const;

  // The raw value shown in messages: compact JSON, shortened past 80 characters.
  std::string shown_value() const;

  // Adds a value that is secret although it was written literally (the value of a --password
  // option) to the node's Secrets, if it has them.
  void note_secret(std::string value) const;

private:
  ConfigNode(const nlohmann::json* value, std::string file, std::string path, const Vars* vars,
             std::string context, Secrets* secrets);
  std::string resolve(const std::string& text) const;

  const nlohmann::json* m_value;
  std::string m_file;
  std::string m_path;
  const Vars* m_vars = nullptr;
  std::string m_context;
  Secrets* m_secrets = nullptr;
};

// The largest {"file": ...} secret: secrets are tokens and keys, and a mistaken path
// (/dev/zero, a log) must give an error, not take all memory.
inline constexpr std::size_t k_secret_file_limit = 64 * 1024;

// Returns the allowed word closest to `word` by edit distance, or "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& allowed);

} // namespace hb
