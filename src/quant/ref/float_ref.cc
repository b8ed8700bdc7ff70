// Float formats. Rows may be misaligned (a tensor at any offset of a mapped file), so elements are
// read with memcpy, which compiles to plain loads.

#include <cstring>

#include "quant/fp16.h"
#include "quant/ref/kernels_ref.h"

namespace hearth::quant {
namespace {

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void dequantize_f32_ref(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f32_ref(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16_ref(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(load_u16(p + 2 * i));
}

void quantize_f16_ref(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_fp16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

void dequantize_bf16_ref(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(p + 2 * i));
}

void quantize_bf16_ref(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_bf16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

// The float dots accumulate in double: as the oracle they should carry no rounding of their own
// worth speaking of; the SIMD tiers use several float accumulators.
float dot_f32_f32_ref(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const uint8_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(load_f32(pw + 4 * i)) * load_f32(pa + 4 * i);
  return static_cast<float>(sum);
}

float dot_f16_f32_ref(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const uint8_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(fp16_to_f32(load_u16(pw + 2 * i))) * load_f32(pa + 4 * i);
  }
  return static_cast<float>(sum);
}

float dot_bf16_f32_ref(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const uint8_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(bf16_to_f32(load_u16(pw + 2 * i))) * load_f32(pa + 4 * i);
  }
  return static_cast<float>(sum);
}

}  // namespace hearth::quant
