// K-quant dequantization and dot products against Q8_K, and the Q8_K activation quantizer.
// Per super-block the integer part of a dot is exact (int32 cannot overflow: 256 elements of
// |q| <= 63 times |scale| <= 128 times |a| <= 127 stays below 2^30); blocks are summed in float.

#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_scales.h"
#include "quant/ref/k_unpack.h"
#include "quant/ref/kernels_ref.h"
#include "quant/ref/rounding.h"

namespace hearth::quant {
namespace {

int dot16(const int8_t* q, const int8_t* a) {
  int s = 0;
  for (int l = 0; l < 16; ++l) s += q[l] * a[l];
  return s;
}

int dot16u(const uint8_t* q, const int8_t* a) {
  int s = 0;
  for (int l = 0; l < 16; ++l) s += q[l] * a[l];
  return s;
}

void unpack_q4_k_scales(const uint8_t* s, int sc[8], int m[8]) {
  for (int j = 0; j < 8; ++j) {
    uint8_t a, b;
    unpack_scale_min_k4(s, j, &a, &b);
    sc[j] = a;
    m[j] = b;
  }
}

}  // namespace

void dequantize_q2_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  uint8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    unpack_q2_k(b[i], q);
    for (int e = 0; e < kQK_K; ++e) {
      const uint8_t sc = b[i].scales[e / 16];
      dst[e] = d * static_cast<float>(sc & 0xf) * q[e] - dmin * static_cast<float>(sc >> 4);
    }
  }
}

void dequantize_q3_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  int8_t q[kQK_K], sc[16];
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = fp16_to_f32(b[i].d);
    unpack_q3_k(b[i], q);
    unpack_scales_q3_k(b[i].scales, sc);
    for (int e = 0; e < kQK_K; ++e) dst[e] = d * static_cast<float>(sc[e / 16]) * q[e];
  }
}

void dequantize_q4_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  uint8_t q[kQK_K];
  int sc[8], m[8];
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    unpack_q4_k(b[i], q);
    unpack_q4_k_scales(b[i].scales, sc, m);
    for (int e = 0; e < kQK_K; ++e) {
      dst[e] = d * static_cast<float>(sc[e / 32]) * q[e] - dmin * static_cast<float>(m[e / 32]);
    }
  }
}

void dequantize_q5_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  uint8_t q[kQK_K];
  int sc[8], m[8];
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    unpack_q5_k(b[i], q);
    unpack_q4_k_scales(b[i].scales, sc, m);
    for (int e = 0; e < kQK_K; ++e) {
      dst[e] = d * static_cast<float>(sc[e / 32]) * q[e] - dmin * static_cast<float>(m[e / 32]);
    }
  }
}

void dequantize_q6_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = fp16_to_f32(b[i].d);
    unpack_q6_k(b[i], q);
    for (int e = 0; e < kQK_K; ++e) dst[e] = d * static_cast<float>(b[i].scales[e / 16]) * q[e];
  }
}

void dequantize_q8_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const float d = b[i].d;
    for (int e = 0; e < kQK_K; ++e) dst[e] = d * static_cast<float>(b[i].qs[e]);
  }
}

// x = d * q with q in [-127, 127] (symmetric, so the SIMD kernels may negate q freely).
void quantize_q8_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    float amax = 0.0f;
    for (int e = 0; e < kQK_K; ++e) amax = std::fmax(amax, std::fabs(src[e]));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int8_t qs[kQK_K];
    for (int e = 0; e < kQK_K; ++e) qs[e] = static_cast<int8_t>(round_clamp(src[e] * id, -127, 127));
    b[i].d = amax / 127.0f;
    std::memcpy(b[i].qs, qs, kQK_K);
    for (int j = 0; j < kQK_K / 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += qs[16 * j + l];
      b[i].bsums[j] = static_cast<int16_t>(s);
    }
  }
}

float dot_q2_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[kQK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q2_k(x[i], q);
    int isum = 0, msum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (x[i].scales[j] & 0xf) * dot16u(q + 16 * j, y[i].qs + 16 * j);
      msum += (x[i].scales[j] >> 4) * y[i].bsums[j];
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * static_cast<float>(isum) -
                     fp16_to_f32(x[i].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q3_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[kQK_K], sc[16];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q3_k(x[i], q);
    unpack_scales_q3_k(x[i].scales, sc);
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += sc[j] * dot16(q + 16 * j, y[i].qs + 16 * j);
    sum += y[i].d * fp16_to_f32(x[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[kQK_K];
  int sc[8], m[8];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q4_k(x[i], q);
    unpack_q4_k_scales(x[i].scales, sc, m);
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      isum += sc[j] * (dot16u(q + 32 * j, y[i].qs + 32 * j) + dot16u(q + 32 * j + 16, y[i].qs + 32 * j + 16));
      msum += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * static_cast<float>(isum) -
                     fp16_to_f32(x[i].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q5_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[kQK_K];
  int sc[8], m[8];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q5_k(x[i], q);
    unpack_q4_k_scales(x[i].scales, sc, m);
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      isum += sc[j] * (dot16u(q + 32 * j, y[i].qs + 32 * j) + dot16u(q + 32 * j + 16, y[i].qs + 32 * j + 16));
      msum += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * static_cast<float>(isum) -
                     fp16_to_f32(x[i].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q6_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[kQK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q6_k(x[i], q);
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += x[i].scales[j] * dot16(q + 16 * j, y[i].qs + 16 * j);
    sum += y[i].d * fp16_to_f32(x[i].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace hearth::quant
