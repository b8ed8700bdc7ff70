#pragma once
// Helpers of the shader tests (vulkan_ops_test.cc, vulkan_kv_quant_test.cc): the device and the
// scalar CPU reference side by side (NEED_DEVICE), random inputs, tensors on both, comparisons.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/compute_backend.h"
#include "ops/backend.h"
#include "test_device.h"

namespace hearth::vulkan::testing {

using gguf::GgmlType;

#define NEED_DEVICE()                                                        \
  const int dev = test_device();                                             \
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device (install mesa-vulkan-drivers)"; \
  auto gpu = model::make_compute_backend("vulkan:" + std::to_string(dev));   \
  auto ref = model::make_compute_backend("cpu-ref")

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
  return {gpu.alloc(GgmlType::F32, cols, rows), ref.alloc(GgmlType::F32, cols, rows)};
}
inline std::vector<float> read(ops::Backend& be, const ops::Tensor& t, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  be.read(t, n, v.data());
  return v;
}

}  // namespace hearth::vulkan::testing
