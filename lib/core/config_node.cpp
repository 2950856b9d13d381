// SPDX-License-Identifier: MIT
#include "core/config_node.hpp"

#include "core/errors.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace hb {
namespace {

const nlohmann::json& null_json()
{
  static const nlohmann::json k_null;
  return k_null;
}

// Appends `value` as compact JSON to `out`, stopping soon after `out` holds more than `limit`
// bytes. Unlike dump(), its cost and its depth of recursion are bounded by `limit`, however large
// or deeply nested the value: a hostile config must get an error message, not a stack overflow.
void append_preview(const nlohmann::json& value, std::string& out, std::size_t limit)
{
  constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
  if (out.size() > limit) {
    return;
  }
  if (value.is_array() || value.is_object()) {
    const bool array = value.is_array();
    out += array ? '[' : '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end() && out.size() <= limit; ++it) {
      if (!first) {
        out += ',';
      }
      first = false;
      if (!array) {
        out += nlohmann::json(it.key().substr(0, limit)).dump(-1, ' ', false, k_replace);
        out += ':';
      }
      append_preview(*it, out, limit);
    }
    out += array ? ']' : '}';
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    out += nlohmann::json(text.substr(0, limit)).dump(-1, ' ', false, k_replace);
  } else {
    out += value.dump(-1, ' ', false, k_replace);
  }
}

std::string child_path(const std::string& parent, std::string_view key)
{
  // Called for every key the loader reads (thousands for a large config), hence no fmt.
  if (parent.empty()) {
    return std::string(key);
  }
  std::string path;
  path.reserve(parent.size() + 1 + key.size());
  path.append(parent).append(1, '.').append(key);
  return path;
}

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// two adjacent characters ("shpo" is one edit from "shop") each cost one.
std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

} // namespace

std::string closest_match(std::string_view word, const std::vector<std::string_view>& allowed)
{
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (auto candidate : allowed) {
    // The distance is at least the difference in length: a candidate further off than `limit`
    // can never be suggested, and skipping it keeps a huge word (a hostile config) from costing
    // seconds and gigabytes in edit_distance().
    const std::size_t gap = word.size() > candidate.size() ? word.size() - candidate.size()
                                                            : candidate.size() - word.size();
    if (gap > limit) {
      continue;
    }
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best_distance <= limit ? best : std::string();
}

ConfigNode::ConfigNode(const nlohmann::json& value, std::string file, std::string path,
                       Secrets* secrets)
  : ConfigNode(&value, std::move(file), std::move(path), nullptr, {}, secrets)
{
}

ConfigNode::ConfigNode(const nlohmann::json* value, std::string file, std::string path,
                       const Vars* vars, std::string context, Secrets* secrets)
  : m_value(value), m_file(std::move(file)), m_path(std::move(path)), m_vars(vars),
    m_context(std::move(context)), m_secrets(secrets)
{
}

ConfigNode ConfigNode::with_vars(const Vars* vars, std::string context) const
{
  return ConfigNode(m_value, m_file, m_path, vars, std::move(context), m_secrets);
}

void ConfigNode::note_secret(std::string value) const
{
  if (m_secrets != nullptr && !value.empty()) {
    m_secrets->push_back(std::move(value));
  }
}

std::string ConfigNode::where() const
{
  std::string out = m_path.empty() ? m_file : fmt::format("{}: {}", m_file, m_path);
  if (!m_context.empty()) {
    out += fmt::format(" ({})", m_context);
  }
  return out;
}

std::string ConfigNode::shown_value() const
{
  if (m_value->is_null()) {
    return "nothing";
  }
  constexpr std::size_t k_shown = 80;
  std::string text;
  append_preview(*m_value, text, k_shown);
  if (text.size() > k_shown) {
    std::size_t cut = k_shown - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
      --cut;  // never split a UTF-8 character
    }
    text = text.substr(0, cut) + "...";
  }
  return text;
}

void ConfigNode::fail(std::string_view expected) const
{
  throw ConfigError(fmt::format("{}: expected {}, got {}", where(), expected, shown_value()));
}

void ConfigNode::fail_message(std::string_view message) const
{
  throw ConfigError(fmt::format("{}: {}", where(), message));
}

void ConfigNode::expect_object() const
{
  if (!m_value->is_object()) {
    fail("an object");
  }
}

void ConfigNode::reject_unknown_keys(std::initializer_list<std::string_view> allowed) const
{
  reject_unknown_keys(std::vector<std::string_view>(allowed));
}

void ConfigNode::reject_unknown_keys(const std::vector<std::string_view>& allowed) const
{
  expect_object();
  for (const auto& [key, value] : m_value->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    const std::string suggestion = closest_match(key, allowed);
    const ConfigNode bad(&value, m_file, child_path(m_path, key), m_vars, m_context, m_secrets);
    if (suggestion.empty()) {
      bad.fail_message(fmt::format("unknown key \"{}\"", key));
    }
    bad.fail_message(fmt::format("unknown key \"{}\" (did you mean \"{}\"?)", key, suggestion));
  }
}

bool ConfigNode::has(std::string_view key) const
{
  return m_value->is_object() && m_value->contains(key) && !(*m_value)[std::string(key)].is_null();
}

ConfigNode ConfigNode::operator[](std::string_view key) const
{
  const std::string path = child_path(m_path, key);
  if (m_value->is_object()) {
    auto it = m_value->find(key);
    if (it != m_value->end()) {
      return ConfigNode(&*it, m_file, path, m_vars, m_context, m_secrets);
    }
  }
  return ConfigNode(&null_json(), m_file, path, m_vars, m_context, m_secrets);
}

std::vector<ConfigNode> ConfigNode::elements() const
{
  if (!m_value->is_array()) {
    fail("an array");
  }
  std::vector<ConfigNode> out;
  out.reserve(m_value->size());
  for (std::size_t i = 0; i < m_value->size(); ++i) {
    out.push_back(
      ConfigNode(&(*m_value)[i], m_file, fmt::format("{}[{}]", m_path, i), m_vars, m_context,
                 m_secrets));
  }
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::members() const
{
  expect_object();
  std::vector<std::pair<std::string, ConfigNode>> out;
  for (const auto& [key, value] : m_value->items()) {
    out.emplace_back(
      key, ConfigNode(&value, m_file, child_path(m_path, key), m_vars, m_context, m_secrets));
  }
  return out;
}

std::string ConfigNode::resolve(const std::string& text) const
{
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      fail_message(fmt::format("unterminated \"${{\" in {} (write \"$${{\" for a literal \"${{\")",
                               shown_value()));
    }
    const std::string name = text.substr(i + 2, close - i - 2);
    if (name.empty()) {
      fail_message("empty placeholder \"${}\"");
    }
    if (m_vars != nullptr) {
      auto it = m_vars->find(name);
      if (it != m_vars->end()) {
        out += it->second;
        i = close + 1;
        continue;
      }
    }
    const char* env = std::getenv(name.c_str());
    if (env == nullptr) {
      if (m_vars != nullptr) {
        fail_message(fmt::format(
          "\"${{{}}}\" is neither a variable given in \"vars\" nor a set environment variable",
          name));
      }
      fail_message(fmt::format("environment variable \"{}\" is not set", name));
    }
    out += env;
    note_secret(env);
    i = close + 1;
  }
  return out;
}

std::string ConfigNode::as_string() const
{
  if (m_value->is_string()) {
    return resolve(m_value->get<std::string>());
  }
  if (m_value->is_object() && m_value->size() == 1) {
    if (auto it = m_value->find("env"); it != m_value->end()) {
      const ConfigNode name_node(&*it, m_file, child_path(m_path, "env"), m_vars, m_context,
                                 m_secrets);
      if (!it->is_string() || it->get<std::string>().empty()) {
        name_node.fail("an environment variable name");
      }
      const std::string name = it->get<std::string>();
      const char* env = std::getenv(name.c_str());
      if (env == nullptr) {
        name_node.fail_message(fmt::format("environment variable \"{}\" is not set", name));
      }
      note_secret(env);
      return env;
    }
    if (auto it = m_value->find("file"); it != m_value->end()) {
      const ConfigNode path_node(&*it, m_file, child_path(m_path, "file"), m_vars, m_context,
                                 m_secrets);
      if (!it->is_string() || it->get<std::string>().empty()) {
        path_node.fail("a file path");
      }
      const std::string path = it->get<std::string>();
      util::FileRead file = util::read_regular_file(path, k_secret_file_limit, "secret files");
      if (!file.content) {
        path_node.fail_message(fmt::format("cannot read secret file \"{}\": {}", path, file.error));
      }
      std::string secret = std::move(*file.content);
      if (!secret.empty() && secret.back() == '\n') {
        secret.pop_back();
        if (!secret.empty() && secret.back() == '\r') {
          secret.pop_back();
        }
      }
      note_secret(secret);
      return secret;
    }
  }
  fail("a string");
}

bool ConfigNode::as_bool() const
{
  if (!m_value->is_boolean()) {
    fail("true or false");
  }
  return m_value->get<bool>();
}

std::int64_t ConfigNode::as_int(std::int64_t min, std::int64_t max) const
{
  const std::string expectation = max == std::numeric_limits<std::int64_t>::max()
                                    ? fmt::format("an integer >= {}", min)
                                    : fmt::format("an integer from {} to {}", min, max);
  std::int64_t value = 0;
  if (m_value->is_number_integer()) {
    if (m_value->is_number_unsigned()
        && m_value->get<std::uint64_t>()
             > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(expectation);
    }
    value = m_value->get<std::int64_t>();
  } else if (m_value->is_number_float()) {
    const double d = m_value->get<double>();
    if (std::trunc(d) != d || d < -9e18 || d > 9e18) {
      fail(expectation);
    }
    value = static_cast<std::int64_t>(d);
  } else {
    fail(expectation);
  }
  if (value < min || value > max) {
    fail(expectation);
  }
  return value;
}

double ConfigNode::as_number() const
{
  if (!m_value->is_number()) {
    fail("a number");
  }
  return m_value->get<double>();
}

Duration ConfigNode::as_duration() const
{
  if (!m_value->is_string()) {
    fail("a duration like \"30s\"");
  }
  auto d = util::parse_duration(m_value->get<std::string>());
  if (!d) {
    fail("a duration like \"30s\"");
  }
  // Longer is a mistake; and the bound keeps what the tools compute from a duration (now +
  // interval, every × offline_after up to 1000) far inside 64 bits, where 2^61 ms overflowed.
  constexpr Duration k_max_duration{36'500LL * 24 * 3600'000};
  if (*d > k_max_duration) {
    fail("a duration of at most 100 years (\"36500d\")");
  }
  return *d;
}

std::vector<std::string> ConfigNode::as_string_list() const
{
  if (m_value->is_string()) {
    return {as_string()};
  }
  if (!m_value->is_array()) {
    fail("a string or an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& element : elements()) {
    if (!element.raw().is_string() && !element.raw().is_object()) {
      element.fail("a string");
    }
    out.push_back(element.as_string());
  }
  return out;
}

std::map<std::string, std::string> ConfigNode::as_string_map() const
{
  if (!m_value->is_object()) {
    fail("an object of strings");
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, node] : members()) {
    out[key] = node.as_string();
  }
  return out;
}

std::string ConfigNode::get_string(std::string_view key, std::string fallback) const
{
  auto node = (*this)[key];
  return node.is_null() ? fallback : node.as_string();
}

bool ConfigNode::get_bool(std::string_view key, bool fallback) const
{
  auto node = (*this)[key];
  return node.is_null() ? fallback : node.as_bool();
}

std::int64_t ConfigNode::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const
{
  auto node = (*this)[key];
  return node.is_null() ? fallback : node.as_int(min, max);
}

Duration ConfigNode::get_duration(std::string_view key, Duration fallback) const
{
  auto node = (*this)[key];
  return node.is_null() ? fallback : node.as_duration();
}

std::optional<std::string> ConfigNode::find_string(std::string_view key) const
{
  auto node = (*this)[key];
  if (node.is_null()) {
    return std::nullopt;
  }
  return node.as_string();
}

std::optional<Duration> ConfigNode::find_duration(std::string_view key) const
{
  auto node = (*this)[key];
  if (node.is_null()) {
    return std::nullopt;
  }
  return node.as_duration();
}

} // namespace hb
