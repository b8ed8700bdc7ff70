#pragma once
// The pieces the tiny-model writers share: a portable generator and a builder that writes random
// tensors to a GGUF writer while keeping their dequantized values for the reference.

#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "quant/type_traits.h"
#include "tiny_model.h"

namespace hearth::model::testing {

// splitmix64: a tiny portable generator, so the weights are the same everywhere.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53 * 2.0 - 1.0; }  // [-1,1)
};

struct Builder {
  gguf::Writer writer;
  RefWeights* weights;
  Rng rng;
  std::string skip;

  // Random values (uniform in [center - scale, center + scale]) quantized to `type`; the reference
  // keeps the dequantized values.
  void add(const std::string& name, gguf::GgmlType type, std::vector<int64_t> ne, double scale,
           double center = 0.0) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    std::vector<float> src(static_cast<size_t>(n));
    for (auto& v : src) v = static_cast<float>(center + scale * rng.uniform());
    const quant::TypeTraits& ref = quant::traits(type, CpuTier::ref);
    const size_t bytes = static_cast<size_t>(n / ref.block_elems * ref.block_bytes);
    std::vector<uint8_t> q(bytes);
    ref.from_float(src.data(), q.data(), n);
    RefTensor t;
    t.ne = ne;
    std::vector<float> deq(static_cast<size_t>(n));
    ref.to_float(q.data(), deq.data(), n);
    t.value.assign(deq.begin(), deq.end());
    if (name != skip) writer.add_tensor(name, type, std::move(ne), q.data(), bytes);
    (*weights)[name] = std::move(t);
  }
};

inline double rms_scale(int64_t n_cols) { return std::sqrt(3.0 / static_cast<double>(n_cols)); }

inline void rmsnorm(std::vector<double>& x, size_t off, size_t n, const std::vector<double>& g, double eps) {
  double ss = 0.0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double r = 1.0 / std::sqrt(ss / n + eps);
  for (size_t i = 0; i < n; ++i) x[off + i] = x[off + i] * r * g[i];
}

}  // namespace hearth::model::testing
