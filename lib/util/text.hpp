// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace hb::util {

// "1 target", "3 targets", "0 checks": a count with its noun, never "target(s)". `noun` is the
// singular; the plural adds an "s" (every noun we count does).
std::string plural(long long n, std::string_view noun);

// Returns true when `text` matches the shell glob `pattern` (`*`, `?`, `[abc]`, as fnmatch(3)
// without flags: `*` also matches '/' and '.'); a pattern without glob characters must equal
// `text`. How notification rules and maintenance windows name targets ("acme-*").
bool glob_match(const std::string& pattern, const std::string& text);

} // namespace hb::util
