// The backend ops MLA adds, fast CPU backend against the scalar one ("cpu-ref"): attention over a
// latent cache (no V tensor: the values are the first head_dim_v columns of each key row), in
// DeepSeek-V3's sizes (keys 512 + 64, values 512, 16 query heads on one latent), F32, F16 and
// Q8_0 caches, a prompt of 37 rows then a lone decode row far enough in to take the split path;
// and copy_cols between layouts.
//
// Tolerance: as tests/ops/attention_test.cc (both sides read the same cached values; float sums
// against double), 1e-5 on outputs that are convex combinations of values in [-1, 1]. Over the
// Q8_0 cache the fast kernel quantizes each scaled query block of 32 to int8 (the integer key
// path of attention_tile.h), so the reference is fed those quantized queries
// (kv_query_as_quantized); the error of that rounding itself is bounded in attention_test.cc
// (QuantizedQueriesOverQ8Keys: measured 3.6e-3 at these sizes).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/backend.h"
#include "ops/kv_quant.h"
#include "util/thread_pool.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

std::vector<float> uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> read(Backend& be, const Tensor& t, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  be.read(t, n, v.data());
  return v;
}

TEST(LatentAttention, FastMatchesReferenceInDeepSeekV3Sizes) {
  global_thread_pool(2);
  const int64_t L = 512, R = 64, W = L + R, H = 16, n_ctx = 1300;
  AttentionShape s;
  s.n_head = static_cast<int>(H);
  s.n_head_kv = 1;
  s.head_dim_k = W;
  s.head_dim_v = L;
  s.scale = 1.0f / std::sqrt(192.0f);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
    std::unique_ptr<Backend> fast = make_backend("cpu"), ref = make_backend("cpu-ref");
    KvView cf{fast->alloc(type, W, n_ctx), {}, n_ctx}, cr{ref->alloc(type, W, n_ctx), {}, n_ctx};
    auto run = [&](int32_t first, int32_t n, uint32_t seed, bool attend = true) {
      std::vector<int32_t> pos(static_cast<size_t>(n)), seq(static_cast<size_t>(n), 0);
      for (int32_t i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = first + i;
      const SeqRows rows{pos.data(), seq.data(), n};
      const auto kv = uniform(n * W, seed), q = uniform(n * H * W, seed + 1);
      const Tensor kf = fast->upload_f32(kv.data(), W, n), kr = ref->upload_f32(kv.data(), W, n);
      std::vector<float> q_ref = q;  // what the fast kernel reads: quantized over a Q8_0 cache
      if (type == GgmlType::Q8_0) kv_query_as_quantized(q.data(), n * H * W, s.scale, q_ref.data());
      const Tensor qf = fast->upload_f32(q.data(), H * W, n), qr = ref->upload_f32(q_ref.data(), H * W, n);
      const Tensor of = fast->alloc(GgmlType::F32, H * L, n), orf = ref->alloc(GgmlType::F32, H * L, n);
      fast->store_kv(cf, kf, kf, rows);
      ref->store_kv(cr, kr, kr, rows);
      if (!attend) return;
      fast->attention(s, qf, cf, rows, of);
      ref->attention(s, qr, cr, rows, orf);
      const auto got = read(*fast, of, n * H * L), want = read(*ref, orf, n * H * L);
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
      EXPECT_LT(worst, 1e-5) << gguf::type_name(type) << " rows from " << first;
    };
    run(0, 37, 1);
    // Fill to 1,200 positions (stored only: the double reference is slow), then one decode row
    // over all of them.
    run(37, 1163, 3, false);
    run(1200, 1, 5);
  }
  global_thread_pool(1);
}

// A lone position: every head's output is that position's latent (the first L of its key row).
TEST(LatentAttention, OnePositionGivesItsLatent) {
  std::unique_ptr<Backend> be = make_backend("cpu");
  const int64_t L = 40, W = 48, H = 3;
  AttentionShape s;
  s.n_head = static_cast<int>(H);
  s.n_head_kv = 1;
  s.head_dim_k = W;
  s.head_dim_v = L;
  s.scale = 0.3f;
  KvView c{be->alloc(GgmlType::F32, W, 4), {}, 4};
  const int32_t pos = 0, seq = 0;
  const SeqRows rows{&pos, &seq, 1};
  const auto kv = uniform(W, 7), q = uniform(H * W, 8);
  const Tensor k = be->upload_f32(kv.data(), W, 1), qt = be->upload_f32(q.data(), H * W, 1);
  const Tensor o = be->alloc(GgmlType::F32, H * L, 1);
  be->store_kv(c, k, k, rows);
  be->attention(s, qt, c, rows, o);
  const auto out = read(*be, o, H * L);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t i = 0; i < L; ++i) EXPECT_FLOAT_EQ(out[h * L + i], kv[i]) << h << " " << i;
  }
}

TEST(CopyCols, MovesABlockOfColumnsBetweenLayouts) {
  for (const std::string name : {"cpu", "cpu-ref"}) {
    std::unique_ptr<Backend> be = make_backend(name);
    const int64_t n = 5, sw = 7, dw = 11;
    const auto src = uniform(n * sw, 9);
    std::vector<float> dst0(static_cast<size_t>(n * dw), -2.0f);
    const Tensor s = be->upload_f32(src.data(), sw, n), d = be->upload_f32(dst0.data(), dw, n);
    be->copy_cols(s, sw, 4, d, dw, 6, 3, n);
    const auto got = read(*be, d, n * dw);
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t c = 0; c < dw; ++c) {
        const float want = c >= 6 && c < 9 ? src[r * sw + 4 + (c - 6)] : -2.0f;
        EXPECT_EQ(got[r * dw + c], want) << name << " row " << r << " col " << c;
      }
    }
  }
}

}  // namespace
}  // namespace hearth::ops
