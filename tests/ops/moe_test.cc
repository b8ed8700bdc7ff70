// Mixture-of-experts ops: the router's top-k gating (by hand, and fast vs the double
// specification), matmul_id against one matmul per slot (fast kernels, packed and row stacks,
// odd shapes) and its specification against a plain double product, and the weighted sum.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/matmul.h"
#include "ops/moe.h"
#include "quant/packed.h"
#include "quant/type_traits.h"
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

TEST(Gating, SoftmaxTopKByHand) {
  // softmax(0, ln 2, ln 4) = 1/7, 2/7, 4/7.
  const float logits[] = {0.0f, std::log(2.0f), std::log(4.0f)};
  int32_t ids[2];
  float w[2];
  GatingParams p;
  p.k = 2;
  topk_gating(logits, nullptr, 1, 3, p, ids, w);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 1);
  EXPECT_NEAR(w[0], 4.0 / 7, 1e-6);
  EXPECT_NEAR(w[1], 2.0 / 7, 1e-6);
  p.normalize = true;
  p.scale = 3.0f;
  topk_gating(logits, nullptr, 1, 3, p, ids, w);
  EXPECT_NEAR(w[0], 2.0, 1e-6);  // 2/3 * 3
  EXPECT_NEAR(w[1], 1.0, 1e-6);
}

// gpt-oss: the k largest logits, weighted by a softmax over those k only (the others do not
// dilute it): logits (0, ln 2, ln 4, ln 1) and k = 2 -> experts 2 and 1 with 4/6 and 2/6.
TEST(Gating, SoftmaxOfChosenByHand) {
  const float logits[] = {0.0f, std::log(2.0f), std::log(4.0f), 0.0f};
  int32_t ids[2];
  float w[2];
  GatingParams p;
  p.k = 2;
  p.func = GatingFunc::softmax_of_chosen;
  topk_gating(logits, nullptr, 1, 4, p, ids, w);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 1);
  EXPECT_NEAR(w[0], 4.0 / 6, 1e-6);
  EXPECT_NEAR(w[1], 2.0 / 6, 1e-6);
  topk_gating_ref(logits, nullptr, 1, 4, p, ids, w);
  EXPECT_NEAR(w[0], 4.0 / 6, 1e-7);
}

// Each slot's expert's bias row is added to that slot's row, nothing else.
TEST(MatmulId, AddBiasIdAddsTheChosenExpertsRow) {
  const int64_t n = 5, n_expert = 3;
  std::vector<float> b(static_cast<size_t>(n * n_expert));
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i) * 0.25f;
  const int32_t ids[4] = {2, 0, 1, 2};
  std::vector<float> y(4 * n, 1.0f);
  add_bias_id(y.data(), b.data(), ids, 4, n);
  for (int s = 0; s < 4; ++s) {
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(y[s * n + i], 1.0f + b[ids[s] * n + i]) << s << " " << i;
  }
}

TEST(Gating, SelectionBiasChoosesButDoesNotWeigh) {
  // sigmoid(0) = 0.5, sigmoid(2) = 0.8808: expert 1 wins unless the bias lifts expert 0.
  const float logits[] = {0.0f, 2.0f};
  const float bias[] = {0.5f, 0.0f};
  int32_t id;
  float w;
  GatingParams p;
  p.func = GatingFunc::sigmoid;
  topk_gating(logits, nullptr, 1, 2, p, &id, &w);
  EXPECT_EQ(id, 1);
  topk_gating(logits, bias, 1, 2, p, &id, &w);
  EXPECT_EQ(id, 0);
  EXPECT_NEAR(w, 0.5, 1e-7);  // its probability, not its biased score
}

TEST(Gating, ExpertGroupsLimitTheChoice) {
  // Three groups of two. Sigmoid scores (logits chosen so p = 0.9, 0.1 | 0.6, 0.6 | 0.8, 0.2):
  // group sums of the best two 1.0 | 1.2 | 1.0, so with one group searched both experts of
  // group 1 win although expert 0 has the best score; with softmax gating a group counts its
  // best member only, and group 0 (0.9's logit is the largest) wins.
  auto logit = [](double p) { return static_cast<float>(std::log(p / (1 - p))); };
  const float logits[] = {logit(0.9), logit(0.1), logit(0.6), logit(0.6), logit(0.8), logit(0.2)};
  int32_t ids[2];
  float w[2];
  GatingParams p;
  p.k = 2;
  p.func = GatingFunc::sigmoid;
  p.n_group = 3;
  p.n_group_used = 1;
  topk_gating(logits, nullptr, 1, 6, p, ids, w);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 3);
  p.func = GatingFunc::softmax;
  topk_gating(logits, nullptr, 1, 6, p, ids, w);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 1);
  p.n_group_used = 3;  // every group: the plain top-k
  p.func = GatingFunc::sigmoid;
  topk_gating(logits, nullptr, 1, 6, p, ids, w);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 4);
}

TEST(Gating, FastMatchesReference) {
  for (GatingFunc f : {GatingFunc::softmax, GatingFunc::sigmoid, GatingFunc::softmax_of_chosen}) {
    for (int k : {1, 3, 8}) {
      const int64_t n_tok = 7, n_expert = 13;
      const auto logits = normal(n_tok * n_expert, 3 + k);
      const auto bias = normal(n_expert, 4);
      GatingParams p;
      p.k = k;
      p.func = f;
      p.normalize = k > 1;
      p.scale = 2.5f;
      std::vector<int32_t> ids(n_tok * k), ref_ids(n_tok * k);
      std::vector<float> w(n_tok * k), ref_w(n_tok * k);
      for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
        topk_gating(logits.data(), b, n_tok, n_expert, p, ids.data(), w.data());
        topk_gating_ref(logits.data(), b, n_tok, n_expert, p, ref_ids.data(), ref_w.data());
        EXPECT_EQ(ids, ref_ids);
        for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], ref_w[i], 1e-6 * 2.5);
        for (int64_t t = 0; t < n_tok; ++t) {  // k distinct experts
          std::vector<int32_t> row(ids.begin() + t * k, ids.begin() + (t + 1) * k);
          std::sort(row.begin(), row.end());
          EXPECT_EQ(std::unique(row.begin(), row.end()), row.end());
        }
      }
    }
  }
}

// Group-limited selection, fast against the specification: 64 experts in 8 groups, 4 searched
// (DeepSeek-V3's 256 / 8 / 4 scaled down), and every chosen expert in one of 4 groups.
TEST(Gating, GroupLimitedFastMatchesReference) {
  const int64_t n_tok = 9, n_expert = 64;
  const auto logits = normal(n_tok * n_expert, 17), bias = normal(n_expert, 18);
  for (GatingFunc f : {GatingFunc::softmax, GatingFunc::sigmoid}) {
    GatingParams p;
    p.k = 8;
    p.func = f;
    p.normalize = true;
    p.n_group = 8;
    p.n_group_used = 4;
    std::vector<int32_t> ids(n_tok * 8), ref_ids(n_tok * 8);
    std::vector<float> w(n_tok * 8), ref_w(n_tok * 8);
    topk_gating(logits.data(), bias.data(), n_tok, n_expert, p, ids.data(), w.data());
    topk_gating_ref(logits.data(), bias.data(), n_tok, n_expert, p, ref_ids.data(), ref_w.data());
    EXPECT_EQ(ids, ref_ids);
    for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], ref_w[i], 1e-6);
    for (int64_t t = 0; t < n_tok; ++t) {
      std::vector<int32_t> groups;
      for (int j = 0; j < 8; ++j) groups.push_back(ids[t * 8 + j] / 8);
      std::sort(groups.begin(), groups.end());
      EXPECT_LE(std::unique(groups.begin(), groups.end()) - groups.begin(), 4);
    }
  }
}

struct Stack {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // dequantized
  Matrix m;
};

Stack make_stack(GgmlType t, int64_t n_cols, int64_t rows, int64_t n_expert, uint32_t seed) {
  const quant::TypeTraits& tr = quant::traits(t);
  Stack s;
  const int64_t n = n_cols * rows * n_expert;
  const auto src = normal(n, seed);
  s.bytes.resize(static_cast<size_t>(n / tr.block_elems * tr.block_bytes));
  tr.from_float(src.data(), s.bytes.data(), n);
  s.values.resize(static_cast<size_t>(n));
  tr.to_float(s.bytes.data(), s.values.data(), n);
  s.m = Matrix{t, n_cols, rows * n_expert, n_cols / tr.block_elems * tr.block_bytes, s.bytes.data()};
  return s;
}

std::vector<int32_t> random_ids(int64_t n_tok, int k, int64_t n_expert, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n_tok * k));
  for (auto& i : ids) i = static_cast<int32_t>(rng() % n_expert);
  return ids;
}

// Slots grouped by expert give what one matmul per slot gives, packed or not, any thread count.
TEST(MatmulId, MatchesOneMatmulPerSlot) {
  for (GgmlType t : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_K}) {
    for (int64_t rows : {32, 24}) {
      if (t == GgmlType::Q4_K && rows == 24) continue;
      const int64_t cols = 256, n_expert = 5;
      Stack s = make_stack(t, cols, rows, n_expert, 7);
      Matrix w = s.m;
      std::shared_ptr<void> owner;
      if (rows % quant::kPanelRows == 0) owner = pack_matrix(w);  // packed where this CPU can
      for (int64_t n_tok : {1, 5, 70}) {
        for (int k : {1, 3}) {
          for (bool per_slot : {false, true}) {
            const auto ids = random_ids(n_tok, k, n_expert, 11 + n_tok);
            const auto x = normal((per_slot ? n_tok * k : n_tok) * cols, 13);
            std::vector<float> want(n_tok * k * rows), y(want.size());
            for (int64_t sl = 0; sl < n_tok * k; ++sl) {
              const int64_t src = per_slot ? sl : sl / k;
              matmul(expert_matrix(s.m, rows, ids[sl]), x.data() + src * cols, 1, want.data() + sl * rows);
            }
            double scale = 0;
            for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
            for (int threads : {1, 2}) {
              global_thread_pool(threads);
              matmul_id(w, rows, x.data(), per_slot, ids.data(), n_tok, k, y.data());
              for (size_t i = 0; i < y.size(); ++i) {
                ASSERT_NEAR(y[i], want[i], 1e-5 * scale)
                    << gguf::type_name(t) << " rows " << rows << " n_tok " << n_tok << " k " << k;
              }
            }
          }
        }
      }
    }
  }
  global_thread_pool(1);
}

// Stacks of one input in one pass (an expert FFN's gate and up) give, bit for bit, what
// matmul_id gives for each stack alone, and stay within the activation-rounding bound of the
// specification (matmul_id_ref per slot): stacks of different types and expert heights, packed
// (Q4_K, Q6_K: a Qwen3-MoE layer's types) and not, a decode token (n_tok 1) and prompts.
TEST(MatmulId, ManyStacksMatchOneStackAtATime) {
  const int64_t cols = 512, n_expert = 7;
  struct Case {
    GgmlType type;
    int64_t rows;
  };
  const Case cases[] = {{GgmlType::Q4_K, 48}, {GgmlType::Q6_K, 32}, {GgmlType::Q8_0, 24}};
  std::vector<Stack> stacks;
  std::vector<Matrix> mats;
  std::vector<std::shared_ptr<void>> owners;
  for (const Case& c : cases) stacks.push_back(make_stack(c.type, cols, c.rows, n_expert, 29 + static_cast<uint32_t>(c.rows)));
  for (size_t i = 0; i < stacks.size(); ++i) {
    mats.push_back(stacks[i].m);
    if (cases[i].rows % quant::kPanelRows == 0) owners.push_back(pack_matrix(mats.back()));
  }
  for (int64_t n_tok : {1, 3, 67}) {
    for (int k : {1, 5}) {
      for (bool per_slot : {false, true}) {
        const auto ids = random_ids(n_tok, k, n_expert, 31 + static_cast<uint32_t>(n_tok));
        const auto x = normal((per_slot ? n_tok * k : n_tok) * cols, 37);
        for (int threads : {1, 2}) {
          global_thread_pool(threads);
          std::vector<std::vector<float>> y(3), alone(3), ref(3);
          ExpertProduct products[3];
          for (int i = 0; i < 3; ++i) {
            const size_t n = static_cast<size_t>(n_tok * k * cases[i].rows);
            y[i].assign(n, NAN);
            alone[i].resize(n);
            ref[i].resize(n);
            products[i] = {&mats[i], cases[i].rows, y[i].data()};
            matmul_id(mats[i], cases[i].rows, x.data(), per_slot, ids.data(), n_tok, k, alone[i].data());
            matmul_id_ref(stacks[i].m, cases[i].rows, x.data(), per_slot, ids.data(), n_tok, k, ref[i].data());
          }
          matmul_id_many(products, 3, x.data(), per_slot, ids.data(), n_tok, k);
          for (int i = 0; i < 3; ++i) {
            const std::string where = std::string(gguf::type_name(cases[i].type)) + " n_tok " +
                                      std::to_string(n_tok) + " k " + std::to_string(k) +
                                      (per_slot ? " per slot" : "") + " threads " + std::to_string(threads);
            ASSERT_EQ(0, std::memcmp(y[i].data(), alone[i].data(), y[i].size() * sizeof(float))) << where;
            // The activations are rounded to 8 bits per block: relative error ~ 1/127 per term,
            // averaging out over 512 random terms; 2 % of the largest output bounds it.
            double scale = 0;
            for (float v : ref[i]) scale = std::max(scale, std::fabs(static_cast<double>(v)));
            for (size_t j = 0; j < y[i].size(); ++j) ASSERT_NEAR(y[i][j], ref[i][j], 0.02 * scale) << where;
          }
        }
      }
    }
  }
  global_thread_pool(1);
}

// The specification against a plain double product over the dequantized weights.
TEST(MatmulId, ReferenceIsThePlainProduct) {
  const int64_t cols = 64, rows = 6, n_expert = 4, n_tok = 3;
  const int k = 2;
  Stack s = make_stack(GgmlType::Q8_0, cols, rows, n_expert, 17);
  const auto ids = random_ids(n_tok, k, n_expert, 19);
  const auto x = normal(n_tok * cols, 23);
  std::vector<float> y(n_tok * k * rows);
  matmul_id_ref(s.m, rows, x.data(), false, ids.data(), n_tok, k, y.data());
  for (int64_t sl = 0; sl < n_tok * k; ++sl) {
    for (int64_t r = 0; r < rows; ++r) {
      double acc = 0;
      for (int64_t c = 0; c < cols; ++c) {
        acc += static_cast<double>(s.values[(ids[sl] * rows + r) * cols + c]) * x[(sl / k) * cols + c];
      }
      EXPECT_NEAR(y[sl * rows + r], acc, 1e-5 * (1 + std::fabs(acc)));
    }
  }
}

TEST(MatmulId, WeightedSumByHand) {
  // Two tokens, two slots each, rows of 3.
  const float e[] = {1, 2, 3, 10, 20, 30, -1, 0, 1, 4, 4, 4};
  const float w[] = {0.5f, 0.25f, 2.0f, 1.0f};
  float out[6];
  weighted_sum(e, w, 2, 2, 3, out);
  const float want[] = {3, 6, 9, 2, 4, 6};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(out[i], want[i]);
}

TEST(Activations, GeluGegluAndSoftcap) {
  // gelu(1) with the tanh approximation: 0.5 (1 + tanh(sqrt(2/pi) 1.044715)) = 0.8411920.
  float one = 1.0f, g;
  gelu_ref(&one, 1, &g);
  EXPECT_NEAR(g, 0.8411920, 1e-6);
  const int64_t n = 1000 + 7;
  const auto x = normal(n, 29), u = normal(n, 31);
  std::vector<float> fast(n), ref(n);
  gelu(x.data(), n, fast.data());
  gelu_ref(x.data(), n, ref.data());
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(fast[i], ref[i], 1e-6 * (1 + std::fabs(ref[i])));
  geglu(x.data(), u.data(), n, fast.data());
  geglu_ref(x.data(), u.data(), n, ref.data());
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(fast[i], ref[i], 1e-6 * (1 + std::fabs(ref[i])));
  std::vector<float> c = x, cr = x;
  for (float& v : c) v *= 40;
  for (float& v : cr) v *= 40;
  softcap(c.data(), 30.0f, n);
  softcap_ref(cr.data(), 30.0f, n);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(c[i], cr[i], 1e-5);
    EXPECT_LE(std::fabs(c[i]), 30.0f);
  }
  std::vector<float> sc = {1.5f, -2.0f};
  scale(sc.data(), 4.0f, 2);
  EXPECT_EQ(sc[0], 6.0f);
  EXPECT_EQ(sc[1], -8.0f);
}

}  // namespace
}  // namespace hearth::ops
