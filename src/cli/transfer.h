#pragma once
// Long operations through the API with a progress display on stderr: pull, push and create
// (which also uploads the Modelfile's local files as blobs first, as Ollama's CLI does).

#include <string>

#include "cli/api_client.h"
#include "store/modelfile.h"

namespace hearth::cli {

// POST /api/pull, streaming progress. Throws hearth::Error with the server's message.
void pull_with_progress(ApiClient& client, const std::string& model, bool insecure);
// POST /api/push.
void push_with_progress(ApiClient& client, const std::string& model, bool insecure);
// POST /api/create with `request` (already holding files/from/quantize...).
void create_with_progress(ApiClient& client, const Json& request);

// The /api/create request for a parsed Modelfile. A FROM that is a local file is hashed and
// uploaded as a blob first (skipped when the server already has it), as Ollama's CLI does.
Json create_request(ApiClient& client, const std::string& model, const store::CreateSpec& spec);

// True when stderr is a terminal (bars redrawn in place) — plain lines otherwise.
bool stderr_is_terminal();

}  // namespace hearth::cli
