#pragma once
// Ollama's rules for a context that is full (its llama-server runner, and the runners before it):
// which tokens a too-long prompt keeps, and how many tokens a generation that reaches num_ctx
// drops. Both keep the first `keep` tokens (the request's num_keep, resolved by
// context_keep) and free about half of the rest.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hearth::engine {

// The tokens at the start that survive truncation and shifts: num_keep, plus the BOS the
// tokenizer puts first (llama-server counts num_keep after it); a negative num_keep keeps the
// whole prompt. Capped at num_ctx - 1, so that a shift can always drop a token.
int context_keep(int num_keep, size_t prompt_tokens, bool adds_bos, int num_ctx);

// A prompt of num_ctx tokens or more does not fit (one position must stay free to generate).
inline bool prompt_fits(size_t prompt_tokens, int num_ctx) {
  return prompt_tokens < static_cast<size_t>(num_ctx > 0 ? num_ctx : 0);
}

// A prompt that does not fit keeps its first `keep` tokens and its newest tail, num_ctx -
// max((num_ctx - keep) / 2, 1) tokens in all: half of what follows `keep` is free to generate
// into, as after the first context shift (Ollama's contextShiftPromptLimit).
std::vector<int32_t> cut_prompt(const std::vector<int32_t>& tokens, int num_ctx, int keep);

// Tokens a full context of `n` drops after its first `keep`: half of the rest, at least one.
size_t shift_discard(size_t n, int keep);

}  // namespace hearth::engine
