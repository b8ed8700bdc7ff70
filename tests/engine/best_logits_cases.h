#pragma once
// What the best-logits tests share (tests/engine/runner_best_logits_test.cc on the CPU,
// tests/vulkan/vulkan_best_logits_test.cc on the device): sampling settings a row's best logits
// serve, the model they run, and the tokens a Runner generates for each setting over seeds.

#include <memory>
#include <string>
#include <vector>

#include "engine/runner.h"

namespace hearth::engine::testing {

// The tiny Qwen2 model (random weights, the real 151,936-entry vocabulary: flat distributions,
// so the draws spread over many tokens) placed as `p` (num_gpu 0: nothing else offloaded).
inline std::unique_ptr<Runner> load_tiny_qwen(const model::Placement& p, int device_sampling, int num_parallel = 1) {
  LoadOptions o;
  o.num_ctx = 256;
  o.num_thread = 2;
  o.num_gpu = 0;
  o.num_parallel = num_parallel;
  o.placement = p;
  o.device_sampling = device_sampling;
  return Runner::load(std::string(HEARTH_TESTDATA_DIR) + "/qwen2-tiny-q8_0.gguf", o);
}
inline const std::vector<int32_t> kTinyQwenPrompt = {151646, 40, 1000, 52000, 7, 300};

struct SamplingCase {
  std::string name;
  sample::SamplerOptions o;
};

inline std::vector<SamplingCase> best_logits_cases() {
  std::vector<SamplingCase> cases;
  sample::SamplerOptions o;
  o.temperature = 0.0f;
  cases.push_back({"greedy", o});
  o = sample::SamplerOptions{};  // Ollama's defaults: top_k 40, temperature 0.8, top_p 0.9
  cases.push_back({"top_k 40 temperature 0.8 top_p 0.9", o});
  o.top_p = 1.0f;
  o.min_p = 0.1f;
  o.temperature = 1.5f;
  cases.push_back({"top_k 40 min_p 0.1 temperature 1.5", o});
  o = sample::SamplerOptions{};
  o.top_k = 64;
  o.typical_p = 0.8f;
  cases.push_back({"top_k 64 typical_p 0.8", o});
  return cases;
}

// The generated tokens of `prompt` + n for each case and seed 1..seeds, in that order.
inline std::vector<std::vector<int32_t>> generated_tokens(Runner& r, const std::vector<int32_t>& prompt, int seeds,
                                                          int n) {
  std::vector<std::vector<int32_t>> out;
  for (const SamplingCase& c : best_logits_cases()) {
    for (int seed = 1; seed <= seeds; ++seed) {
      CompletionRequest req;
      req.prompt = prompt;
      req.sampling = c.o;
      req.sampling.seed = seed;
      req.num_predict = n;
      const CompletionResult res = r.complete(req);
      out.emplace_back(res.context.begin() + static_cast<long>(prompt.size()), res.context.end());
    }
  }
  return out;
}

}  // namespace hearth::engine::testing
