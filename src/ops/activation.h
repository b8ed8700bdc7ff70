#pragma once
// Element-wise activations and vector helpers used between matmuls. The fast versions run the
// kernels of the CPU tier in force (activation_kernels.h) and split big inputs over the global
// thread pool (call them from outside pool tasks); each element is computed the same way in any
// split, so results do not depend on the thread count.

#include <cstdint>

namespace hearth::ops {

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)). out may alias gate or up.
// The vector tiers use their own e^x (activation_simd.h: about 2 ulp).
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void swiglu_ref(const float* gate, const float* up, int64_t n, float* out);

// gpt-oss's SwiGLU variant: g = min(gate, limit), u = clamp(up, -limit, limit),
// out = g * sigmoid(alpha * g) * (u + 1) (the gate clamped from above only; alpha 1.702 and
// limit 7 in gpt-oss). Same e^x as swiglu. out may alias gate or up.
void swiglu_oai(const float* gate, const float* up, int64_t n, float alpha, float limit, float* out);
void swiglu_oai_ref(const float* gate, const float* up, int64_t n, float alpha, float limit, float* out);

// out[i] = e^x[i] with the tier's kernel (what attention's softmax and swiglu use); for tests.
void exp_approx(const float* x, int64_t n, float* out);

// Numerically stable softmax in place over n values (max subtracted; sum kept in double).
void softmax(float* x, int64_t n);
void softmax_ref(const float* x, int64_t n, double* out);

// GELU (tanh approximation) and GeGLU: out[i] = gelu(gate[i]) * up[i]. out may alias an input.
void gelu(const float* x, int64_t n, float* out);
void gelu_ref(const float* x, int64_t n, float* out);
void geglu(const float* gate, const float* up, int64_t n, float* out);
void geglu_ref(const float* gate, const float* up, int64_t n, float* out);

// x[i] *= s (exact in any split: one rounding per element, so it is its own specification).
void scale(float* x, float s, int64_t n);
// x[i] = cap * tanh(x[i] / cap)
void softcap(float* x, float cap, int64_t n);
void softcap_ref(float* x, float cap, int64_t n);

// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);
// rows of x ([n_rows, n]) each get b ([n]) added.
void add_bias_rows(float* x, const float* b, int64_t n_rows, int64_t n);

}  // namespace hearth::ops
