// SPDX-License-Identifier: MIT
#include "util/redact.hpp"

#include "util/http.hpp"

#include <algorithm>
#include <functional>

namespace hb::util {

bool is_secret_option(std::string_view name)
{
  std::string lower;
  for (char c : name) {
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  for (std::string_view word : {"pass", "secret", "token", "key", "auth", "credential", "cookie"}) {
    if (lower.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

MaskedArguments mask_arguments(const std::vector<std::string>& argv)
{
  MaskedArguments out;
  bool hide_next = false;
  for (const auto& original : argv) {
    std::string arg = original;
    if (hide_next) {
      out.hidden.push_back(arg);
      arg = k_mask;
      hide_next = false;
    } else if (arg.size() > 1 && arg[0] == '-') {
      const auto eq = arg.find('=');
      if (is_secret_option(std::string_view(arg).substr(0, eq))) {
        if (eq == std::string::npos) {
          hide_next = true;
        } else {
          out.hidden.push_back(arg.substr(eq + 1));
          arg = arg.substr(0, eq + 1) + std::string(k_mask);
        }
      }
    } else if (arg.find("://") != std::string::npos) {
      arg = redact_url(arg);
    }
    out.shown.push_back(std::move(arg));
  }
  return out;
}

Redactor::Redactor(const std::vector<std::string>& secrets)
{
  for (const auto& s : secrets) {
    // An already masked value hides nothing; a very short one would match everywhere. A config
    // collects a value once per use (a check set's secret for each of a thousand targets): the
    // set keeps one.
    if (s.size() >= k_min_redacted_length && s != k_mask && m_secrets.insert(s).second) {
      m_lengths.push_back(s.size());
      m_starts.set(start_at(s, 0));
    }
  }
  // Longest first, so that where two secrets start at the same place the longer one is hidden
  // whole.
  std::sort(m_lengths.begin(), m_lengths.end(), std::greater<>());
  m_lengths.erase(std::unique(m_lengths.begin(), m_lengths.end()), m_lengths.end());
}

std::size_t Redactor::start_at(std::string_view text, std::size_t at)
{
  const auto first = static_cast<std::size_t>(static_cast<unsigned char>(text[at]));
  const auto second = static_cast<std::size_t>(static_cast<unsigned char>(text[at + 1]));
  return (first * 61 + second) % k_start_bits;
}

std::string Redactor::redact(std::string text) const
{
  // One pass over the text, asking at each place whether a secret of each length there is starts
  // there: every message and output of a pulse passes through here, and a config may hold
  // thousands of secrets (often with a common prefix, "ghp_", "sk-live-"), which a search per
  // secret would make cost seconds per pulse.
  if (m_secrets.empty() || text.size() < k_min_redacted_length) {
    return text;
  }
  const std::string_view view(text);
  std::string out;
  std::size_t copied = 0;  // text[copied, at) is still to be appended to `out`
  std::size_t at = 0;
  while (at + k_min_redacted_length <= text.size()) {
    std::size_t matched = 0;
    if (m_starts.test(start_at(view, at))) {
      for (const std::size_t length : m_lengths) {
        if (at + length <= text.size() && m_secrets.count(view.substr(at, length)) != 0) {
          matched = length;
          break;
        }
      }
    }
    if (matched == 0) {
      ++at;
      continue;
    }
    out.append(text, copied, at - copied).append(k_mask);
    at += matched;
    copied = at;
  }
  if (copied == 0) {
    return text;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

} // namespace hb::util
