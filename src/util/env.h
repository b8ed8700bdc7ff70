#pragma once
// Every HEARTH_* environment variable, declared once with its default and help text (env.cc).
// Each one Ollama also has falls back to its OLLAMA_* name when the HEARTH_* one is unset, so an
// existing Ollama environment file works as is.

#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

struct EnvVar {
  const char* name;         // "HEARTH_HOST"
  const char* ollama_name;  // "OLLAMA_HOST", or nullptr when Ollama has no such variable
  const char* default_value;
  const char* help;
};

const std::vector<EnvVar>& env_vars();

// The value in force: HEARTH_*, else OLLAMA_*, else the declared default, with white space and
// then quotes trimmed as Ollama trims them. Aborts (a bug) when `name` is not declared in env.cc.
std::string env_value(const char* name);

// True when HEARTH_* or its OLLAMA_* fallback is set to a non-empty value.
bool env_is_set(const char* name);

// A boolean the way Ollama reads one: unset or empty is false; 0, f, F, false, FALSE, False are
// false; anything else set ("1", "true", "yes", ...) is true.
bool env_flag(const char* name);

// A whole unsigned decimal number the way Ollama's envconfig.Uint reads one: `fallback` when
// unset, and also (with a warning naming the variable) when the value is anything else ("8k",
// "-1", "1.5", "abc").
uint64_t env_uint(const char* name, uint64_t fallback);
// env_uint capped to an int: a count (threads, slots, a context length).
int env_count(const char* name, int fallback);

}  // namespace hearth
