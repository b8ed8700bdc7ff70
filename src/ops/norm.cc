#include "ops/norm.h"

#include <cmath>

namespace hearth::ops {

void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    if (w != nullptr) {
      for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * w[i];
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale;
    }
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
