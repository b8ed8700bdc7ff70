#pragma once
// The pieces the tiny-model writers and references share (RandomTensors, tiny_model.h, writes the
// tensors): the weights' scale and the reference's RMSNorm.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "quant/type_traits.h"
#include "tiny_model.h"

namespace hearth::model::testing {

inline double rms_scale(int64_t n_cols) { return std::sqrt(3.0 / static_cast<double>(n_cols)); }

inline void rmsnorm(std::vector<double>& x, size_t off, size_t n, const std::vector<double>& g, double eps) {
  double ss = 0.0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double r = 1.0 / std::sqrt(ss / n + eps);
  for (size_t i = 0; i < n; ++i) x[off + i] = x[off + i] * r * g[i];
}

// The rotation angle of pair i of a d-wide RoPE part at `pos`, with YaRN when factor > 0: the
// interpolated angle (pos / factor) blended towards the original one for the high-frequency
// pairs, by a ramp between the pairs that turn 32 and 1 times within the original context
// (deepseek2, gpt-oss).
inline double yarn_angle(int64_t pos, int64_t i, int64_t d, double base, double factor, int64_t orig_ctx) {
  const double extrap = static_cast<double>(pos) * std::pow(base, -2.0 * i / static_cast<double>(d));
  if (factor <= 0.0) return extrap;
  const double pi = 3.14159265358979323846;
  auto corr = [&](double turns) {
    return d * std::log(static_cast<double>(orig_ctx) / (turns * 2.0 * pi)) / (2.0 * std::log(base));
  };
  const double lo = std::max(0.0, std::floor(corr(32.0)));
  const double hi = std::min(static_cast<double>(d - 1), std::ceil(corr(1.0)));
  const double y = (static_cast<double>(i) - lo) / std::max(0.001, hi - lo);
  const double keep = 1.0 - std::clamp(y, 0.0, 1.0);  // 1: extrapolate (original angle)
  const double interp = extrap / factor;
  return interp * (1.0 - keep) + extrap * keep;
}

}  // namespace hearth::model::testing
