// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace hb::output {

// Returns `json` (a serialised JSON document) with every character checks::is_hidden_control
// names — C1 controls and bidirectional formatting characters, which can only occur inside its
// strings — written as a \uXXXX escape. The document means the same to a JSON reader, but a
// terminal it is printed on shows the escape instead of reordering the text (JSON escapes C0
// controls such as ESC already). Invalid UTF-8 is left as it is.
std::string escape_hidden_controls(std::string_view json);

} // namespace hb::output
