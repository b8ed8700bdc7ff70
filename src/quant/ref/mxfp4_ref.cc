// MXFP4 (blocks.h, fp4.h): dequantize, quantize, and the dot against Q8_0 activations.
// The quantizer follows ggml's reference rule, so a tensor we write is the bytes llama.cpp writes
// for the same floats: the shared exponent is floor(log2(max|x|)) - 2 (the largest code, 6 = 1.5
// * 2^2, then covers the block's extreme within one binade), each element takes the nearest of
// the 16 codes (the first of equals, so +0 over -0).

#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/fp4.h"
#include "quant/ref/kernels_ref.h"

namespace hearth::quant {
namespace {

uint8_t nearest_fp4(float x, float d) {
  int best = 0;
  float best_err = std::fabs(kFp4Doubled[0] * d - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(kFp4Doubled[i] * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return static_cast<uint8_t>(best);
}

}  // namespace

void dequantize_mxfp4_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockMxfp4*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = e8m0_half(b[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = kFp4Doubled[b[i].qs[j] & 0xf] * d;
      dst[j + kQK / 2] = kFp4Doubled[b[i].qs[j] >> 4] * d;
    }
  }
}

void quantize_mxfp4_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockMxfp4*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    // Exponent codes stay in [0, 254]: below 2^-125 the block rounds to the smallest scale,
    // infinities and NaN (which ggml does not define) to the largest finite one.
    float e = amax > 0.0f ? std::floor(std::log2(amax)) - 2.0f + 127.0f : 0.0f;
    e = e < 0.0f ? 0.0f : (e > 254.0f || std::isnan(e) ? 254.0f : e);
    b[i].e = static_cast<uint8_t>(e);
    const float d = e8m0_half(b[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      b[i].qs[j] = static_cast<uint8_t>(nearest_fp4(src[j], d) | (nearest_fp4(src[j + kQK / 2], d) << 4));
    }
  }
}

float dot_mxfp4_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockMxfp4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += kFp4Doubled[x[i].qs[j] & 0xf] * y[i].qs[j];
      isum += kFp4Doubled[x[i].qs[j] >> 4] * y[i].qs[j + kQK / 2];
    }
    sum += e8m0_half(x[i].e) * fp16_to_f32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace hearth::quant
