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

}  // namespace hearth::ops
