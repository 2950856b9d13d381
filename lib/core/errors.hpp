// SPDX-License-Identifier: MIT
#pragma once

#include <stdexcept>
#include <string>

namespace hb {

// Exit codes shared by every tool (SPEC §4): Nagios codes where a tool reports health,
// sysexits codes for failures of the tool itself.
enum class ExitCode : int {
  ok = 0,
  warning = 1,
  critical = 2,
  unknown = 3,
  usage = 64,
  data = 65,
  software = 70,
  io = 74,
  temporary = 75,
  config = 78,
  interrupted_int = 130,
  interrupted_term = 143,
};

// Base of the orchestration-level exceptions; each carries the exit code a tool maps it to.
// Not thrown directly: throw one of the subclasses below.
class Error : public std::runtime_error {
public:
  ExitCode exit_code() const noexcept { return m_code; }

protected:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}

private:
  ExitCode m_code;
};

// The configuration is invalid: exit 78.
class ConfigError : public Error {
public:
  explicit ConfigError(const std::string& message) : Error(ExitCode::config, message) {}
};

// The database could not be opened, read or written: exit 74.
class StoreError : public Error {
public:
  explicit StoreError(const std::string& message) : Error(ExitCode::io, message) {}
};

// A file other than the database (the --prometheus metrics file) could not be written: exit 74.
class IoError : public Error {
public:
  explicit IoError(const std::string& message) : Error(ExitCode::io, message) {}
};

// Bad command-line usage or environment (e.g. a malformed HB_NOW): exit 64.
class UsageError : public Error {
public:
  explicit UsageError(const std::string& message) : Error(ExitCode::usage, message) {}
};

// Bad input data (an unknown target, an invalid metric): exit 65.
class DataError : public Error {
public:
  explicit DataError(const std::string& message) : Error(ExitCode::data, message) {}
};

// Something that may work if retried later (a discovery command that timed out): exit 75.
class TemporaryError : public Error {
public:
  explicit TemporaryError(const std::string& message) : Error(ExitCode::temporary, message) {}
};

} // namespace hb
