// K-quant weight quantizers. Per super-block: fit every sub-block's scale (and min) by least
// squares (scale_search.h), quantize those to the format's 6- or 4-bit sub-scales against one fp16
// super-scale, then for each sub-block pick the neighbouring sub-scale codes (floor or ceil) whose
// re-rounded levels give the smallest squared error. The last step recovers most of what the
// coarse sub-scales lose, which is where a max/abs quantizer spends its error.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_scales.h"
#include "quant/ref/k_unpack.h"
#include "quant/ref/kernels_ref.h"
#include "quant/ref/scale_search.h"

namespace hearth::quant {
namespace {

float fp16_round(float v) { return fp16_to_f32(f32_to_fp16(v)); }

// Candidate codes for value v in units of step: floor and ceil, clamped to [lo, hi].
void neighbours(float v, float step, int lo, int hi, int out[2]) {
  if (step == 0.0f || !(v == v)) {
    out[0] = out[1] = std::clamp(0, lo, hi);
    return;
  }
  const float t = v / step;
  const float f = std::floor(std::clamp(t, static_cast<float>(lo), static_cast<float>(hi)));
  out[0] = std::clamp(static_cast<int>(f), lo, hi);
  out[1] = std::clamp(static_cast<int>(f) + 1, lo, hi);
}

// Scale-and-min super-block (Q2_K, Q4_K, Q5_K): n_sub sub-blocks of sub_len elements, levels
// [0, nmax], sub-scale codes [0, code_max].
struct AsymResult {
  float d, dmin;
  uint8_t sc[16], m[16];
  uint8_t L[kQK_K];
};

void quantize_asym(const float* x, int n_sub, int sub_len, int nmax, int code_max, AsymResult* r) {
  float scales[16], mins[16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < n_sub; ++j) {
    scales[j] = fit_scale_min(x + j * sub_len, sub_len, nmax, r->L + j * sub_len, &mins[j]);
    max_scale = std::fmax(max_scale, scales[j]);
    max_min = std::fmax(max_min, mins[j]);
  }
  r->d = fp16_round(max_scale / static_cast<float>(code_max));
  r->dmin = fp16_round(max_min / static_cast<float>(code_max));
  uint8_t trial[32];
  for (int j = 0; j < n_sub; ++j) {
    int cs[2], cm[2];
    neighbours(scales[j], r->d, 0, code_max, cs);
    neighbours(mins[j], r->dmin, 0, code_max, cm);
    float best = INFINITY;
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const float s = r->d * static_cast<float>(cs[a]), m = r->dmin * static_cast<float>(cm[b]);
        const float err = requantize_scale_min(x + j * sub_len, sub_len, nmax, s, m, trial);
        if (err < best) {
          best = err;
          r->sc[j] = static_cast<uint8_t>(cs[a]);
          r->m[j] = static_cast<uint8_t>(cm[b]);
          std::memcpy(r->L + j * sub_len, trial, static_cast<size_t>(sub_len));
        }
      }
    }
  }
}

// Scale-only super-block (Q3_K, Q6_K): 16 sub-blocks of 16, levels [-nmax, nmax - 1], signed
// sub-scale codes [-code_neg, code_neg - 1].
struct SymResult {
  float d;
  int sc[16];
  int8_t L[kQK_K];
};

void quantize_sym(const float* x, int nmax, int code_neg, SymResult* r) {
  float scales[16];
  float max = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = fit_scale_sym(x + 16 * j, 16, nmax, r->L + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      max = scales[j];
    }
  }
  // The largest sub-scale takes the code -code_neg, the one extra negative code.
  r->d = fp16_round(max / static_cast<float>(-code_neg));
  int8_t trial[16];
  for (int j = 0; j < 16; ++j) {
    int c[2];
    neighbours(scales[j], r->d, -code_neg, code_neg - 1, c);
    float best = INFINITY;
    for (int a = 0; a < 2; ++a) {
      const float err = requantize_sym(x + 16 * j, 16, nmax, r->d * static_cast<float>(c[a]), trial);
      if (err < best) {
        best = err;
        r->sc[j] = c[a];
        std::memcpy(r->L + 16 * j, trial, 16);
      }
    }
  }
}

}  // namespace

void quantize_q2_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    quantize_asym(src, 16, 16, 3, 15, &r);
    b[i].d = f32_to_fp16(r.d);
    b[i].dmin = f32_to_fp16(r.dmin);
    for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<uint8_t>(r.sc[j] | (r.m[j] << 4));
    pack_q2_k(r.L, &b[i]);
  }
}

void quantize_q3_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  SymResult r;
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    quantize_sym(src, 4, 32, &r);
    b[i].d = f32_to_fp16(r.d);
    uint8_t biased[16];
    for (int j = 0; j < 16; ++j) biased[j] = static_cast<uint8_t>(r.sc[j] + 32);
    pack_scales_q3_k(biased, b[i].scales);
    pack_q3_k(r.L, &b[i]);
  }
}

void quantize_q4_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    quantize_asym(src, 8, 32, 15, 63, &r);
    b[i].d = f32_to_fp16(r.d);
    b[i].dmin = f32_to_fp16(r.dmin);
    pack_scale_min_k4(r.sc, r.m, b[i].scales);
    pack_q4_k(r.L, &b[i]);
  }
}

void quantize_q5_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    quantize_asym(src, 8, 32, 31, 63, &r);
    b[i].d = f32_to_fp16(r.d);
    b[i].dmin = f32_to_fp16(r.dmin);
    pack_scale_min_k4(r.sc, r.m, b[i].scales);
    pack_q5_k(r.L, &b[i]);
  }
}

void quantize_q6_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  SymResult r;
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    quantize_sym(src, 32, 128, &r);
    b[i].d = f32_to_fp16(r.d);
    for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<int8_t>(r.sc[j]);
    pack_q6_k(r.L, &b[i]);
  }
}

}  // namespace hearth::quant
