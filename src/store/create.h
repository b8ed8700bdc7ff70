#pragma once
// `hearth create` / POST /api/create: builds a model from a base (a GGUF file or an existing model,
// pulled first if missing) plus the Modelfile's TEMPLATE, SYSTEM, LICENSE, PARAMETER and MESSAGE
// layers, optionally re-quantizing the weights. Blobs are deduplicated ("using existing layer"),
// the config blob describes the weights, and the manifest is written last, so a failed or killed
// create leaves no model behind. Status events as Ollama's: "parsing GGUF", "quantizing F16 model
// to Q4_K_M", "verifying conversion", "using existing layer sha256:..." / "creating new layer
// sha256:...", "writing manifest", "success".

#include <string_view>

#include "store/modelfile.h"
#include "store/registry_client.h"
#include "store/store.h"

namespace hearth::store {

// The one text for ADAPTER / "adapters", whichever path a create takes (library, API, CLI).
inline constexpr char kAdaptersUnsupported[] = "ADAPTER (LoRA) models are not supported yet";

void create_model(Store& store, std::string_view name, const CreateSpec& spec,
                  const RegistryOptions& pull_options, const ProgressFn& progress);

}  // namespace hearth::store
