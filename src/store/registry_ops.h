#pragma once
// Pull and push of whole models (ollama-compat.md section 7). Progress goes to a callback as
// Ollama's status stream: pull: "pulling manifest", "pulling <12 hex>" (digest/total/completed),
// "verifying sha256 digest", "writing manifest", ["removing unused layers"], "success";
// push: "retrieving manifest", "pushing <12 hex>", "pushing manifest", "success".
// Both are library calls: the server streams the events as NDJSON, the CLI draws them.

#include <string_view>

#include "store/registry_client.h"
#include "store/store.h"

namespace hearth::store {

// Pulls NAME into the store. Nothing of the model becomes visible until every blob is verified;
// the manifest is stored byte-for-byte as the registry sent it. Errors: Error(invalid_argument)
// for a bad name, not_found "pull model manifest: file does not exist", "unauthorized: ...",
// corrupt "digest mismatch, ...", resource_exhausted for a full disk, io after the retries.
void pull_model(Store& store, std::string_view name, const RegistryOptions& opts,
                const ProgressFn& progress);

// Pushes NAME's blobs (skipping those the registry has, mounting those it can) and manifest.
void push_model(Store& store, std::string_view name, const RegistryOptions& opts,
                const ProgressFn& progress);

// RegistryOptions with HEARTH_NOPRUNE applied.
RegistryOptions default_registry_options();

}  // namespace hearth::store
