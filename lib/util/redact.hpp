// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hb::util {

// What a hidden value is shown as.
inline constexpr std::string_view k_mask = "***";

// Returns true for an option name that announces a secret: --password, --api-token, --auth...
bool is_secret_option(std::string_view name);

struct MaskedArguments {
  std::vector<std::string> shown;   // argv with secret option values and URL credentials masked
  std::vector<std::string> hidden;  // the option values that were masked
};

// Masks what looks like a secret in a command line: the values of options named like
// --password/--token ("--password=x" or "--password x") and credentials in URLs. For commands
// that are stored or shown; the program still gets its arguments unchanged.
MaskedArguments mask_arguments(const std::vector<std::string>& argv);

// Hides known secret values (resolved from {"env"}, {"file"}, "${VAR}", or masked arguments)
// wherever they appear in text a program printed, before it is stored or shown.
class Redactor {
public:
  Redactor() = default;
  explicit Redactor(const std::vector<std::string>& secrets);

  // Returns `text` with every occurrence of a secret replaced by "***".
  std::string redact(std::string text) const;

private:
  std::vector<std::string> m_secrets;  // longest first, so a secret inside another is not half-hidden
};

} // namespace hb::util
