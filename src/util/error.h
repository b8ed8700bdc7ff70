#pragma once
// Errors from outside input. Thrown where the bad input is found, given context on the way up,
// caught only at the server's error map and the CLI's main (ARCHITECTURE.md, "Errors").

#include <stdexcept>
#include <string>

namespace hearth {

enum class ErrorCode {
  invalid_argument,
  not_found,
  corrupt,
  unsupported,
  resource_exhausted,
  cancelled,
  io,
  internal,
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}

  ErrorCode code() const { return code_; }

  // Returns a copy whose message is "context: <this message>".
  Error with_context(const std::string& context) const {
    return Error(code_, context + ": " + what());
  }

 private:
  ErrorCode code_;
};

// Shorthands so call sites read as the condition they report.
[[noreturn]] void throw_error(ErrorCode code, const std::string& message);

}  // namespace hearth
