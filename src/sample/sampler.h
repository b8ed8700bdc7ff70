#pragma once
// The sampler chain: penalties over recent tokens, then (unless greedy) top_k -> typical_p ->
// top_p -> min_p -> temperature -> a seeded draw. The order is llama.cpp's default chain, which
// Ollama's llama.cpp-backed runner uses; each filter keeps at least one token.
// Options and defaults are Ollama's (ollama-compat.md section 3).

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "sample/rng.h"

namespace hearth::sample {

struct SamplerOptions {
  float temperature = 0.8f;     // <= 0: greedy argmax (ties to the lowest id)
  int top_k = 40;               // <= 0: off
  float top_p = 0.9f;           // >= 1: off
  float min_p = 0.0f;           // <= 0: off
  float typical_p = 1.0f;       // >= 1: off
  float repeat_penalty = 1.0f;  // 1: off; must be > 0
  int repeat_last_n = 64;       // tokens of history penalised; 0 = off, -1 = num_ctx
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int64_t seed = -1;            // -1: a fresh random seed per Sampler; otherwise reproducible
};

// One surviving token and its probability after the whole chain.
struct Candidate {
  int32_t id;
  float logit;
  float p;
};

class Sampler {
 public:
  // num_ctx resolves repeat_last_n = -1. Throws Error(invalid_argument) on options no sampler
  // can honour (NaN, repeat_penalty <= 0, repeat_last_n < -1, num_ctx < 0).
  explicit Sampler(const SamplerOptions& options, int num_ctx = 0);

  // Picks the next token from the model's logits (one per vocabulary entry; not modified).
  // Never throws; an all -inf/NaN row yields token 0.
  int32_t sample(std::span<const float> logits);
  // Sampling from a row's best logits only (a device backend then reads those back instead of
  // the whole row): how many of them sample() needs to pick exactly the token it would pick from
  // all n_vocab, best first by logit, ties by lower id, NaN as -inf: 1 when greedy, top_k (at most
  // n_vocab) when top_k is on; 0 when it needs the whole row (penalties with a history to apply
  // them to, top_k off). The filters after top_k (typical_p, top_p, min_p, temperature) only
  // ever see top_k's survivors, so they need nothing more.
  int best_needed(int64_t n_vocab) const;
  // sample() of a row of n_vocab logits given its best ones in that order (at least
  // best_needed(n_vocab) of them; the rest are ignored): the same token and the same random
  // step. Needs best_needed(n_vocab) > 0.
  int32_t sample_best(std::span<const Candidate> best, int64_t n_vocab);
  // Records a token (prompt or generated) in the penalty history.
  void accept(int32_t token);
  // Clears the history and restarts the random sequence from the seed.
  void reset();

  // The steps of sample(), exposed for tests and for logprobs:
  // penalties applied in place to a copy of the logits...
  bool penalizes() const;  // some penalty is on and there is history to apply it to
  void apply_penalties(std::span<float> logits) const;
  // ...and the final distribution the draw is made from (sorted by logit, ties by id,
  // probabilities summing to 1). A greedy sampler returns the argmax alone with p = 1.
  std::vector<Candidate> distribution(std::span<const float> logits) const;

  const SamplerOptions& options() const { return opts_; }
  uint64_t seed() const { return seed_; }  // the seed in use (drawn when options.seed is -1)
  bool greedy() const { return opts_.temperature <= 0.0f; }

 private:
  void filter(std::vector<Candidate>& c) const;
  void compute(std::span<const float> logits, std::vector<Candidate>& c) const;
  int32_t draw(const std::vector<Candidate>& c);

  SamplerOptions opts_;
  int window_ = 0;  // resolved repeat_last_n
  uint64_t seed_ = 0;
  Rng rng_;
  std::deque<int32_t> history_;  // the last window_ tokens
  mutable std::vector<float> scratch_;
  std::vector<Candidate> candidates_;  // reused by sample(): no per-token allocation
};

}  // namespace hearth::sample
