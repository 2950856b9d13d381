// SPDX-License-Identifier: MIT
#pragma once

// The tools' JSON output checked against the JSON Schema files in docs/schema/, by
// tests/support/validate_json.py (Debian's python3 with python3-jsonschema).

#include <map>
#include <string>
#include <vector>

namespace hb::test {

// The path of `file` in docs/schema/ ("hb-status.schema.json").
std::string schema_file(const std::string& file);

// Validates `document` against the schema file `schema`. Returns "" when it is valid, else what
// the validator said (one line per error, each naming its JSON path). A validator that cannot run
// (no python3, no jsonschema module, a $ref that does not resolve) is an error too, never a pass.
std::string schema_errors(const std::string& schema, const std::string& document);

// The same for documents in files, validated by one run of the validator (it costs about half a
// second to start); "" when every one is valid, and when `files` is empty.
std::string schema_errors_in_files(const std::string& schema, const std::vector<std::string>& files);

// Runs validate_json.py with `args` (and `document` on its stdin, `env` added to its
// environment); returns its exit code, -1 when it did not exit, and what it said in `message`.
// For the tests of the validator itself.
int run_validator(const std::vector<std::string>& args, const std::string& document,
                  std::string& message, const std::map<std::string, std::string>& env = {});

} // namespace hb::test
