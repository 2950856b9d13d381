// SPDX-License-Identifier: MIT
#pragma once

#include <bitset>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace hb::util {

// What a hidden value is shown as.
inline constexpr std::string_view k_mask = "***";

// Secrets shorter than this are not searched for in text: hiding every "on" or "42" would
// mangle messages beyond use and hide nothing worth hiding (a 3-character secret is no secret).
// They are still masked where they stand as whole values (command descriptions).
inline constexpr std::size_t k_min_redacted_length = 4;

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
// wherever they appear in text a program printed, before it is stored or shown. Values shorter
// than k_min_redacted_length are ignored.
class Redactor {
public:
  Redactor() = default;
  explicit Redactor(const std::vector<std::string>& secrets);

  // Returns `text` with every occurrence of a secret replaced by "***", from left to right;
  // where several secrets start at the same place, the longest is replaced. Costs one pass over
  // `text` (a lookup per distinct secret length where a secret may start), not one per secret.
  std::string redact(std::string text) const;

private:
  // Transparent, so that a piece of text is looked up without copying it.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const
    {
      return std::hash<std::string_view>()(text);
    }
  };
  // The filter's bit for the two bytes at `at`.
  static std::size_t start_at(std::string_view text, std::size_t at);

  std::unordered_set<std::string, Hash, std::equal_to<>> m_secrets;
  std::vector<std::size_t> m_lengths;  // of the secrets, each once, longest first
  // Which first two bytes (hashed) any secret starts with: most places in a text are passed over
  // by this test alone. Small, as every command check keeps a Redactor.
  static constexpr std::size_t k_start_bits = 4096;
  std::bitset<k_start_bits> m_starts;
};

} // namespace hb::util
