#pragma once
// The random-gguf gpt-oss file whose greedy tokens llama.cpp recorded, shared by
// llamacpp_agreement_test.cc (the CPU backend; it says how they were recorded) and
// tests/vulkan/vulkan_gpt_oss_test.cc (the Vulkan backend): biases, sinks, a window of 4 on
// layers 0 and 2 (the 43 positions run far past it), YaRN x32 over 128 positions, the router's
// softmax over the chosen logits; expert gate/up std 0.5, so the SwiGLU clamp at 7 cuts many
// values. The 32 ids are llama.cpp's (2026-12-06, 34af94cd) for the --type f32 file after
// kLlamaCppPrompt ("Once upon a time" in stories260K's vocabulary), F16 cache of 512 positions.

#include <cstdint>
#include <vector>

namespace hearth::model::testing {

inline const std::vector<int32_t> kLlamaCppPrompt = {1, 438, 113, 346, 318, 115, 265, 263, 260, 326, 104};

inline const char* const kGptOssLlamaCppArgs =
    "--arch gpt-oss --n-embd 256 --n-layer 3 --n-head 4 --n-head-kv 2 --head-dim 64 --n-ff 128"
    " --n-expert 8 --n-expert-used 2 --n-ctx 4096 --window 4 --rope-base 150000 --std 0.08"
    " --expert-std 0.5 --seed 11";

inline const std::vector<int32_t> kGptOssLlamaCppIds = {
    407, 163, 508, 157, 141, 167, 274, 197, 282, 100, 254, 324, 42,  173, 34,  83,
    372, 90,  473, 159, 303, 298, 117, 495, 29,  296, 164, 187, 267, 250, 297, 72};

// llama.cpp's logit of each chosen token (greedy-llama's second column).
inline const std::vector<float> kGptOssLlamaCppTopLogits = {
    4.075268f, 3.435999f, 3.948011f, 3.676429f, 4.624338f, 3.110208f, 3.727656f, 3.982786f,
    4.234575f, 3.629830f, 3.722040f, 4.011284f, 4.371698f, 4.432567f, 4.095698f, 3.779565f,
    3.874892f, 3.914948f, 4.025259f, 3.386189f, 4.491178f, 4.827204f, 3.728476f, 3.500805f,
    3.791647f, 3.737701f, 3.642148f, 3.898667f, 3.917398f, 4.110098f, 3.711791f, 3.454038f};

}  // namespace hearth::model::testing
