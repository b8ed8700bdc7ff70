#pragma once
// Elements of KV cache rows quantized as Q8_0 or Q4_0 (OLLAMA_KV_CACHE_TYPE=q8_0 / q4_0): rows of
// `width` elements, whole 32-element blocks, `width / 32 * block bytes` bytes each; and the int8
// blocks attention quantizes its queries to over Q8_0 keys. Header-only and allocation-free so
// the attention tier files (attention_tile.h) may include it.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gguf/ggml_type.h"
#include "quant/fp16.h"

namespace hearth::ops {

// Bytes of one cache row of `width` elements of an F32/F16/Q8_0/Q4_0 cache.
static inline int64_t kv_row_bytes(gguf::GgmlType t, int64_t width) {
  switch (t) {
    case gguf::GgmlType::F32: return width * 4;
    case gguf::GgmlType::F16: return width * 2;
    case gguf::GgmlType::Q8_0: return width / 32 * 34;
    case gguf::GgmlType::Q4_0: return width / 32 * 18;
    default: return 0;
  }
}

// Element e of a Q8_0 (d, 32 x int8) or Q4_0 (d, 16 bytes: low nibbles 0..15, high 16..31,
// offset 8) row.
static inline float kv_quant_at(const uint8_t* row, bool q8, int64_t e) {
  const int64_t blk = e / 32, i = e % 32;
  const uint8_t* b = row + blk * (q8 ? 34 : 18);
  uint16_t h;
  std::memcpy(&h, b, 2);
  const float d = quant::fp16_to_f32(h);
  if (q8) return d * static_cast<float>(static_cast<int8_t>(b[2 + i]));
  const uint8_t q = b[2 + (i & 15)];
  return d * static_cast<float>((i < 16 ? (q & 15) : (q >> 4)) - 8);
}

// Elements [offset, offset + d) of a row into o, a block at a time (one scale conversion per
// block; the element loops vectorize in the tier files that include this).
static inline void kv_quant_row(const uint8_t* row, bool q8, int64_t offset, int64_t d, float* o) {
  const int64_t block_bytes = q8 ? 34 : 18;
  for (int64_t e = offset, end = offset + d; e < end;) {
    const int64_t i0 = e % 32, n = (32 - i0) < (end - e) ? (32 - i0) : (end - e);
    const uint8_t* b = row + (e / 32) * block_bytes;
    uint16_t h;
    std::memcpy(&h, b, 2);
    const float scale = quant::fp16_to_f32(h);
    float* out = o + (e - offset);
    if (q8) {
      const int8_t* q = reinterpret_cast<const int8_t*>(b + 2) + i0;
      for (int64_t i = 0; i < n; ++i) out[i] = scale * static_cast<float>(q[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = i0 + i;
        const uint8_t q = b[2 + (k & 15)];
        out[i] = scale * static_cast<float>((k < 16 ? (q & 15) : (q >> 4)) - 8);
      }
    }
    e += n;
  }
}

// A query's block of 32 (already multiplied by the attention scale) as int8 codes, for the
// integer dot products with Q8_0 keys: d = max|x| / 127 (a float, not rounded to F16 as in a
// Q8_0 block), code = x / d rounded to nearest (ties to even), so |code| <= 127 and
// |x - d * code| <= d / 2 = max|x| / 254. Returns d. A block whose largest is below 1e-30
// (zeros, or so small that 1 / d would overflow) gets d = 0 and codes 0: it adds at most
// 1e-30 x sum |k| to a score. Plain scalar code, the same on every tier, so every tier sees the
// same codes.
static inline float kv_quantize_query_block(const float* x, int8_t* q) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (!(amax >= 1e-30f)) {
    std::memset(q, 0, 32);
    return 0.0f;
  }
  const float d = amax / 127.0f;
  const float id = 1.0f / d;
  for (int i = 0; i < 32; ++i) {
    const float r = std::nearbyint(x[i] * id);
    q[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
  }
  return d;
}

// The queries as the Q8_0 key path computes with them: n values (a whole number of blocks of
// 32, each inside one head), each block of x * scale quantized as above and brought back to the
// unscaled domain: out = d * code / scale. Feeding these to attention_ref gives what the kernel
// computes up to float rounding (tests).
static inline void kv_query_as_quantized(const float* x, int64_t n, float scale, float* out) {
  for (int64_t b = 0; b + 32 <= n; b += 32) {
    float xs[32];
    int8_t code[32];
    for (int i = 0; i < 32; ++i) xs[i] = x[b + i] * scale;
    const float d = kv_quantize_query_block(xs, code);
    for (int i = 0; i < 32; ++i) out[b + i] = d * static_cast<float>(code[i]) / scale;
  }
}

}  // namespace hearth::ops
