#pragma once
// The per-tier element-wise kernels behind activation.h, norm.h and rope.h: written once over a
// vector type (activation_simd.h) and compiled per tier (ref: scalar baseline x86-64; avx2;
// avx512). activation_kernels(cpu_tier()) picks one (HEARTH_CPU pins it). They work on one row
// or one range; the callers split big batches over the thread pool.

#include <cstdint>

#include "util/cpu_features.h"

namespace hearth::ops {

struct ActivationKernels {
  const char* isa = "ref";
  // out[i] = e^x[i] (the vector tiers' approximation: activation_simd.h states its error).
  void (*exp_row)(const float* x, int64_t n, float* out) = nullptr;
  // out[i] = silu(gate[i]) * up[i]; out may alias gate or up.
  void (*swiglu)(const float* gate, const float* up, int64_t n, float* out) = nullptr;
  // gpt-oss's clamped SwiGLU (activation.h swiglu_oai); out may alias gate or up.
  void (*swiglu_oai)(const float* gate, const float* up, int64_t n, float alpha, float limit,
                     float* out) = nullptr;
  // y[i] += x[i]
  void (*add)(float* y, const float* x, int64_t n) = nullptr;
  // One row: out = x / sqrt(mean(x^2) + eps) * w (w may be null); sum of squares in double.
  void (*rmsnorm_row)(const float* x, const float* w, int64_t n, float eps, float* out) = nullptr;
  // Rotates n_heads heads of one token, a and b from the position's angles:
  //   neox: a = cos[n_dims / 2], b = sin[n_dims / 2]; pairs (i, i + n_dims / 2);
  //   normal: a = (c0, c0, c1, c1, ...), b = (-s0, s0, -s1, s1, ...) [n_dims]; pairs (2i, 2i+1).
  void (*rope_rotate)(float* x, int n_heads, int64_t head_dim, int n_dims, bool neox,
                      const float* a, const float* b) = nullptr;
};

const ActivationKernels& activation_kernels(CpuTier tier);

// Tier entry points (x86/avx2, x86/avx512): overwrite what they have a faster version of.
void register_activation_avx2(ActivationKernels& k);
void register_activation_avx512(ActivationKernels& k);

}  // namespace hearth::ops
