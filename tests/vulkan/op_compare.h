#pragma once
// What the shader tests share: a Vulkan backend beside the scalar CPU one ("cpu-ref") on the
// test device (NEED_DEVICE skips, saying so, where there is none), random inputs, tensors on
// both backends, quantized random weights, and element-wise comparison.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/compute_backend.h"
#include "quant/type_traits.h"
#include "test_device.h"

// In a test of namespace hearth: gpu and ref, or the test is skipped.
#define NEED_DEVICE()                                    \
  NEED_VULKAN();                                         \
  auto gpu = model::make_compute_backend(vk);            \
  auto ref = model::make_compute_backend("cpu-ref")

namespace hearth::vulkan::testing {

inline std::vector<float> normal(size_t n, uint32_t seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

inline void expect_near(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol) << what << " at " << i;
  }
}

struct Both {
  ops::Tensor g, r;
};

inline Both f32(ops::Backend& gpu, ops::Backend& ref, const std::vector<float>& v, int64_t cols, int64_t rows) {
  return {gpu.upload_f32(v.data(), cols, rows), ref.upload_f32(v.data(), cols, rows)};
}
inline Both empty(ops::Backend& gpu, ops::Backend& ref, int64_t cols, int64_t rows) {
  return {gpu.alloc(gguf::GgmlType::F32, cols, rows), ref.alloc(gguf::GgmlType::F32, cols, rows)};
}
inline std::vector<float> read(ops::Backend& be, const ops::Tensor& t, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  be.read(t, n, v.data());
  return v;
}

// Every weight type the shaders read, with a row length it allows (F32's and F16's end inside a
// chunk of 32).
struct WeightCase {
  gguf::GgmlType type;
  int64_t cols;
};
inline constexpr WeightCase kWeightCases[] = {
    {gguf::GgmlType::F32, 75},   {gguf::GgmlType::F16, 100},  {gguf::GgmlType::BF16, 64},
    {gguf::GgmlType::Q8_0, 96},  {gguf::GgmlType::Q4_0, 64},  {gguf::GgmlType::Q4_1, 64},
    {gguf::GgmlType::Q5_0, 96},  {gguf::GgmlType::Q5_1, 64},  {gguf::GgmlType::Q4_K, 512},
    {gguf::GgmlType::Q6_K, 256}, {gguf::GgmlType::Q2_K, 256}, {gguf::GgmlType::Q3_K, 512},
    {gguf::GgmlType::Q5_K, 256}, {gguf::GgmlType::MXFP4, 96}};

struct Weight {
  std::vector<uint8_t> bytes;
  int64_t row_bytes;
};
inline Weight quantize(gguf::GgmlType t, int64_t cols, int64_t rows, uint32_t seed) {
  const quant::TypeTraits& tr = quant::traits(t);
  const auto src = normal(static_cast<size_t>(cols * rows), seed);
  Weight w;
  w.row_bytes = cols / tr.block_elems * tr.block_bytes;
  w.bytes.resize(static_cast<size_t>(w.row_bytes * rows));
  for (int64_t r = 0; r < rows; ++r) tr.from_float(src.data() + r * cols, w.bytes.data() + r * w.row_bytes, cols);
  return w;
}

}  // namespace hearth::vulkan::testing
