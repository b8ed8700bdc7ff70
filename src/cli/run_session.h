#pragma once
// `hearth run MODEL [PROMPT]` over the API (Ollama's RunHandler): pulls a missing model, then
// either answers once (a prompt argument, piped stdin, or stdout not a terminal: only the answer
// is printed) or opens the interactive chat (Repl on the terminal).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/api_client.h"
#include "cli/repl.h"

namespace hearth::cli {

struct RunFlags {
  std::string model;
  std::vector<std::string> prompt;
  std::string keepalive;
  std::string format;
  std::string think;  // "" unless --think was given ("true" for a bare --think)
  bool verbose = false;
  bool insecure = false;
  bool nowordwrap = false;
  bool hidethinking = false;
  bool raw = false;                 // ours: send the prompt without the chat template
  std::vector<std::string> params;  // ours: -p name=value, as /set parameter
};

// Adds Ollama's run flags (and ours: --raw, -p) to `cmd`, writing into `flags`.
void add_run_flags(CLI::App& cmd, RunFlags& flags);

// Runs against `client`. Throws hearth::Error.
void run_model(ApiClient& client, const RunFlags& flags);

// Validates --think's value ("", "true", "false", "low", "medium", "high", "max") into the API's
// think field. Throws Error(invalid_argument) with Ollama's message.
Json think_value(const std::string& flag);

// -p name=value pairs as an options object (typed like Modelfile PARAMETERs).
Json parse_param_flags(const std::vector<std::string>& params);

// The ReplApi over a real server.
class ApiRepl : public ReplApi {
 public:
  explicit ApiRepl(ApiClient& client) : client_(client) {}
  Json show(const Json& request) override;
  void create(const Json& request) override;
  std::string list_table() override;
  void load(const std::string& model, const Json& keep_alive) override;
  bool chat(const Json& request, const std::function<bool(const Json&)>& on_chunk) override;

 private:
  ApiClient& client_;
};

// One line of `hearth list`.
struct ListRow {
  std::string name;    // display name
  std::string digest;  // manifest sha256 hex
  int64_t size = 0;
  std::chrono::system_clock::time_point modified;
};
// The `hearth list` table: only names starting with `prefix`, compared case-insensitively as
// Ollama's ListHandler does.
std::string list_table(const std::vector<ListRow>& models, const std::string& prefix);
// `hearth list` / `/list` table from GET /api/tags.
std::string list_table(ApiClient& client, const std::string& prefix = {});

}  // namespace hearth::cli
