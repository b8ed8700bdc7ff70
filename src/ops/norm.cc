#include "ops/norm.h"

#include <algorithm>
#include <cmath>

#include "ops/activation_kernels.h"
#include "util/thread_pool.h"

namespace hearth::ops {

void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* out) {
  const ActivationKernels& k = activation_kernels(cpu_tier());
  auto rows = [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) k.rmsnorm_row(x + r * n, w, n, eps, out + r * n);
  };
  // Rows are independent: the split never changes results.
  if (n_rows == 1 || n_rows * n < (1 << 15)) {
    rows(0, n_rows, 0);
  } else {
    global_thread_pool().parallel_for(n_rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)), rows);
  }
}

void rmsnorm_ref(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + static_cast<double>(eps));
    for (int64_t i = 0; i < n; ++i) {
      const double wi = w != nullptr ? static_cast<double>(w[i]) : 1.0;
      out[r * n + i] = static_cast<float>(static_cast<double>(x[r * n + i]) * scale * wi);
    }
  }
}

namespace {

// One row in float with eight partial sums (the compiler vectorises independent accumulators; a
// single running sum would serialise on its own latency). n up to a few thousand: float sums of
// centred values lose nothing an embedding can see (tested against the double specification).
void layernorm_row(const float* x, const float* w, const float* b, int64_t n, float eps, float* out) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += x[i];
  for (float a : acc) sum += a;
  const float mean = sum / static_cast<float>(n);
  float sq[8] = {};
  for (i = 0; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) {
      const float d = x[i + j] - mean;
      sq[j] += d * d;
    }
  }
  float var = 0.0f;
  for (; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  for (float a : sq) var += a;
  const float scale = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
  for (i = 0; i < n; ++i) {
    float v = (x[i] - mean) * scale;
    if (w != nullptr) v *= w[i];
    if (b != nullptr) v += b[i];
    out[i] = v;
  }
}

}  // namespace

void layernorm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n,
               float eps, float* out) {
  auto rows = [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) layernorm_row(x + r * n, w, b, n, eps, out + r * n);
  };
  if (n_rows == 1 || n_rows * n < (1 << 15)) {
    rows(0, n_rows, 0);
  } else {
    global_thread_pool().parallel_for(n_rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)), rows);
  }
}

void layernorm_ref(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n,
                   float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    double mean = 0.0;
    for (int64_t i = 0; i < n; ++i) mean += xr[i];
    mean /= static_cast<double>(n);
    double var = 0.0;
    for (int64_t i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    const double scale = 1.0 / std::sqrt(var / static_cast<double>(n) + static_cast<double>(eps));
    for (int64_t i = 0; i < n; ++i) {
      double v = (xr[i] - mean) * scale;
      if (w != nullptr) v *= w[i];
      if (b != nullptr) v += b[i];
      out[r * n + i] = static_cast<float>(v);
    }
  }
}

}  // namespace hearth::ops
