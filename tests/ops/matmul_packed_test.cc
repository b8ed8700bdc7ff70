// matmul over repacked weights (pack_matrix) against matmul over the file's rows, and matmul_many
// against separate matmuls; results independent of the thread count.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "ops/matmul.h"
#include "quant/packed.h"
#include "quant/type_traits.h"
#include "util/stream_memory.h"
#include "util/thread_pool.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

std::vector<float> normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

struct Weights {
  std::vector<uint8_t> bytes;
  Matrix m;
};

Weights make(GgmlType t, int64_t n_cols, int64_t n_rows, uint32_t seed) {
  const quant::TypeTraits& tr = quant::traits(t);
  Weights w;
  const auto src = normal(n_rows * n_cols, seed);
  w.bytes.resize(static_cast<size_t>(n_rows * n_cols / tr.block_elems * tr.block_bytes));
  tr.from_float(src.data(), w.bytes.data(), n_rows * n_cols);
  w.m = Matrix{t, n_cols, n_rows, n_cols / tr.block_elems * tr.block_bytes, w.bytes.data()};
  return w;
}

// Same integer sums, float accumulation in another order: the difference is a few roundings of
// the largest partial sums; 1e-5 of the largest |y| bounds it with a wide margin for these sizes.
constexpr double kBound = 1e-5;

TEST(MatmulPacked, MatchesTheRowKernelsForEveryThreadCount) {
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    if (quant::packed_kernels(t) == nullptr) GTEST_SKIP() << "no panel kernels on this CPU tier";
    const int64_t n_cols = 512, n_rows = 48;
    Weights rows = make(t, n_cols, n_rows, 5);
    Matrix packed = rows.m;
    auto owner = pack_matrix(packed);
    ASSERT_NE(owner, nullptr);
    ASSERT_NE(packed.packed, nullptr);
    for (int64_t n_tok : {1, 3, 6, 70, 133}) {
      const auto x = normal(n_tok * n_cols, 9);
      std::vector<float> want(static_cast<size_t>(n_tok * n_rows)), y(want.size()), first;
      global_thread_pool(1);
      matmul(rows.m, x.data(), n_tok, want.data());
      double scale = 0;
      for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        std::fill(y.begin(), y.end(), NAN);
        matmul(packed, x.data(), n_tok, y.data());
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_NEAR(y[i], want[i], kBound * scale) << gguf::type_name(t) << " n_tok " << n_tok << " i " << i;
        }
        if (first.empty()) first = y;
        EXPECT_EQ(y, first) << gguf::type_name(t) << " threads " << threads;
      }
    }
  }
  global_thread_pool(1);
}

// Packed into one arena (as the CPU backend packs a model), matrices give the same bits as each
// packed into memory of its own, and sit one after another.
TEST(MatmulPacked, AnArenaHoldsTheSamePanels) {
  if (quant::packed_kernels(GgmlType::Q4_K) == nullptr) GTEST_SKIP() << "no panel kernels on this CPU tier";
  const int64_t n_cols = 512;
  Weights a = make(GgmlType::Q4_K, n_cols, 48, 5), b = make(GgmlType::Q6_K, n_cols, 32, 6);
  Matrix own_a = a.m, own_b = b.m, in_a = a.m, in_b = b.m;
  auto oa = pack_matrix(own_a), ob = pack_matrix(own_b);
  StreamArena arena;
  auto ia = pack_matrix(in_a, &arena), ib = pack_matrix(in_b, &arena);
  ASSERT_NE(ia, nullptr);
  ASSERT_NE(ib, nullptr);
  EXPECT_EQ(in_b.packed, in_a.packed + (48 * a.m.row_bytes + 4095) / 4096 * 4096);
  const auto x = normal(3 * n_cols, 9);
  global_thread_pool(2);
  for (auto [own, in, rows] : {std::tuple{&own_a, &in_a, 48}, std::tuple{&own_b, &in_b, 32}}) {
    std::vector<float> want(static_cast<size_t>(3 * rows)), got(want.size());
    matmul(*own, x.data(), 3, want.data());
    matmul(*in, x.data(), 3, got.data());
    EXPECT_EQ(got, want) << rows;
  }
  global_thread_pool(1);
}

TEST(MatmulPacked, RowCountsNotAMultipleOfThePanelStayUnpacked) {
  Weights w = make(GgmlType::Q4_K, 256, 45, 1);
  EXPECT_EQ(pack_matrix(w.m), nullptr);
  EXPECT_EQ(w.m.packed, nullptr);
}

TEST(MatmulPacked, ManyEqualsOneAtATime) {
  // Mixed: packed Q4_K, unpacked Q4_K (45 rows), packed Q6_K: three activation buffers.
  const int64_t n_cols = 768;
  Weights a = make(GgmlType::Q4_K, n_cols, 64, 1), b = make(GgmlType::Q4_K, n_cols, 45, 2),
          c = make(GgmlType::Q6_K, n_cols, 32, 3);
  auto oa = pack_matrix(a.m), oc = pack_matrix(c.m);
  for (int64_t n_tok : {1, 7}) {
    const auto x = normal(n_tok * n_cols, 4);
    std::vector<float> ya(static_cast<size_t>(64 * n_tok)), yb(static_cast<size_t>(45 * n_tok)),
        yc(static_cast<size_t>(32 * n_tok));
    const MatmulOut outs[] = {{&a.m, ya.data()}, {&b.m, yb.data()}, {&c.m, yc.data()}};
    global_thread_pool(2);
    matmul_many(outs, 3, x.data(), n_tok);
    for (const MatmulOut& o : outs) {
      std::vector<float> one(static_cast<size_t>(o.w->n_rows * n_tok));
      matmul(*o.w, x.data(), n_tok, one.data());
      EXPECT_EQ(std::vector<float>(o.y, o.y + one.size()), one) << o.w->n_rows << " rows, n_tok " << n_tok;
    }
  }
  global_thread_pool(1);
}

// Float weights: a prompt (from 8 tokens) goes through the chunked tiles where the tier has them,
// decode through the row tiles; either way every output is the row dot's bits, so a token's
// result does not depend on its batch, for every thread count. Shapes: rows not a multiple of
// the task or tile, 70 and 133 tokens (a second column block, tile tails), rows of 200 (a 16-wide
// chunk and a scalar tail after the 64-blocks); two outputs of one input in one matmul_many
// (q/k/v-like) share the converted activations.
TEST(MatmulPacked, FloatWeightsGiveTheRowDotsBits) {
  for (GgmlType t : {GgmlType::F16, GgmlType::F32, GgmlType::BF16}) {
    const quant::TypeTraits& tr = quant::traits(t);
    const int64_t n_cols = 200;
    Weights a = make(t, n_cols, 45, 11), b = make(t, n_cols, 70, 12);
    for (int64_t n_tok : {1, 7, 8, 70, 133}) {
      const auto x = normal(n_tok * n_cols, 14);
      std::vector<float> ya(static_cast<size_t>(45 * n_tok)), yb(static_cast<size_t>(70 * n_tok));
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        std::fill(ya.begin(), ya.end(), NAN);
        std::fill(yb.begin(), yb.end(), NAN);
        const MatmulOut outs[] = {{&a.m, ya.data()}, {&b.m, yb.data()}};
        matmul_many(outs, 2, x.data(), n_tok);
        for (const MatmulOut& o : outs) {
          for (int64_t tok = 0; tok < n_tok; ++tok) {
            for (int64_t r = 0; r < o.w->n_rows; ++r) {
              ASSERT_EQ(o.y[tok * o.w->n_rows + r], tr.vec_dot(n_cols, o.w->row(r), x.data() + tok * n_cols))
                  << gguf::type_name(t) << " n_tok " << n_tok << " threads " << threads << " row " << r;
            }
          }
        }
      }
    }
  }
  global_thread_pool(1);
}

}  // namespace
}  // namespace hearth::ops
