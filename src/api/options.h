#pragma once
// Ollama's runtime `options` (ollama-compat.md section 3): every field optional so that the
// layers (defaults, the model's PARAMETERs, the request) overlay each other. Unknown keys are
// ignored as Ollama does (some clients still send options Ollama removed); a wrong type is a 400.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sample/sampler.h"

namespace hearth::api {

using Json = nlohmann::ordered_json;

struct Options {
  // Load-time.
  std::optional<int> num_ctx, num_batch, num_gpu, main_gpu, num_thread;
  std::optional<bool> use_mmap;
  // Per request.
  std::optional<int> num_predict, top_k, repeat_last_n, num_keep;
  std::optional<int64_t> seed;
  std::optional<float> temperature, top_p, min_p, typical_p, repeat_penalty, presence_penalty,
      frequency_penalty;
  std::optional<std::vector<std::string>> stop;

  // Reads a JSON object of options. Throws Error(invalid_argument) for a known key of the wrong
  // type ("option \"top_k\" must be of type integer"). Unknown keys are appended to `ignored`.
  static Options parse(const Json& obj, std::vector<std::string>* ignored = nullptr);
  // Fields set in `top` replace ours.
  void overlay(const Options& top);

  sample::SamplerOptions sampling() const;
};

}  // namespace hearth::api
