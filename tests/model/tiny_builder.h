#pragma once
// The pieces the tiny-model writers and references share (RandomTensors, tiny_model.h, writes the
// tensors): the weights' scale and the reference's RMSNorm.

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

}  // namespace hearth::model::testing
