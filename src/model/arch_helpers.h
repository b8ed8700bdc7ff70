#pragma once
// Small helpers the architecture files share: optional per-architecture GGUF keys read and
// range-checked the way hparams.cc reads the common ones (a value out of range is a load error
// that names the file and the key), and Gemma's query scale.

#include <cstdint>
#include <set>
#include <string>

#include "gguf/gguf_file.h"
#include "model/hparams.h"

namespace hearth::model {

// The most positions a window or context key may say (hparams.cc's bound for context_length);
// past it a value is corruption, not a model.
constexpr int64_t kMaxPositionsKey = int64_t{1} << 24;

// The key's value, or `def` when the file lacks it; must be a finite number above 0.
float positive_f32_key(const gguf::File& file, const std::string& key, float def);
// The key's value, or `def` when the file lacks it; must be in 1..max.
int64_t positive_i64_key(const gguf::File& file, const std::string& key, int64_t def, int64_t max);

// Error(corrupt): "<file>: key '<key>' <why>".
[[noreturn]] void bad_key(const gguf::File& file, const std::string& key, const std::string& why);

// Refuses the file (Error unsupported, naming the key) if it has an "<arch>.*" key whose suffix is
// not in `known`: an architecture that lists its keys honours every one it accepts.
void refuse_unknown_keys(const gguf::File& file, const std::string& arch, const std::set<std::string>& known);

// Gemma 2 and 3 scale q by 1/sqrt(query_pre_attn_scalar), which the GGUF does not carry: it is
// head_dim (attention.key_length) except for the 27B models (Gemma 2: 46 layers, Gemma 3: 62),
// whose value is n_embd / n_head. llama.cpp and Ollama tell the 27B apart by the same layer count.
float gemma_query_scale(const HParams& hp, int64_t n_layer_27b);

}  // namespace hearth::model
