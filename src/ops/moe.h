#pragma once
// Mixture-of-experts pieces on the CPU: the router's top-k choice with its gating, products with
// the chosen experts' matrices, and the weighted sum of the experts' outputs. Expert matrices are
// stacked: [n_expert, n_rows, n_cols], expert e's rows starting at row e * n_rows.

#include <cstdint>

#include "ops/matrix.h"

namespace hearth::ops {

enum class GatingFunc {
  softmax,  // probabilities = softmax(logits) over all experts (Qwen3-MoE, Mixtral, DeepSeek-V2)
  sigmoid,  // probabilities = sigmoid(logit) each (DeepSeek-V3/R1)
  // The k largest logits are chosen, their weights = softmax over those k logits only
  // (gpt-oss; llama.cpp's SOFTMAX_WEIGHT). Same choice and weights as softmax + normalize.
  softmax_of_chosen,
};

struct GatingParams {
  int k = 1;                // experts per token
  GatingFunc func = GatingFunc::softmax;
  bool normalize = false;   // the k chosen weights divided by their sum
  float scale = 1.0f;       // then multiplied by this
  // Group-limited selection (DeepSeek): the experts form n_group equal groups; only the experts
  // of the n_group_used best groups can be chosen. A group's score is its best expert's score
  // (softmax gating: DeepSeek-V2's group_limited_greedy) or the sum of its two best (sigmoid
  // gating: DeepSeek-V3's noaux_tc), scores counting the selection bias.
  int n_group = 1;
  int n_group_used = 1;
};

// Per token t: p = gate(logits[t]); the k experts of highest p + bias (bias may be null) are
// chosen, in descending order of that score (ties: lower index first); ids[t, j] is the j-th and
// weights[t, j] its p (normalized, scaled). logits [n_tok, n_expert]; ids, weights [n_tok, k].
void topk_gating(const float* logits, const float* bias, int64_t n_tok, int64_t n_expert,
                 const GatingParams& p, int32_t* ids, float* weights);
// The specification: the same in double.
void topk_gating_ref(const float* logits, const float* bias, int64_t n_tok, int64_t n_expert,
                     const GatingParams& p, int32_t* ids, float* weights);

// y [n_tok * k, rows] : slot (t, j) = x_row(t, j) W_{ids[t, j]}^T, where x_row is x[t] or, with
// x_per_slot, x[t * k + j]. w describes the whole stack (n_rows = n_expert * rows_per_expert).
// The slots that chose one expert run as one matmul over that expert's rows (a prompt's tokens
// grouped by expert), so each expert's weights are read once per call.
void matmul_id(const Matrix& w, int64_t rows_per_expert, const float* x, bool x_per_slot,
               const int32_t* ids, int64_t n_tok, int k, float* y);
// Several stacks of one input and one choice (an expert FFN's gate and up): each product's y as
// matmul_id gives it, all in one pass over the thread pool (one fork-join for a decode token's
// k x count products; a prompt's slots gathered once per expert for all the stacks).
struct ExpertProduct {
  const Matrix* w;          // the stack
  int64_t rows_per_expert;
  float* y;                 // [n_tok * k, rows_per_expert]
};
void matmul_id_many(const ExpertProduct* products, int count, const float* x, bool x_per_slot,
                    const int32_t* ids, int64_t n_tok, int k);

// The specification: matmul_ref per slot.
void matmul_id_ref(const Matrix& w, int64_t rows_per_expert, const float* x, bool x_per_slot,
                   const int32_t* ids, int64_t n_tok, int k, float* y);

// The rows of expert e of a stacked matrix (panels too, when the stack was packed per expert).
Matrix expert_matrix(const Matrix& w, int64_t rows_per_expert, int64_t e);

// y [n_slots, n]: row s += b + ids[s] * n (each slot's expert's bias row; exact per element, so
// it is its own specification).
void add_bias_id(float* y, const float* b, const int32_t* ids, int64_t n_slots, int64_t n);

// out [n_tok, n] = sum_j weights[t * k + j] * e[(t * k + j) * n ...] (sum in slot order).
void weighted_sum(const float* e, const float* weights, int64_t n_tok, int k, int64_t n,
                  float* out);

}  // namespace hearth::ops
