#pragma once
// What the store reports about a model's weights (the config blob and /api/show's details):
// family, parameter size, quantization level, context and embedding length, read from GGUF
// metadata the way Ollama reads them.

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "store/manifest.h"

namespace hearth::store {

struct GgufDetails {
  std::string architecture;   // general.architecture
  uint64_t parameter_count = 0;
  std::string file_type;      // "Q4_K_M"
  uint64_t context_length = 0;
  uint64_t embedding_length = 0;
  bool has_pooling = false;   // embedding model
  bool has_vision = false;
};

GgufDetails read_gguf_details(const gguf::File& f);

// Ollama's format.HumanNumber: 7615616512 -> "7.6B", 494032768 -> "494.03M", 8000000000 -> "8B",
// 260000 -> "260K" (what `ollama show` prints as parameters and /api/tags as parameter_size).
std::string human_number(uint64_t n);

// A config blob describing the GGUF.
ModelConfig config_from_gguf(const GgufDetails& d);

}  // namespace hearth::store
