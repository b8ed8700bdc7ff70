#pragma once
// The random-gguf gpt-oss file whose greedy tokens llama.cpp recorded, shared by
// llamacpp_agreement_test.cc (the CPU backend; it says how they were recorded) and
// tests/vulkan/vulkan_gpt_oss_test.cc (the Vulkan backend): biases, sinks, a window of 4 on
// layers 0 and 2 (the 35 positions run far past it), YaRN x32 over 128 positions, the router's
// softmax over the chosen logits; expert gate/up std 0.5, so the SwiGLU clamp at 7 cuts many
// values. The ids are llama.cpp's (2026-12-06, 34af94cd) for the --type f32 file after
// kLlamaCppPrompt ("Once upon a time" in stories260K's vocabulary), F16 cache of 512 positions.

#include <cstdint>
#include <vector>

namespace hearth::model::testing {

inline const std::vector<int32_t> kLlamaCppPrompt = {1, 438, 113, 346, 318, 115, 265, 263, 260, 326, 104};

inline const char* const kGptOssLlamaCppArgs =
    "--arch gpt-oss --n-embd 256 --n-layer 3 --n-head 4 --n-head-kv 2 --head-dim 64 --n-ff 128"
    " --n-expert 8 --n-expert-used 2 --n-ctx 4096 --window 4 --rope-base 150000 --std 0.08"
    " --expert-std 0.5 --seed 11";

inline const std::vector<int32_t> kGptOssLlamaCppIds = {407, 163, 508, 157, 141, 167, 274, 197,
                                                        282, 100, 254, 324, 42,  173, 34,  83,
                                                        372, 90,  473, 159, 303, 298, 117, 495};

}  // namespace hearth::model::testing
