// SPDX-License-Identifier: MIT
#include "checks/http_check.hpp"

#include "checks/perfdata.hpp"
#include "util/duration.hpp"
#include "util/http.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace hb::checks {
namespace {

constexpr std::array<std::string_view, 7> k_methods = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};
constexpr int k_max_redirects = 5;
constexpr std::string_view k_status_expectation =
    "an HTTP status from 100 to 599, a range like \"200-299\", or an array of them";

// libstdc++'s default regex engine backtracks recursively, once per input character for patterns
// like ".*", which overflows the stack on a 1 MB body. The polynomial engine does not, but it
// refuses back-references, which is the price.
constexpr auto k_regex_flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
// libstdc++ compiles a regex recursively, a stack frame per character of a sequence: a pattern
// of some 100,000 characters overflows the stack while the config loads. Real patterns are short.
constexpr std::size_t k_max_regex = 1000;

struct StatusRange {
  long low = 0;
  long high = 0;
};

// Puts "${NAME}" back in place of the value of each environment variable the config referenced,
// in text meant for people: such values may be secrets (a token in a URL's path), which must not
// reach the database, the output or a notification.
class Scrubber {
public:
  void add_placeholders(const std::string& raw)
  {
    std::size_t i = 0;
    while ((i = raw.find("${", i)) != std::string::npos) {
      if (i > 0 && raw[i - 1] == '$') {
        i += 2;
        continue;
      }
      const std::size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        return;
      }
      const std::string name = raw.substr(i + 2, close - i - 2);
      if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') {
        m_pairs.emplace_back(value, "${" + name + "}");
      }
      i = close + 1;
    }
    sort();
  }

  // Shows `replacement` wherever `secret` would appear.
  void add(std::string secret, std::string replacement)
  {
    if (!secret.empty()) {
      m_pairs.emplace_back(std::move(secret), std::move(replacement));
      sort();
    }
  }

  std::string operator()(std::string text) const
  {
    for (const auto& [secret, placeholder] : m_pairs) {
      std::size_t pos = 0;
      while ((pos = text.find(secret, pos)) != std::string::npos) {
        text.replace(pos, secret.size(), placeholder);
        pos += placeholder.size();
      }
    }
    return text;
  }

private:
  void sort()
  {
    // Longest first, so that a value containing another is replaced whole.
    std::sort(m_pairs.begin(), m_pairs.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  std::vector<std::pair<std::string, std::string>> m_pairs;
};

struct HttpSettings {
  util::HttpRequest request; // everything but the per-run timeout and cancel flag
  std::vector<StatusRange> expect_status;
  std::string expect_text; // "200-399", for messages
  std::optional<std::string> body_contains;
  std::string body_contains_shown; // the raw config text, never a resolved secret
  std::optional<std::regex> body_regex;
  std::string body_regex_shown;
  std::optional<Duration> max_latency;
  bool insecure = false;
  Severity severity = Severity::alert;
  std::string description;
  Scrubber scrub;
};

class HttpCheck final : public Check {
public:
  explicit HttpCheck(HttpSettings settings)
      : m_settings(std::move(settings))
  {
  }

  CheckResult run(const CheckContext& context) const override;
  std::string describe() const override { return m_settings.description; }

private:
  CheckResult transport_failure(const util::HttpResponse& response) const;
  bool status_expected(long status) const;

  HttpSettings m_settings;
};

bool HttpCheck::status_expected(long status) const
{
  return std::any_of(m_settings.expect_status.begin(), m_settings.expect_status.end(),
                     [&](const StatusRange& r) { return status >= r.low && status <= r.high; });
}

CheckResult HttpCheck::transport_failure(const util::HttpResponse& response) const
{
  using Failure = util::HttpResponse::Failure;
  CheckResult result;
  result.latency = response.elapsed;
  // The service did not answer: that is a definite "down", of the configured severity. Only a
  // check that could not finish (cut off, or broken on our side) is undetermined.
  result.status = failure_status(m_settings.severity);
  switch (response.failure) {
  case Failure::dns:
    result.phase = "dns";
    result.message = "dns lookup failed: " + response.error;
    break;
  case Failure::connect:
    result.phase = "connect";
    result.message = "connect failed: " + response.error;
    break;
  case Failure::tls:
    result.phase = "tls";
    result.message = "TLS failed: " + response.error;
    break;
  case Failure::timeout:
    result.phase = "timeout";
    result.message = response.error;
    break;
  case Failure::protocol:
    result.phase = "protocol";
    result.message = "bad HTTP response: " + response.error;
    break;
  case Failure::insecure_redirect:
    // The answer would have been fetched without TLS: a TLS failure of the server's making.
    result.phase = "tls";
    result.message = response.error + "; set \"allow_insecure_redirect\": true to follow it";
    break;
  case Failure::cancelled:
    result.status = CheckStatus::error;
    result.phase = "cancelled";
    result.message = "cut off: pulse deadline or shutdown";
    return result;
  case Failure::bad_url:
    result.status = CheckStatus::error;
    result.phase = "bad_url";
    result.message = response.error;
    break;
  case Failure::none:
  case Failure::other:
    result.status = CheckStatus::error;
    result.phase = "internal";
    result.message = response.error;
    break;
  }
  // libcurl's messages may quote the server (a redirect's target): nothing it sends reaches a
  // terminal unsanitised.
  result.message = sanitize_text(m_settings.scrub(std::move(result.message)), KeepNewlines::no);
  result.metrics.push_back(
      {"time", static_cast<double>(response.elapsed.count()) / 1000.0, "s", "", "", 0.0, {}});
  return result;
}

CheckResult HttpCheck::run(const CheckContext& context) const
{
  util::HttpRequest request = m_settings.request;
  request.timeout = context.timeout;
  request.cancel = &context.cancel;
  const util::HttpResponse response = context.http.perform(request);
  if (response.failure != util::HttpResponse::Failure::none) {
    return transport_failure(response);
  }

  CheckResult result;
  result.latency = response.elapsed;
  result.metrics.push_back(
      {"time", static_cast<double>(response.elapsed.count()) / 1000.0, "s", "", "", 0.0, {}});
  result.metrics.push_back(
      {"status", static_cast<double>(response.status), "", "", "", std::nullopt, {}});
  result.metrics.push_back(
      {"size", static_cast<double>(response.body.size()), "B", "", "", 0.0, {}});

  const std::string checked_part =
      response.body_truncated ? fmt::format(" (first {} bytes checked)", response.body.size()) : "";
  if (!status_expected(response.status)) {
    result.status = failure_status(m_settings.severity);
    result.phase = "http_status";
    result.message = fmt::format("HTTP {} (expected {})", response.status, m_settings.expect_text);
  } else if (m_settings.body_contains &&
             response.body.find(*m_settings.body_contains) == std::string::npos) {
    result.status = failure_status(m_settings.severity);
    result.phase = "body";
    result.message =
        fmt::format("body does not contain \"{}\"{}", m_settings.body_contains_shown, checked_part);
  } else if (m_settings.body_regex && !std::regex_match(response.body, *m_settings.body_regex)) {
    result.status = failure_status(m_settings.severity);
    result.phase = "body";
    result.message =
        fmt::format("body does not match \"{}\"{}", m_settings.body_regex_shown, checked_part);
  } else if (m_settings.max_latency && response.elapsed > *m_settings.max_latency) {
    result.status = CheckStatus::warning;
    result.phase = "latency";
    result.message = fmt::format("slow: {} > {}", util::format_duration(response.elapsed),
                                 util::format_duration(*m_settings.max_latency));
  } else {
    result.status = CheckStatus::ok;
    result.message =
        fmt::format("HTTP {} in {}", response.status, util::format_duration(response.elapsed));
  }
  return result;
}

// Returns the text a string option was written as, for messages: placeholders stay unresolved.
std::string raw_text(const ConfigNode& node)
{
  return node.raw().is_string() ? node.raw().get<std::string>() : node.shown_value();
}

std::optional<long> parse_status_number(std::string_view text)
{
  if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::nullopt;
  }
  const long value = std::strtol(std::string(text).c_str(), nullptr, 10);
  if (value < 100 || value > 599) {
    return std::nullopt;
  }
  return value;
}

StatusRange parse_status_item(const ConfigNode& node)
{
  const auto& raw = node.raw();
  if (raw.is_number_integer()) {
    // As a double, so that huge values compare correctly whatever their JSON integer type.
    const double value = raw.get<double>();
    if (value < 100 || value > 599) {
      node.fail("an HTTP status from 100 to 599");
    }
    return {static_cast<long>(value), static_cast<long>(value)};
  }
  if (raw.is_string()) {
    const std::string text = raw.get<std::string>();
    const std::size_t dash = text.find('-');
    const auto low = parse_status_number(std::string_view(text).substr(0, dash));
    const auto high = dash == std::string::npos
                          ? low
                          : parse_status_number(std::string_view(text).substr(dash + 1));
    if (!low || !high || *low > *high) {
      node.fail("a status range like \"200-299\" (statuses from 100 to 599, low to high)");
    }
    return {*low, *high};
  }
  node.fail(k_status_expectation);
}

std::vector<StatusRange> parse_expect_status(const ConfigNode& node)
{
  if (node.is_null()) {
    return {{200, 399}};
  }
  std::vector<StatusRange> out;
  if (node.is_array()) {
    for (const auto& element : node.elements()) {
      out.push_back(parse_status_item(element));
    }
    if (out.empty()) {
      node.fail(k_status_expectation);
    }
    return out;
  }
  out.push_back(parse_status_item(node));
  return out;
}

std::string format_expectation(const std::vector<StatusRange>& ranges)
{
  std::vector<std::string> parts;
  for (const auto& r : ranges) {
    parts.push_back(r.low == r.high ? fmt::format("{}", r.low)
                                    : fmt::format("{}-{}", r.low, r.high));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string regex_problem(const std::regex_error& e, const std::string& pattern)
{
  if (e.code() == std::regex_constants::error_complexity &&
      pattern.find('\\') != std::string::npos) {
    return "back-references like \\1 are not supported";
  }
  std::string what = e.what();
  while (!what.empty() && (what.back() == '.' || what.back() == ' ')) {
    what.pop_back();
  }
  if (!what.empty()) {
    what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
  }
  return what;
}

bool valid_header_name(std::string_view name)
{
  static constexpr std::string_view k_token_symbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           k_token_symbols.find(c) != std::string_view::npos;
  });
}

std::unique_ptr<Check> create_http_check(const ConfigNode& spec, const CommonSettings& common)
{
  HttpSettings s;
  s.severity = common.severity;

  const ConfigNode url_node = spec["url"];
  if (url_node.is_null()) {
    spec.fail_message("missing \"url\"");
  }
  const std::string url = url_node.as_string();
  if (!util::is_http_url(url)) {
    url_node.fail("an http:// or https:// URL");
  }
  s.request.url = url;

  if (const ConfigNode method_node = spec["method"]; !method_node.is_null()) {
    std::string method = method_node.is_string() ? method_node.raw().get<std::string>() : "";
    std::transform(method.begin(), method.end(), method.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    if (std::find(k_methods.begin(), k_methods.end(), method) == k_methods.end()) {
      method_node.fail(fmt::format("one of {}", fmt::join(k_methods, ", ")));
    }
    s.request.method = method;
  }

  if (const ConfigNode headers_node = spec["headers"]; !headers_node.is_null()) {
    if (!headers_node.is_object()) {
      headers_node.fail("an object of header names to strings");
    }
    for (const auto& [name, value_node] : headers_node.members()) {
      if (!valid_header_name(name)) {
        value_node.fail_message(fmt::format("invalid header name \"{}\"", name));
      }
      std::string value = value_node.as_string();
      if (value.find_first_of("\r\n") != std::string::npos) {
        // The value is not quoted: it may be a resolved secret.
        value_node.fail_message(
            fmt::format("the value of header \"{}\" contains a line break", name));
      }
      s.request.headers.emplace_back(name, std::move(value));
    }
  }

  if (spec.has("body")) {
    s.request.body = spec["body"].as_string();
  }

  s.expect_status = parse_expect_status(spec["expect_status"]);
  s.expect_text = format_expectation(s.expect_status);

  const bool head = s.request.method == "HEAD";
  if (const ConfigNode node = spec["body_contains"]; !node.is_null()) {
    if (head) {
      node.fail_message("a HEAD request has no body to check");
    }
    s.body_contains = node.as_string();
    s.body_contains_shown = raw_text(node);
  }
  if (const ConfigNode node = spec["body_regex"]; !node.is_null()) {
    if (head) {
      node.fail_message("a HEAD request has no body to check");
    }
    const std::string pattern = node.as_string();
    if (pattern.size() > k_max_regex) {
      node.fail(fmt::format("a regular expression of at most {} characters", k_max_regex));
    }
    try {
      std::regex validated(pattern, k_regex_flags);
      // regex_match over this wrapper finds the pattern anywhere in one linear pass, where
      // regex_search would restart at every character (quadratic on a large body).
      s.body_regex.emplace("[\\s\\S]*?(?:" + pattern + ")[\\s\\S]*", k_regex_flags);
    } catch (const std::regex_error& e) {
      node.fail_message(fmt::format("invalid regular expression {}: {}", node.shown_value(),
                                    regex_problem(e, pattern)));
    }
    s.body_regex_shown = raw_text(node);
  }

  if (auto max_latency = spec.find_duration("max_latency")) {
    if (*max_latency <= Duration(0)) {
      spec["max_latency"].fail("a positive duration like \"500ms\"");
    }
    s.max_latency = *max_latency;
  }
  s.request.max_redirects = spec.get_bool("follow_redirects", true) ? k_max_redirects : 0;
  s.request.allow_insecure_redirect = spec.get_bool("allow_insecure_redirect", false);
  s.insecure = spec.get_bool("insecure", false);
  s.request.verify_tls = !s.insecure;
  if (const ConfigNode node = spec["ca_file"]; !node.is_null()) {
    s.request.ca_file = node.as_string();
    if (s.request.ca_file.empty()) {
      node.fail("a path to a CA bundle");
    }
  }

  if (url_node.is_string()) {
    s.scrub.add_placeholders(url_node.raw().get<std::string>());
    s.description = fmt::format("{} {}", s.request.method, s.scrub(util::redact_url(url)));
  } else {
    // The whole URL is a secret ({"env": ...} or {"file": ...}): show where it comes from.
    const std::string shown = fmt::format("<URL from {}>", url_node.shown_value());
    s.scrub.add(util::redact_url(url), shown);
    s.description = fmt::format("{} {}", s.request.method, shown);
  }
  if (s.insecure) {
    s.description += " (TLS not verified)";
  }
  return std::make_unique<HttpCheck>(std::move(s));
}

} // namespace

CheckType http_check_type()
{
  return {"http",
          {"url", "method", "headers", "body", "expect_status", "body_contains", "body_regex",
           "max_latency", "follow_redirects", "allow_insecure_redirect", "insecure", "ca_file"},
          create_http_check};
}

} // namespace hb::checks
