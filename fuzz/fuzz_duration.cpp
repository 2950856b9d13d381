// SPDX-License-Identifier: MIT
// Fuzzes hb::util::parse_duration. Besides sanitizer findings, aborts when a parsed duration is
// negative, when format_duration_spec does not read back to the same value (the header promises
// that it does), or when the spec is not canonical.
#include "util/duration.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(std::string_view input, const std::string& what)
{
  std::fprintf(stderr, "fuzz_duration: %s (input \"%.*s\")\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = hb::util::parse_duration(text);
  if (!parsed) {
    return 0;
  }
  if (parsed->count() < 0) {
    fail(text, "parsed to a negative duration " + std::to_string(parsed->count()));
  }
  const std::string spec = hb::util::format_duration_spec(*parsed);
  const auto again = hb::util::parse_duration(spec);
  if (!again) {
    fail(text, "format_duration_spec gave \"" + spec + "\", which does not parse");
  }
  if (*again != *parsed) {
    fail(text, "\"" + spec + "\" parses to " + std::to_string(again->count()) + "ms, not " +
                 std::to_string(parsed->count()) + "ms");
  }
  if (hb::util::format_duration_spec(*again) != spec) {
    fail(text, "format_duration_spec is not canonical for \"" + spec + "\"");
  }
  if (hb::util::format_duration(*parsed).empty()) {
    fail(text, "format_duration gave an empty string");
  }
  return 0;
}
