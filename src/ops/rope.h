#pragma once
// Rotary position embedding over the heads of one token: each pair of dimensions (i, i') of a head
// is rotated by the angle pos * theta_i. Angles are computed in double, once per token, so every
// head and every thread count sees the same cos/sin; the rotation runs the tier's vector kernel
// (activation_kernels.h).

#include <cstdint>

namespace hearth::ops {

enum class RopeMode {
  normal,  // pairs (2i, 2i+1): llama (GGUF llama weights are permuted for this)
  neox,    // pairs (i, i + n_dims/2): qwen2, qwen3, GPT-NeoX
};

struct RopeParams {
  RopeMode mode = RopeMode::normal;
  int n_dims = 0;              // rotated dimensions per head (<= head_dim; the rest pass through)
  float freq_base = 10000.0f;  // theta_i = base^(-2i / n_dims)
  float freq_scale = 1.0f;     // linear scaling: positions are multiplied by this (1 / factor)
  const float* freq_factors = nullptr;  // Llama 3 rope_freqs: theta_i /= factors[i], n_dims/2 values
  // YaRN (ext_factor > 0): blend interpolated and extrapolated angles per dimension, and scale.
  float ext_factor = 0.0f;
  float attn_factor = 1.0f;  // magnitude scale applied to cos and sin
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int n_ctx_orig = 0;  // the context the model was trained at (YaRN correction range)
};

// cos_sin: 2 * (n_dims / 2) floats [cos0, sin0, cos1, sin1, ...] for one position.
void rope_angles(const RopeParams& p, int64_t pos, float* cos_sin);

// x: [n_heads, head_dim], rotated in place at position pos.
void rope(float* x, int n_heads, int64_t head_dim, int64_t pos, const RopeParams& p);

// x: [n_tok, n_heads * head_dim], token t rotated at pos[t]. The cos/sin of the batch's positions
// are kept per thread and reused while the parameters and positions stay the same (every layer
// of a forward pass, q and k alike). Splits big batches over the global thread pool (call it
// from outside pool tasks); results do not depend on the thread count.
void rope_batch(float* x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
                const RopeParams& p);

// The specification: angles and rotation in double, straight from the definition.
void rope_ref(float* x, int n_heads, int64_t head_dim, int64_t pos, const RopeParams& p);

}  // namespace hearth::ops
