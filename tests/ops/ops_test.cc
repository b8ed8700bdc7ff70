// Each op against its plain reference (ops/*_ref), over odd sizes; threaded ops give identical
// results for 1, 2 and 3 threads.

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "quant/fp16.h"
#include "quant/type_traits.h"
#include "util/thread_pool.h"
#include "random_vec.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

TEST(Ops, RmsNormMatchesReference) {
  for (int64_t n : {1, 7, 64, 257}) {
    auto x = random_vec(3 * n, n), w = random_vec(n, n + 1);
    std::vector<float> a(3 * n), b(3 * n);
    rmsnorm(x.data(), w.data(), 3, n, 1e-5f, a.data());
    rmsnorm_ref(x.data(), w.data(), 3, n, 1e-5f, b.data());
    EXPECT_LT(max_abs_diff(a.data(), b.data(), a.size()), 1e-5) << n;
    // Unit weights: the mean square of the output is 1 (up to eps).
    rmsnorm(x.data(), nullptr, 1, n, 0.0f, a.data());
    double ms = 0;
    for (int64_t i = 0; i < n; ++i) ms += a[i] * a[i];
    EXPECT_NEAR(ms / n, 1.0, 1e-5);
  }
}

TEST(Ops, SoftmaxAndSwigluMatchReference) {
  auto x = random_vec(101, 3, 20.0f);
  std::vector<double> ref(101);
  softmax_ref(x.data(), 101, ref.data());
  softmax(x.data(), 101);
  double sum = 0;
  for (int i = 0; i < 101; ++i) {
    EXPECT_NEAR(x[i], ref[i], 1e-6);
    sum += x[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  auto g = random_vec(33, 4, 8.0f), u = random_vec(33, 5);
  std::vector<float> a(33), b(33);
  swiglu(g.data(), u.data(), 33, a.data());
  swiglu_ref(g.data(), u.data(), 33, b.data());
  EXPECT_LT(max_abs_diff(a.data(), b.data(), 33), 1e-5);
  EXPECT_NEAR(a[0], g[0] / (1 + std::exp(-g[0])) * u[0], 1e-5);
}

TEST(Ops, RopeMatchesReferenceInEveryMode) {
  std::vector<float> factors = {1, 1.5f, 2, 3, 4, 6, 8, 8};
  for (RopeMode mode : {RopeMode::normal, RopeMode::neox}) {
    for (int variant = 0; variant < 4; ++variant) {
      RopeParams p;
      p.mode = mode;
      p.n_dims = variant == 1 ? 8 : 16;  // partial rotary: 8 of 16 dims
      p.freq_base = 10000.0f;
      if (variant == 2) {
        p.freq_scale = 0.25f;
        p.freq_factors = factors.data();
      }
      if (variant == 3) {  // YaRN
        p.freq_scale = 1.0f / 40.0f;
        p.ext_factor = 1.0f;
        p.n_ctx_orig = 4096;
      }
      for (int64_t pos : {0, 1, 17, 3000}) {
        auto x = random_vec(3 * 16, pos + variant);
        auto y = x;
        rope(x.data(), 3, 16, pos, p);
        rope_ref(y.data(), 3, 16, pos, p);
        EXPECT_LT(max_abs_diff(x.data(), y.data(), x.size()), 2e-6);
        if (pos == 0 && variant != 3) {
          EXPECT_EQ(x, random_vec(3 * 16, pos + variant));
        }
        if (variant == 1) {  // dims past n_dims pass through
          auto orig = random_vec(3 * 16, pos + variant);
          for (int h = 0; h < 3; ++h) {
            for (int i = 8; i < 16; ++i) EXPECT_EQ(x[h * 16 + i], orig[h * 16 + i]);
          }
        }
      }
    }
  }
}

TEST(Ops, RopeRotatesTheRightPairs) {
  // One head, base such that theta_0 = 1 rad per position: pair 0 rotated by pos radians.
  RopeParams p;
  p.n_dims = 4;
  p.freq_base = 10000.0f;
  std::vector<float> x = {1, 0, 0, 0};
  p.mode = RopeMode::normal;  // pair (0, 1)
  rope(x.data(), 1, 4, 2, p);
  EXPECT_NEAR(x[0], std::cos(2.0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(2.0), 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  x = {1, 0, 0, 0};
  p.mode = RopeMode::neox;  // pair (0, 2)
  rope(x.data(), 1, 4, 2, p);
  EXPECT_NEAR(x[0], std::cos(2.0), 1e-6);
  EXPECT_NEAR(x[2], std::sin(2.0), 1e-6);
  EXPECT_EQ(x[1], 0.0f);
}

struct KvData {
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16;
};

TEST(Ops, AttentionMatchesReferenceWithGqaAndBothCacheTypes) {
  AttentionShape s;
  s.n_head = 6;
  s.n_head_kv = 2;
  s.head_dim_k = 12;
  s.head_dim_v = 10;
  s.k_stride = s.n_head_kv * s.head_dim_k + 3;  // padded rows
  s.v_stride = s.n_head_kv * s.head_dim_v;
  s.scale = 1.0f / std::sqrt(12.0f);
  const int64_t n_pos = 70;
  KvData kv;
  kv.k32 = random_vec(n_pos * s.k_stride, 11, 2.0f);
  kv.v32 = random_vec(n_pos * s.v_stride, 12);
  for (float f : kv.k32) kv.k16.push_back(quant::f32_to_fp16(f));
  for (float f : kv.v32) kv.v16.push_back(quant::f32_to_fp16(f));
  const int n_rows = 8;  // enough work that the pool is used
  auto q = random_vec(n_rows * s.n_head * s.head_dim_k, 13, 2.0f);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
    s.kv_type = type;
    const void* k = type == GgmlType::F32 ? static_cast<const void*>(kv.k32.data()) : kv.k16.data();
    const void* v = type == GgmlType::F32 ? static_cast<const void*>(kv.v32.data()) : kv.v16.data();
    std::vector<float> out(n_rows * s.n_head * s.head_dim_v), ref(out.size());
    std::vector<AttentionRow> rows(n_rows), ref_rows(n_rows);
    for (int r = 0; r < n_rows; ++r) {
      rows[r] = {q.data() + r * s.n_head * s.head_dim_k, k, v, 1 + r * 9,
                 out.data() + r * s.n_head * s.head_dim_v};
      ref_rows[r] = rows[r];
      ref_rows[r].out = ref.data() + r * s.n_head * s.head_dim_v;
    }
    attention_ref(s, ref_rows.data(), n_rows);
    for (int threads : {1, 2, 3}) {
      global_thread_pool(threads);
      std::vector<float> prev = out;
      attention(s, rows.data(), n_rows);
      EXPECT_LT(max_abs_diff(out.data(), ref.data(), out.size()), 1e-5);
      if (threads > 1) {
        EXPECT_EQ(out, prev);
      }
    }
    global_thread_pool(1);
    // One position: the output is that position's V of the right KV head.
    AttentionRow one = rows[0];
    attention(s, &one, 1);
    for (int h = 0; h < s.n_head; ++h) {
      const int kvh = h / 3;
      for (int i = 0; i < s.head_dim_v; ++i) {
        const float want = type == GgmlType::F32 ? kv.v32[kvh * s.head_dim_v + i]
                                                 : quant::fp16_to_f32(kv.v16[kvh * s.head_dim_v + i]);
        EXPECT_FLOAT_EQ(out[h * s.head_dim_v + i], want);
      }
    }
  }
}

// Activation quantization error allowed relative to the row scale (see the model tests' budget).
double matmul_bound(GgmlType t) {
  const GgmlType act = quant::traits(t).vec_dot_type;
  if (act == GgmlType::F32) return 1e-5;
  return 2e-2;
}

TEST(Ops, MatmulMatchesReferenceForEveryTypeAndThreadCount) {
  const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                            GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                            GgmlType::Q6_K};
  for (GgmlType t : types) {
    if (!matmul_supports(t)) continue;
    const quant::TypeTraits& tr = quant::traits(t);
    const int64_t n_cols = tr.block_elems == 256 ? 512 : 96;
    const int64_t n_rows = 45;  // not a multiple of the task or tile size
    auto src = random_vec(n_rows * n_cols, static_cast<uint64_t>(t) + 7);
    std::vector<uint8_t> wq(n_rows * n_cols / tr.block_elems * tr.block_bytes);
    tr.from_float(src.data(), wq.data(), n_rows * n_cols);
    Matrix w{t, n_cols, n_rows, n_cols / tr.block_elems * tr.block_bytes, wq.data()};
    for (int64_t n_tok : {1, 6}) {
      auto x = random_vec(n_tok * n_cols, 99);
      std::vector<float> ref(n_tok * n_rows), y(n_tok * n_rows), first;
      matmul_ref(w, x.data(), n_tok, ref.data());
      double scale = 0;
      for (float r : ref) scale = std::max(scale, std::fabs(static_cast<double>(r)));
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        matmul(w, x.data(), n_tok, y.data());
        EXPECT_LT(max_abs_diff(y.data(), ref.data(), y.size()) / scale, matmul_bound(t))
            << gguf::type_name(t) << " n_tok " << n_tok;
        if (first.empty()) first = y;
        EXPECT_EQ(y, first) << gguf::type_name(t) << " threads " << threads;
      }
      global_thread_pool(1);
    }
    // Embedding lookup is the dequantized row.
    std::vector<float> row(n_cols), deq(n_rows * n_cols);
    tr.to_float(wq.data(), deq.data(), n_rows * n_cols);
    dequantize_row(w, 44, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), deq.data() + 44 * n_cols, n_cols * sizeof(float)));
  }
}

}  // namespace
}  // namespace hearth::ops
