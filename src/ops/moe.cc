#include "ops/moe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/activation.h"
#include "ops/matmul.h"
#include "quant/packed.h"
#include "util/check.h"

namespace hearth::ops {

namespace {

// Experts outside the n_group_used best groups get the lowest score, so top-k never picks them
// (k <= the experts of the chosen groups). Ties between groups: lower index first.
template <class T>
void limit_to_groups(std::vector<T>& score, const GatingParams& p, std::vector<T>& group_score,
                     std::vector<int32_t>& group_order) {
  const size_t per = score.size() / static_cast<size_t>(p.n_group);
  for (int g = 0; g < p.n_group; ++g) {
    const T* s = score.data() + g * per;
    T best = s[0], second = -std::numeric_limits<T>::infinity();
    for (size_t i = 1; i < per; ++i) {
      if (s[i] > best) {
        second = best;
        best = s[i];
      } else if (s[i] > second) {
        second = s[i];
      }
    }
    group_score[g] = p.func == GatingFunc::sigmoid && per > 1 ? best + second : best;
    group_order[g] = g;
  }
  std::partial_sort(group_order.begin(), group_order.begin() + p.n_group_used, group_order.end(),
                    [&](int32_t a, int32_t b) {
                      return group_score[a] != group_score[b] ? group_score[a] > group_score[b] : a < b;
                    });
  std::vector<bool> keep(static_cast<size_t>(p.n_group), false);
  for (int j = 0; j < p.n_group_used; ++j) keep[group_order[j]] = true;
  for (int g = 0; g < p.n_group; ++g) {
    if (keep[g]) continue;
    for (size_t i = 0; i < per; ++i) score[g * per + i] = -std::numeric_limits<T>::infinity();
  }
}

// Gating in type T (float for the fast path, double for the specification).
template <class T>
void gating(const float* logits, const float* bias, int64_t n_tok, int64_t n_expert,
            const GatingParams& p, int32_t* ids, float* weights) {
  HEARTH_CHECK(p.k >= 1 && p.k <= n_expert);
  HEARTH_CHECK(p.n_group >= 1 && n_expert % p.n_group == 0 && p.n_group_used >= 1 &&
               p.n_group_used <= p.n_group && p.k <= n_expert / p.n_group * p.n_group_used);
  std::vector<T> prob(static_cast<size_t>(n_expert)), score(static_cast<size_t>(n_expert));
  std::vector<T> group_score(static_cast<size_t>(p.n_group));
  std::vector<int32_t> group_order(static_cast<size_t>(p.n_group));
  std::vector<int32_t> order(static_cast<size_t>(n_expert));
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* l = logits + t * n_expert;
    if (p.func == GatingFunc::softmax) {
      T mx = l[0];
      for (int64_t e = 1; e < n_expert; ++e) mx = std::max<T>(mx, l[e]);
      T sum = 0;
      for (int64_t e = 0; e < n_expert; ++e) sum += prob[e] = std::exp(static_cast<T>(l[e]) - mx);
      for (int64_t e = 0; e < n_expert; ++e) prob[e] /= sum;
    } else if (p.func == GatingFunc::sigmoid) {
      for (int64_t e = 0; e < n_expert; ++e) prob[e] = T(1) / (T(1) + std::exp(-static_cast<T>(l[e])));
    } else {
      for (int64_t e = 0; e < n_expert; ++e) prob[e] = l[e];  // the softmax comes after the choice
    }
    for (int64_t e = 0; e < n_expert; ++e) {
      score[e] = prob[e] + (bias != nullptr ? static_cast<T>(bias[e]) : T(0));
      order[e] = static_cast<int32_t>(e);
    }
    if (p.n_group > 1 && p.n_group_used < p.n_group) limit_to_groups(score, p, group_score, group_order);
    std::partial_sort(order.begin(), order.begin() + p.k, order.end(), [&](int32_t a, int32_t b) {
      return score[a] != score[b] ? score[a] > score[b] : a < b;
    });
    if (p.func == GatingFunc::softmax_of_chosen) {
      T mx = prob[order[0]];
      for (int j = 1; j < p.k; ++j) mx = std::max(mx, prob[order[j]]);
      for (int j = 0; j < p.k; ++j) prob[order[j]] = std::exp(prob[order[j]] - mx);
      T chosen = 0;
      for (int j = 0; j < p.k; ++j) chosen += prob[order[j]];
      for (int j = 0; j < p.k; ++j) prob[order[j]] /= chosen;
    }
    T sum = 0;
    for (int j = 0; j < p.k; ++j) sum += prob[order[j]];
    for (int j = 0; j < p.k; ++j) {
      T w = prob[order[j]];
      if (p.normalize) w /= sum;
      ids[t * p.k + j] = order[j];
      weights[t * p.k + j] = static_cast<float>(w * static_cast<T>(p.scale));
    }
  }
}

// Slots grouped by expert (counting sort, slot order kept within an expert): the slots of expert e
// are slots[start[e] .. start[e + 1]).
struct SlotsByExpert {
  std::vector<int64_t> start, slots;
  SlotsByExpert(const int32_t* ids, int64_t n_slots, int64_t n_expert)
      : start(static_cast<size_t>(n_expert + 1), 0), slots(static_cast<size_t>(n_slots)) {
    for (int64_t s = 0; s < n_slots; ++s) {
      HEARTH_CHECK(ids[s] >= 0 && ids[s] < n_expert);
      ++start[ids[s] + 1];
    }
    for (int64_t e = 0; e < n_expert; ++e) start[e + 1] += start[e];
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t s = 0; s < n_slots; ++s) slots[fill[ids[s]]++] = s;
  }
};

// A prompt: per expert, its slots' inputs gathered once, one matmul_many over every stack's rows
// of that expert, the outputs scattered back to the slots.
void matmul_id_grouped(const ExpertProduct* products, int count, int64_t n_expert, const float* x,
                       bool x_per_slot, const int32_t* ids, int64_t n_tok, int k) {
  const int64_t cols = products[0].w->n_cols;
  const SlotsByExpert by(ids, n_tok * k, n_expert);
  std::vector<float> xg;
  std::vector<std::vector<float>> yg(static_cast<size_t>(count));
  std::vector<Matrix> mats(static_cast<size_t>(count));
  std::vector<MatmulOut> outs(static_cast<size_t>(count));
  for (int64_t e = 0; e < n_expert; ++e) {
    const int64_t n = by.start[e + 1] - by.start[e];
    if (n == 0) continue;
    const int64_t* mine = by.slots.data() + by.start[e];
    xg.resize(static_cast<size_t>(n * cols));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t src = x_per_slot ? mine[i] : mine[i] / k;
      std::copy(x + src * cols, x + (src + 1) * cols, xg.begin() + i * cols);
    }
    for (int p = 0; p < count; ++p) {
      const ExpertProduct& pr = products[p];
      yg[p].resize(static_cast<size_t>(n * pr.rows_per_expert));
      mats[p] = expert_matrix(*pr.w, pr.rows_per_expert, e);
      outs[p] = {&mats[p], yg[p].data()};
    }
    matmul_many(outs.data(), count, xg.data(), n);
    for (int p = 0; p < count; ++p) {
      const int64_t rows = products[p].rows_per_expert;
      for (int64_t i = 0; i < n; ++i) {
        std::copy(yg[p].begin() + i * rows, yg[p].begin() + (i + 1) * rows, products[p].y + mine[i] * rows);
      }
    }
  }
}

}  // namespace

void topk_gating(const float* logits, const float* bias, int64_t n_tok, int64_t n_expert,
                 const GatingParams& p, int32_t* ids, float* weights) {
  gating<float>(logits, bias, n_tok, n_expert, p, ids, weights);
}

void topk_gating_ref(const float* logits, const float* bias, int64_t n_tok, int64_t n_expert,
                     const GatingParams& p, int32_t* ids, float* weights) {
  gating<double>(logits, bias, n_tok, n_expert, p, ids, weights);
}

Matrix expert_matrix(const Matrix& w, int64_t rows_per_expert, int64_t e) {
  Matrix m = w;
  m.n_rows = rows_per_expert;
  m.data = w.data + e * rows_per_expert * w.row_bytes;
  if (w.packed != nullptr) {
    // Packed stacks are packed only when each expert is whole panels (see make_backend).
    HEARTH_CHECK(rows_per_expert % quant::kPanelRows == 0);
    m.packed = w.packed + e * rows_per_expert * w.row_bytes;
  }
  return m;
}

void matmul_id_many(const ExpertProduct* products, int count, const float* x, bool x_per_slot,
                    const int32_t* ids, int64_t n_tok, int k) {
  if (count <= 0 || n_tok <= 0) return;
  int64_t n_expert = 0;
  for (int p = 0; p < count; ++p) {
    const ExpertProduct& pr = products[p];
    HEARTH_CHECK(pr.rows_per_expert > 0 && pr.w->n_rows % pr.rows_per_expert == 0 &&
                 pr.w->n_cols == products[0].w->n_cols);
    const int64_t n = pr.w->n_rows / pr.rows_per_expert;
    HEARTH_CHECK(p == 0 || n == n_expert);
    n_expert = n;
  }
  if (n_tok > 1) return matmul_id_grouped(products, count, n_expert, x, x_per_slot, ids, n_tok, k);
  // One token (decode): its k x count products in one fork-join, the token's row quantized once
  // for all of them (x_per_slot: once per slot).
  const int64_t cols = products[0].w->n_cols;
  std::vector<Matrix> mats(static_cast<size_t>(count * k));
  std::vector<MatmulOut> outs(static_cast<size_t>(count * k));
  for (int j = 0; j < k; ++j) HEARTH_CHECK(ids[j] >= 0 && ids[j] < n_expert);
  for (int p = 0; p < count; ++p) {
    const ExpertProduct& pr = products[p];
    for (int j = 0; j < k; ++j) {
      const size_t o = static_cast<size_t>(p * k + j);
      mats[o] = expert_matrix(*pr.w, pr.rows_per_expert, ids[j]);
      outs[o] = {&mats[o], pr.y + j * pr.rows_per_expert, x_per_slot ? x + j * cols : nullptr};
    }
  }
  matmul_many(outs.data(), count * k, x, 1);
}

void matmul_id(const Matrix& w, int64_t rows_per_expert, const float* x, bool x_per_slot,
               const int32_t* ids, int64_t n_tok, int k, float* y) {
  const ExpertProduct product{&w, rows_per_expert, y};
  matmul_id_many(&product, 1, x, x_per_slot, ids, n_tok, k);
}

void matmul_id_ref(const Matrix& w, int64_t rows_per_expert, const float* x, bool x_per_slot,
                   const int32_t* ids, int64_t n_tok, int k, float* y) {
  const int64_t cols = w.n_cols;
  for (int64_t s = 0; s < n_tok * k; ++s) {
    const int64_t src = x_per_slot ? s : s / k;
    matmul_ref(expert_matrix(w, rows_per_expert, ids[s]), x + src * cols, 1,
               y + s * rows_per_expert);
  }
}

void weighted_sum(const float* e, const float* weights, int64_t n_tok, int k, int64_t n,
                  float* out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    float* o = out + t * n;
    std::fill(o, o + n, 0.0f);
    for (int j = 0; j < k; ++j) {
      const float w = weights[t * k + j];
      const float* r = e + (t * k + j) * n;
      for (int64_t i = 0; i < n; ++i) o[i] += w * r[i];
    }
  }
}

void add_bias_id(float* y, const float* b, const int32_t* ids, int64_t n_slots, int64_t n) {
  for (int64_t s = 0; s < n_slots; ++s) add_inplace(y + s * n, b + static_cast<int64_t>(ids[s]) * n, n);
}

}  // namespace hearth::ops
