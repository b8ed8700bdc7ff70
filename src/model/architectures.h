#pragma once
// One function per architecture (one file each): reads the file's hyperparameters into `hp` and
// says, layer by layer, which blocks the model is made of. registry.cc maps general.architecture
// to them; Model (model.h) binds and runs what they describe.

#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/layer_spec.h"

namespace hearth::model {

using ArchitectureFn = ModelSpec (*)(const gguf::File& file, HParams& hp);

ModelSpec llama_spec(const gguf::File& file, HParams& hp);
ModelSpec qwen2_spec(const gguf::File& file, HParams& hp);
ModelSpec qwen3_spec(const gguf::File& file, HParams& hp);
ModelSpec qwen3moe_spec(const gguf::File& file, HParams& hp);
ModelSpec deepseek2_spec(const gguf::File& file, HParams& hp);
ModelSpec gemma2_spec(const gguf::File& file, HParams& hp);
ModelSpec gemma3_spec(const gguf::File& file, HParams& hp);
ModelSpec phi3_spec(const gguf::File& file, HParams& hp);
ModelSpec gpt_oss_spec(const gguf::File& file, HParams& hp);     // gpt_oss.cc
ModelSpec bert_spec(const gguf::File& file, HParams& hp);        // bert.cc
ModelSpec nomic_bert_spec(const gguf::File& file, HParams& hp);  // bert.cc

// Each layer's sliding window (0: the whole context) as the file's architecture spec says, without
// loading weights (the KV estimate: kv_cache_bytes_by_layer); encoders' are 0 (no ring). Errors
// as load_model's.
std::vector<int64_t> layer_windows(const gguf::File& file);

// bert, nomic-bert: encoders (encoder.cc): no output head, whole sequences per pass.
bool is_encoder_architecture(const std::string& arch);

// Every layer the same: GQA attention and a dense SwiGLU FFN of the sizes and RoPE in hp (the
// starting point of the llama family's specs).
ModelSpec uniform_decoder_spec(const HParams& hp);

}  // namespace hearth::model
