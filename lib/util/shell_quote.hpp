// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hb::util {

// Returns `argument` as a POSIX shell word: bare when it holds only characters no shell treats
// specially, else in single quotes ('it'\''s'); the empty argument is ''. For display: `*` is
// left bare so that masked secrets read `***`.
std::string shell_quote(std::string_view argument);

// Returns `argv` as one line for people, each argument quoted as above and separated by a
// space: `sh -c 'echo tick; date'`. The one way heartbeat shows a command.
std::string shell_quote(const std::vector<std::string>& argv);

} // namespace hb::util
