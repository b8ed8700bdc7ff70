#pragma once
// The element-wise kernels of activation_kernels.h written once over a vector type S, and the
// scalar vector type of the ref tier. Each tier's file instantiates them with its own S (Avx2,
// Avx512: x86/*/simd_*.h); everything is `static` so each tier keeps its own symbols.
//
// e^x in the vector tiers (S::exp): x = n ln2 + r with n = round(x / ln2) and r in
// [-ln2/2, ln2/2] (Cody-Waite: ln2 split into a 16-bit head and a tail so n ln2 is exact), e^r by
// its Taylor polynomial of degree 7 (truncation below 5e-9 relative), scaled by 2^n built in the
// exponent bits. Measured max relative error over [-87, 88]: 7.7e-8, about 1 ulp (the test
// sweeps 2M points and bounds it at 1.5e-7). Inputs below -87.34 give 0 (not subnormals), -inf
// gives 0, inputs above 88 give e^88, NaN stays NaN.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "quant/fp16.h"

namespace hearth::ops {

// The ref tier's "vector": one float, libm's exp. Baseline x86-64 only.
struct ScalarSimd {
  using V = float;
  static constexpr int kLanes = 1;
  static constexpr int kScoreRows = 4;
  static constexpr int kAccRows = 4;
  static constexpr int kAccVecs = 8;
  static constexpr int kTileScoreRows = 4;  // query rows x tiles of 16 keys
  static constexpr int kTileScoreTiles = 1;

  static V zero() { return 0.0f; }
  static V set1(float x) { return x; }
  // The f16 at p (any alignment) in every lane.
  static V set1_f16(const void* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return quant::fp16_to_f32(h);
  }
  static V load(const float* p) { return *p; }
  static V load(const uint16_t* p) { return quant::fp16_to_f32(*p); }
  static V load(const int8_t* p) { return static_cast<float>(*p); }
  static void store(float* p, V v) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V swap_pairs(V v) { return v; }  // unused: one lane has no pairs
  static float hsum(V v) { return v; }
  static float hmax(V v) { return v; }
  static void hsum4(V a, V b, V c, V d, float* out) {
    out[0] = a, out[1] = b, out[2] = c, out[3] = d;
  }
  static void f16_to_f32(const uint16_t* src, int64_t n, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = quant::fp16_to_f32(src[i]);
  }
  static double sum_squares(const float* x, int64_t n) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    return ss;
  }
  static V exp(V x) { return std::exp(x); }
};

template <class S>
static void exp_row_t(const float* x, int64_t n, float* out) {
  constexpr int64_t L = S::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) S::store(out + i, S::exp(S::load(x + i)));
  if (i < n) {  // the tail through a padded vector: every element gets the same approximation
    float buf[L] = {};
    std::memcpy(buf, x + i, static_cast<size_t>(n - i) * sizeof(float));
    S::store(buf, S::exp(S::load(buf)));
    std::memcpy(out + i, buf, static_cast<size_t>(n - i) * sizeof(float));
  }
}

template <class S>
static typename S::V silu_mul(typename S::V g, typename S::V u) {
  const typename S::V e = S::exp(S::sub(S::zero(), g));
  return S::mul(S::div(g, S::add(S::set1(1.0f), e)), u);
}

template <class S>
static void swiglu_t(const float* gate, const float* up, int64_t n, float* out) {
  constexpr int64_t L = S::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) S::store(out + i, silu_mul<S>(S::load(gate + i), S::load(up + i)));
  if (i < n) {
    float g[L] = {}, u[L] = {};
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(float);
    std::memcpy(g, gate + i, bytes);
    std::memcpy(u, up + i, bytes);
    S::store(g, silu_mul<S>(S::load(g), S::load(u)));
    std::memcpy(out + i, g, bytes);
  }
}

// gpt-oss's SwiGLU: g = min(gate, limit), u = clamp(up, -limit, limit),
// out = g / (1 + e^(-alpha g)) * (u + 1). min(a, b) is -max(-a, -b) (S has max only).
template <class S>
static typename S::V swiglu_oai_v(typename S::V g, typename S::V u, float alpha, float limit) {
  using V = typename S::V;
  const V neg_lim = S::set1(-limit), zero = S::zero();
  g = S::sub(zero, S::max(S::sub(zero, g), neg_lim));
  u = S::max(S::sub(zero, S::max(S::sub(zero, u), neg_lim)), neg_lim);
  const V e = S::exp(S::mul(S::set1(-alpha), g));
  return S::mul(S::div(g, S::add(S::set1(1.0f), e)), S::add(u, S::set1(1.0f)));
}

template <class S>
static void swiglu_oai_t(const float* gate, const float* up, int64_t n, float alpha, float limit,
                         float* out) {
  constexpr int64_t L = S::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    S::store(out + i, swiglu_oai_v<S>(S::load(gate + i), S::load(up + i), alpha, limit));
  }
  if (i < n) {
    float g[L] = {}, u[L] = {};
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(float);
    std::memcpy(g, gate + i, bytes);
    std::memcpy(u, up + i, bytes);
    S::store(g, swiglu_oai_v<S>(S::load(g), S::load(u), alpha, limit));
    std::memcpy(out + i, g, bytes);
  }
}

template <class S>
static void add_t(float* y, const float* x, int64_t n) {
  constexpr int64_t L = S::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) S::store(y + i, S::add(S::load(y + i), S::load(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

template <class S>
static void rmsnorm_row_t(const float* x, const float* w, int64_t n, float eps, float* out) {
  constexpr int64_t L = S::kLanes;
  const double ss = S::sum_squares(x, n);
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  const typename S::V vs = S::set1(scale);
  int64_t i = 0;
  if (w != nullptr) {
    for (; i + L <= n; i += L) S::store(out + i, S::mul(S::mul(S::load(x + i), vs), S::load(w + i)));
    for (; i < n; ++i) out[i] = x[i] * scale * w[i];
  } else {
    for (; i + L <= n; i += L) S::store(out + i, S::mul(S::load(x + i), vs));
    for (; i < n; ++i) out[i] = x[i] * scale;
  }
}

template <class S>
static void rope_rotate_t(float* x, int n_heads, int64_t head_dim, int n_dims, bool neox,
                          const float* a, const float* b) {
  constexpr int L = S::kLanes;
  for (int h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    int i = 0;
    if (neox) {
      const int half = n_dims / 2;
      float* xh1 = xh + half;
      for (; i + L <= half; i += L) {
        const auto x0 = S::load(xh + i), x1 = S::load(xh1 + i);
        const auto c = S::load(a + i), s = S::load(b + i);
        S::store(xh + i, S::sub(S::mul(x0, c), S::mul(x1, s)));
        S::store(xh1 + i, S::add(S::mul(x0, s), S::mul(x1, c)));
      }
      for (; i < half; ++i) {
        const float x0 = xh[i], x1 = xh1[i];
        xh[i] = x0 * a[i] - x1 * b[i];
        xh1[i] = x0 * b[i] + x1 * a[i];
      }
    } else {
      if constexpr (L > 1) {
        for (; i + L <= n_dims; i += L) {
          const auto xv = S::load(xh + i);
          S::store(xh + i, S::add(S::mul(xv, S::load(a + i)), S::mul(S::swap_pairs(xv), S::load(b + i))));
        }
      }
      for (; i + 1 < n_dims; i += 2) {
        const float x0 = xh[i], x1 = xh[i + 1];
        xh[i] = x0 * a[i] + x1 * b[i];
        xh[i + 1] = x1 * a[i + 1] + x0 * b[i + 1];
      }
    }
  }
}

// Fills a kernel table with the instantiations for S.
template <class S, class Table>
static void fill_activation_kernels(Table& k) {
  k.exp_row = exp_row_t<S>;
  k.swiglu = swiglu_t<S>;
  k.swiglu_oai = swiglu_oai_t<S>;
  k.add = add_t<S>;
  k.rmsnorm_row = rmsnorm_row_t<S>;
  k.rope_rotate = rope_rotate_t<S>;
}

}  // namespace hearth::ops
