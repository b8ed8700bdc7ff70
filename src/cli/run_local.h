#pragma once
// `hearth run PATH.gguf [PROMPT]`: runs a GGUF file inside this process (no server, no store),
// streams the answer to stdout and, with --verbose, Ollama's statistics block to stderr.
// run_verb.cc sends model names (not paths) to the API path (run_session.h) instead.

#include <string>
#include <vector>

namespace hearth::cli {

struct LocalRunOptions {
  std::string path;                 // the .gguf file
  std::string prompt;
  bool raw = false;                 // no chat template
  bool verbose = false;             // statistics on stderr
  std::vector<std::string> params;  // "name=value" (temperature, num_predict, seed, num_ctx, stop, ...)
};

// True when `model` is a GGUF path (ends in .gguf, or an existing file given with a slash)
// rather than a store model name.
bool is_gguf_path(const std::string& model);

// Throws hearth::Error (load errors name the file; bad parameters name the parameter).
void run_gguf_file(const LocalRunOptions& options);

}  // namespace hearth::cli
