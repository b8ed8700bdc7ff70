// The 32-element formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the activation format Q8_1.
// Quantizers follow ggml's reference rules (scale from the block's extreme value, nearest level),
// so a tensor we write matches what llama.cpp writes for the same floats.

#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/ref/kernels_ref.h"
#include "quant/ref/rounding.h"

namespace hearth::quant {
namespace {

// The element of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* lo, float* hi) {
  *lo = x[0];
  *hi = x[0];
  for (int j = 1; j < n; ++j) {
    if (x[j] < *lo) *lo = x[j];
    if (x[j] > *hi) *hi = x[j];
  }
}

uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

// Unpacks a block's 4-bit (plus optional fifth bit) codes into q[32], element order.
void unpack_nibbles(const uint8_t* qs, uint32_t qh, int q[kQK]) {
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
  }
}

void pack_nibbles(const int q[kQK], uint8_t* qs, uint8_t* qh /* nullable */) {
  uint32_t high = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0xf) | ((q[j + kQK / 2] & 0xf) << 4));
    high |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    high |= static_cast<uint32_t>((q[j + kQK / 2] >> 4) & 1) << (j + 16);
  }
  if (qh != nullptr) std::memcpy(qh, &high, 4);
}

// Symmetric: x = d * (q - zero) with q in [0, 2 * zero - 1]; the extreme element maps to q = 0.
float quantize_symmetric(const float* x, int zero, int q[kQK]) {
  const float max = signed_absmax(x, kQK);
  const float d = max / static_cast<float>(-zero);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  // floor(v + 0.5): the extreme lands at exactly 0.5 - 0.5 = 0, so it never rounds to -1.
  for (int j = 0; j < kQK; ++j) {
    q[j] = round_clamp(std::floor(x[j] * id + static_cast<float>(zero) + 0.5f), 0, 2 * zero - 1);
  }
  return d;
}

// Affine: x = d * q + m with q in [0, levels].
void quantize_affine(const float* x, int levels, int q[kQK], float* d_out, float* m_out) {
  float lo, hi;
  min_max(x, kQK, &lo, &hi);
  const float d = (hi - lo) / static_cast<float>(levels);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) q[j] = round_clamp(std::floor((x[j] - lo) * id + 0.5f), 0, levels);
  *d_out = d;
  *m_out = lo;
}

// Q8: x = d * q, q in [-127, 127] (never -128, which the SIMD sign tricks cannot take).
float quantize_q8(const float* x, int8_t* qs) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) qs[j] = static_cast<int8_t>(round_clamp(x[j] * id, -127, 127));
  return d;
}

int dot_i8_32(const int8_t* a, const int8_t* b) {
  int sum = 0;
  for (int j = 0; j < kQK; ++j) sum += a[j] * b[j];
  return sum;
}

}  // namespace

void dequantize_q4_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d);
    unpack_nibbles(b[i].qs, 0, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j] - 8);
  }
}

void quantize_q4_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = f32_to_fp16(quantize_symmetric(src, 8, q));
    pack_nibbles(q, b[i].qs, nullptr);
  }
}

void dequantize_q4_1_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    unpack_nibbles(b[i].qs, 0, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j]) + m;
  }
}

void quantize_q4_1_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d, m;
    quantize_affine(src, 15, q, &d, &m);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(m);
    pack_nibbles(q, b[i].qs, nullptr);
  }
}

void dequantize_q5_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d);
    unpack_nibbles(b[i].qs, load_qh(b[i].qh), q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j] - 16);
  }
}

void quantize_q5_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = f32_to_fp16(quantize_symmetric(src, 16, q));
    pack_nibbles(q, b[i].qs, b[i].qh);
  }
}

void dequantize_q5_1_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    unpack_nibbles(b[i].qs, load_qh(b[i].qh), q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j]) + m;
  }
}

void quantize_q5_1_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d, m;
    quantize_affine(src, 31, q, &d, &m);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(m);
    pack_nibbles(q, b[i].qs, b[i].qh);
  }
}

void dequantize_q8_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void quantize_q8_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    int8_t qs[kQK];
    b[i].d = f32_to_fp16(quantize_q8(src, qs));
    std::memcpy(b[i].qs, qs, kQK);
  }
}

void dequantize_q8_1_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void quantize_q8_1_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    int8_t qs[kQK];
    const float d = quantize_q8(src, qs);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += qs[j];
    std::memcpy(b[i].qs, qs, kQK);
    b[i].d = f32_to_fp16(d);
    b[i].s = f32_to_fp16(d * static_cast<float>(sum));
  }
}

// Each block's integer dot is exact; the blocks are summed in float, in order.
float dot_q4_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_nibbles(x[i].qs, 0, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 8) * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_1_q8_1_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_nibbles(x[i].qs, 0, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(isum) +
           fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

float dot_q5_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_nibbles(x[i].qs, load_qh(x[i].qh), q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 16) * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q5_1_q8_1_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  int q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_nibbles(x[i].qs, load_qh(x[i].qh), q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(isum) +
           fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

float dot_q8_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) *
           static_cast<float>(dot_i8_32(x[i].qs, y[i].qs));
  }
  return sum;
}

}  // namespace hearth::quant
