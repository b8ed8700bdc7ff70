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

using MatmulFn = void (*)(const Matrix&, const float*, int64_t, float*);

void matmul_id_with(MatmulFn mm, const Matrix& w, int64_t rows_per_expert, const float* x,
                    bool x_per_slot, const int32_t* ids, int64_t n_tok, int k, float* y) {
  HEARTH_CHECK(rows_per_expert > 0 && w.n_rows % rows_per_expert == 0);
  const int64_t n_expert = w.n_rows / rows_per_expert;
  const int64_t n_slots = n_tok * k, cols = w.n_cols;
  // Slots grouped by expert (counting sort, slot order kept within an expert).
  std::vector<int64_t> start(static_cast<size_t>(n_expert + 1), 0), slots(static_cast<size_t>(n_slots));
  for (int64_t s = 0; s < n_slots; ++s) {
    HEARTH_CHECK(ids[s] >= 0 && ids[s] < n_expert);
    ++start[ids[s] + 1];
  }
  for (int64_t e = 0; e < n_expert; ++e) start[e + 1] += start[e];
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t s = 0; s < n_slots; ++s) slots[fill[ids[s]]++] = s;

  std::vector<float> xg, yg;
  for (int64_t e = 0; e < n_expert; ++e) {
    const int64_t n = start[e + 1] - start[e];
    if (n == 0) continue;
    const int64_t* mine = slots.data() + start[e];
    xg.resize(static_cast<size_t>(n * cols));
    yg.resize(static_cast<size_t>(n * rows_per_expert));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t src = x_per_slot ? mine[i] : mine[i] / k;
      std::copy(x + src * cols, x + (src + 1) * cols, xg.begin() + i * cols);
    }
    mm(expert_matrix(w, rows_per_expert, e), xg.data(), n, yg.data());
    for (int64_t i = 0; i < n; ++i) {
      std::copy(yg.begin() + i * rows_per_expert, yg.begin() + (i + 1) * rows_per_expert,
                y + mine[i] * rows_per_expert);
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

void matmul_id(const Matrix& w, int64_t rows_per_expert, const float* x, bool x_per_slot,
               const int32_t* ids, int64_t n_tok, int k, float* y) {
  if (n_tok == 1) {
    // One token (decode): its k products in one fork-join instead of one each.
    std::vector<Matrix> mats(static_cast<size_t>(k));
    std::vector<MatmulOut> outs(static_cast<size_t>(k));
    HEARTH_CHECK(rows_per_expert > 0 && w.n_rows % rows_per_expert == 0);
    for (int j = 0; j < k; ++j) {
      HEARTH_CHECK(ids[j] >= 0 && ids[j] < w.n_rows / rows_per_expert);
      mats[static_cast<size_t>(j)] = expert_matrix(w, rows_per_expert, ids[j]);
      outs[static_cast<size_t>(j)] = {&mats[static_cast<size_t>(j)], y + j * rows_per_expert,
                                      x_per_slot ? x + j * w.n_cols : nullptr};
    }
    return matmul_many(outs.data(), k, x, 1);
  }
  matmul_id_with(matmul, w, rows_per_expert, x, x_per_slot, ids, n_tok, k, y);
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
