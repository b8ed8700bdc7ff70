#pragma once
// Log-probabilities of the model's own distribution over the vocabulary (log-softmax of the raw
// logits, before any sampler step), as Ollama's `logprobs` / `top_logprobs` report them.

#include <cstdint>
#include <span>
#include <vector>

namespace hearth::sample {

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct Logprobs {
  TokenLogprob chosen;            // the token that was picked
  std::vector<TokenLogprob> top;  // the `top` most likely tokens, most likely first, ties by id
};

// `logits` holds one value per vocabulary entry; NaN counts as -inf. O(n_vocab + n_vocab·log top).
Logprobs logprobs_of(std::span<const float> logits, int32_t chosen, int top);

}  // namespace hearth::sample
