// SPDX-License-Identifier: MIT
#include "util/redact.hpp"

#include "util/http.hpp"

#include <algorithm>

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
    // An already masked value hides nothing; an empty one would match everywhere.
    if (!s.empty() && s != k_mask
        && std::find(m_secrets.begin(), m_secrets.end(), s) == m_secrets.end()) {
      m_secrets.push_back(s);
    }
  }
  std::stable_sort(m_secrets.begin(), m_secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::redact(std::string text) const
{
  for (const auto& secret : m_secrets) {
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + k_mask.size())) {
      text.replace(at, secret.size(), k_mask);
    }
  }
  return text;
}

} // namespace hb::util
