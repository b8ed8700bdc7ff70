#pragma once
// The text some verbs print, as functions the tests call directly.

#include <chrono>
#include <cstdint>
#include <string>

#include "cli/api_client.h"

namespace hearth::cli {

// `hearth ps`: PROCESSOR column from size and size_vram.
std::string processor_text(int64_t size, int64_t size_vram);
// `hearth ps` table from a GET /api/ps reply.
std::string ps_table(const Json& ps, const std::string& prefix,
                     std::chrono::system_clock::time_point now);
// `hearth show`: one field (`only` = license, modelfile, parameters, system, template) or the
// default view when `only` is empty.
std::string show_text(const Json& resp, const std::string& only, bool verbose);
// `hearth -v` lines given the server's version ("" when no server answered).
std::string version_text(const std::string& server_version, bool connected);

}  // namespace hearth::cli
