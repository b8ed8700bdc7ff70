#include "ops/activation.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ops/activation_kernels.h"
#include "ops/activation_simd.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

// Element-wise work below this many elements stays on the calling thread (a decode step's
// vectors); above it, contiguous chunks go to the pool. Each element is computed the same way
// in any chunk, so the split never changes results.
constexpr int64_t kParallelElems = 1 << 15;
constexpr int64_t kChunkElems = 1 << 13;

ActivationKernels build_kernels(CpuTier tier) {
  ActivationKernels k;
  fill_activation_kernels<ScalarSimd>(k);
  if (tier >= CpuTier::avx2) register_activation_avx2(k);
  if (tier >= CpuTier::avx512) register_activation_avx512(k);
  return k;
}

}  // namespace

const ActivationKernels& activation_kernels(CpuTier tier) {
  static const std::array<ActivationKernels, 3> tables = {
      build_kernels(CpuTier::ref), build_kernels(std::min(CpuTier::avx2, cpu_max_tier())),
      build_kernels(cpu_max_tier())};
  return tables[static_cast<int>(std::min(tier, cpu_max_tier()))];
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  const ActivationKernels& k = activation_kernels(cpu_tier());
  if (n < kParallelElems) {
    k.swiglu(gate, up, n, out);
    return;
  }
  global_thread_pool().parallel_for(n, kChunkElems, [&](int64_t b, int64_t e, int) {
    k.swiglu(gate + b, up + b, e - b, out + b);
  });
}

void swiglu_ref(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * static_cast<double>(up[i]));
  }
}

void swiglu_oai(const float* gate, const float* up, int64_t n, float alpha, float limit, float* out) {
  const ActivationKernels& k = activation_kernels(cpu_tier());
  if (n < kParallelElems) {
    k.swiglu_oai(gate, up, n, alpha, limit, out);
    return;
  }
  global_thread_pool().parallel_for(n, kChunkElems, [&](int64_t b, int64_t e, int) {
    k.swiglu_oai(gate + b, up + b, e - b, alpha, limit, out + b);
  });
}

void swiglu_oai_ref(const float* gate, const float* up, int64_t n, float alpha, float limit, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = std::min<double>(gate[i], limit);
    const double u = std::clamp<double>(up[i], -limit, limit);
    out[i] = static_cast<float>(g / (1.0 + std::exp(-static_cast<double>(alpha) * g)) * (u + 1.0));
  }
}

void exp_approx(const float* x, int64_t n, float* out) {
  activation_kernels(cpu_tier()).exp_row(x, n, out);
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void softmax_ref(const float* x, int64_t n, double* out) {
  if (n <= 0) return;
  double m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = std::exp(static_cast<double>(x[i]) - m);
    sum += out[i];
  }
  for (int64_t i = 0; i < n; ++i) out[i] /= sum;
}

void add_inplace(float* y, const float* x, int64_t n) {
  const ActivationKernels& k = activation_kernels(cpu_tier());
  if (n < kParallelElems) {
    k.add(y, x, n);
    return;
  }
  global_thread_pool().parallel_for(n, kChunkElems, [&](int64_t b, int64_t e, int) {
    k.add(y + b, x + b, e - b);
  });
}

void add_bias_rows(float* x, const float* b, int64_t n_rows, int64_t n) {
  const ActivationKernels& k = activation_kernels(cpu_tier());
  if (n_rows * n < kParallelElems) {
    for (int64_t r = 0; r < n_rows; ++r) k.add(x + r * n, b, n);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kChunkElems / std::max<int64_t>(n, 1));
  global_thread_pool().parallel_for(n_rows, grain, [&](int64_t rb, int64_t re, int) {
    for (int64_t r = rb; r < re; ++r) k.add(x + r * n, b, n);
  });
}

}  // namespace hearth::ops

namespace hearth::ops {

namespace {

// Plain float loops (no tier kernels yet: Gemma's GeGLU and soft-capping are not hot enough to
// have earned them), split like the others.
template <class F>
void elementwise(int64_t n, F f) {
  if (n < kParallelElems) {
    f(0, n);
    return;
  }
  global_thread_pool().parallel_for(n, kChunkElems, [&](int64_t b, int64_t e, int) { f(b, e); });
}

// GELU, tanh approximation (what GGML's gelu and PyTorch's gelu(approximate="tanh") compute).
template <class T>
T gelu_of(T x) {
  const T c = static_cast<T>(0.7978845608028654);  // sqrt(2 / pi)
  return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::tanh(c * (x + static_cast<T>(0.044715) * x * x * x)));
}

}  // namespace

void gelu(const float* x, int64_t n, float* out) {
  elementwise(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = gelu_of(x[i]);
  });
}

void gelu_ref(const float* x, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(gelu_of<double>(x[i]));
}

void geglu(const float* gate, const float* up, int64_t n, float* out) {
  elementwise(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = gelu_of(gate[i]) * up[i];
  });
}

void geglu_ref(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(gelu_of<double>(gate[i]) * up[i]);
}

void scale(float* x, float s, int64_t n) {
  elementwise(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] *= s;
  });
}

void softcap(float* x, float cap, int64_t n) {
  elementwise(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] = cap * std::tanh(x[i] / cap);
  });
}

void softcap_ref(float* x, float cap, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(cap * std::tanh(static_cast<double>(x[i]) / cap));
  }
}

}  // namespace hearth::ops
