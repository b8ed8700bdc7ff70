#pragma once
// The seam between the model code and the compute backends. A Backend owns memory (weights
// uploaded from the mapped model file, constants, activations, KV caches), hands it out as
// Tensors, and runs operations on its own tensors. Model code passes tensors, shapes and small
// host parameter arrays (token ids, positions, sequence ids), never pointers into a tensor, so a
// device backend can keep everything resident and record a whole forward pass before it runs:
// work may be queued until read() (the one point where results come back to the host).
//
// Tensors of activations are addressed as flat arrays: an operation names the row count and
// width it works on (an allocation may be larger than one batch needs). Every operation has a
// plain scalar specification in ops/ (`*_ref`), and make_backend("cpu-ref") runs those, so tests
// can check any backend against it. One Backend instance per loaded model (or per part of a model
// placed on it); operations of one instance are called from one thread at a time.

#include <cstdint>
#include <memory>
#include <string>

#include "ops/attention.h"
#include "ops/moe.h"
#include "ops/rope.h"
#include "ops/tensor.h"
#include "ops/top_logits.h"

namespace hearth::ops {

// Where each activation row belongs: its sequence and position (host arrays of n values).
struct SeqRows {
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;
  int64_t n = 0;
};

// One layer's cache as an attention block lays it out: sequence s, position p is row
// s * n_ctx + p of k and of v. v may be empty: then the values are the first head_dim_v columns of
// each K row (MLA's cache holds one latent per position, read as both key and value).
// A sliding-window layer may keep a ring instead: `ring` slots per sequence, position p at row
// s * ring + p % ring, so a slot holds the last position written to it. Whoever writes and reads
// it keeps the positions a row attends to (its window) among the last `ring` written
// (model::KvCache checks that); the attention still masks by position, so results are those of
// a whole-context cache. ring is a multiple of kKvRingMultiple (ops/attention.h).
struct KvView {
  Tensor k, v;
  int64_t n_ctx = 0;  // positions per sequence
  int64_t ring = 0;   // slots per sequence of a ring; 0: a row per position
  int64_t rows_per_seq() const { return ring > 0 ? ring : n_ctx; }
  int64_t row(int64_t seq, int64_t pos) const {
    return seq * rows_per_seq() + (ring > 0 ? pos % ring : pos);
  }
};

struct MatmulJob {
  const Tensor* w;
  const Tensor* y;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // What runs it, for people: "CPU (avx512)", "Vulkan (NVIDIA H100 80GB HBM3)".
  virtual std::string description() const = 0;
  // Whether its tensors are host memory the CPU reads directly (the CPU backends): reading a
  // result back copies nothing across a bus, and its bytes are not device memory.
  virtual bool on_host() const = 0;

  // ---- memory
  struct Upload {
    Tensor tensor;
    bool copied = false;  // the backend made its own copy: the file's pages are not read again
  };
  // What a weight is read by: matmul (the backend may repack it for its kernels), get_rows
  // (single rows looked up: an embedding table, kept as the file has it), or matmul of a weight
  // left where it is in the mapped file (a CPU backend neither copies nor repacks it: expert
  // stacks of a model larger than memory, whose chosen rows the OS pages in as they are read).
  enum class WeightUse { matmul, lookup, matmul_in_place };
  // A weight from the model file's bytes (`ne` as the file has it; `row_bytes` per row). The
  // bytes must stay valid while the tensor lives unless `copied`.
  virtual Upload upload_weight(gguf::GgmlType type, const int64_t ne[3], int64_t row_bytes,
                               const uint8_t* data, WeightUse use) = 0;
  // F32 [n_rows, n_cols] copied from host values (norm weights, biases, expert biases).
  virtual Tensor upload_f32(const float* values, int64_t n_cols, int64_t n_rows) = 0;
  // Uninitialised [n_rows, n_cols] of F32, F16 or I32. Error(resource_exhausted) when the memory
  // cannot be had.
  virtual Tensor alloc(gguf::GgmlType type, int64_t n_cols, int64_t n_rows) = 0;
  // A KV cache's K: n_seq sequences of rows_per_seq rows, read by attention and written by
  // store_kv and copy_rows only, so the backend may lay it out for its attention (the CPU
  // backend: F16 keys in tiles of kKvKeyTile positions, attention.h). Caches whose keys double
  // as values (MLA's latent) come from alloc.
  virtual Tensor alloc_keys(gguf::GgmlType type, int64_t n_cols, int64_t rows_per_seq, int n_seq) {
    return alloc(type, n_cols, rows_per_seq * n_seq);
  }
  // Frees t's storage and empties t.
  virtual void release(Tensor& t) = 0;
  // Bytes of storage this backend holds (copies and allocations; views of the file are not).
  virtual uint64_t bytes() const = 0;
  // The first n values of an F32 (or, as raw 32-bit words, I32) tensor to the host, after all
  // queued work; and back.
  virtual void read(const Tensor& t, int64_t n, float* dst) = 0;
  virtual void write(const Tensor& t, int64_t n, const float* src) = 0;

  // ---- operations (shapes in elements; tensors must come from this backend)
  // y [n_tok, w.n_rows] = x [n_tok, w.n_cols] W^T
  virtual void matmul(const Tensor& w, const Tensor& x, int64_t n_tok, const Tensor& y) = 0;
  // Several products of the same x (q, k, v; gate, up) in one pass.
  virtual void matmul_many(const MatmulJob* jobs, int count, const Tensor& x, int64_t n_tok) = 0;
  // Products with the experts each token chose (ops/moe.h): w [n_expert, rows, cols] stacked,
  // ids I32 [n_tok, k]; x [n_tok, cols] (every slot reads its token's row) or, with x_per_slot,
  // [n_tok * k, cols]; y [n_tok * k, rows].
  virtual void matmul_id(const Tensor& w, const Tensor& x, bool x_per_slot, const Tensor& ids,
                         int64_t n_tok, int k, const Tensor& y) = 0;
  // matmul_id of several stacks (gate, up) with one x and one choice: jobs[i].y as matmul_id of
  // jobs[i].w gives it. A backend may run them in one pass; this one runs them in turn.
  virtual void matmul_id_many(const MatmulJob* jobs, int count, const Tensor& x, bool x_per_slot,
                              const Tensor& ids, int64_t n_tok, int k) {
    for (int i = 0; i < count; ++i) matmul_id(*jobs[i].w, x, x_per_slot, ids, n_tok, k, *jobs[i].y);
  }
  // Router: logits [n_tok, n_expert] -> ids I32 [n_tok, k] and weights F32 [n_tok, k].
  // selection_bias [n_expert] (may be empty) only changes which experts are chosen.
  virtual void topk_gating(const Tensor& logits, const Tensor& selection_bias, int64_t n_tok,
                           int64_t n_expert, const GatingParams& p, const Tensor& ids,
                           const Tensor& weights) = 0;
  // Each chosen expert's bias: y [n_tok * k, n] row t * k + j += b[ids[t, j], :] (b F32
  // [n_expert, n]: gpt-oss's ffn_*_exps.bias).
  virtual void add_bias_id(const Tensor& y, const Tensor& b, const Tensor& ids, int64_t n_tok, int k,
                           int64_t n) = 0;
  // out [n_tok, n] = sum over slots j of weights[t, j] * e[t * k + j, :]
  virtual void weighted_sum(const Tensor& e, const Tensor& weights, int64_t n_tok, int k,
                            int64_t n, const Tensor& out) = 0;
  // out [n, table.n_cols] = rows ids[0..n) of table (embedding lookup; any weight type or F32)
  virtual void get_rows(const Tensor& table, const int32_t* ids, int64_t n, const Tensor& out) = 0;
  // out [n_rows, n] = rmsnorm of x's rows, times w [n] unless w is empty. out may be x.
  virtual void rmsnorm(const Tensor& x, const Tensor& w, int64_t n_rows, int64_t n, float eps,
                       const Tensor& out) = 0;
  // out [n_rows, n] = LayerNorm of x's rows (ops/norm.h: mean removed, variance scaled to 1),
  // times w [n] and plus b [n] unless empty. out may be x. BERT-style encoders.
  virtual void layernorm(const Tensor& x, const Tensor& w, const Tensor& b, int64_t n_rows,
                         int64_t n, float eps, const Tensor& out) = 0;
  // x [n_tok, n_heads * head_dim] rotated in place, token t at pos[t]
  virtual void rope(const Tensor& x, int64_t n_tok, int n_heads, int64_t head_dim,
                    const int32_t* pos, const RopeParams& p) = 0;
  // Writes row t of k and v ([rows.n, width]) to the cache rows of (seq[t], pos[t]) (v is not
  // read when the cache has no V).
  virtual void store_kv(const KvView& cache, const Tensor& k, const Tensor& v,
                        const SeqRows& rows) = 0;
  // out [rows.n, n_head * head_dim_v]: row t attends over its own sequence's cache, positions
  // [max(0, pos[t] - window + 1) or 0, pos[t]] (shape.window, 0 = all), read from their ring
  // slots when the cache is a ring (KvView::ring), with shape.sinks' logits in the softmax
  // denominators when set.
  virtual void attention(const AttentionShape& shape, const Tensor& q, const KvView& cache,
                         const SeqRows& rows, const Tensor& out) = 0;
  // dst[r, dst_col + i] = src[r, src_col + i] for r < n_rows, i < width, where src's rows are
  // src_width values apart and dst's dst_width (F32): columns moved between layouts (MLA splits
  // its heads into parts and joins them).
  virtual void copy_cols(const Tensor& src, int64_t src_width, int64_t src_col, const Tensor& dst,
                         int64_t dst_width, int64_t dst_col, int64_t width, int64_t n_rows) = 0;
  // Cache rows [src, src + n) -> [dst, dst + n) of t (prefix sharing between sequences; the
  // caller maps positions to rows, KvView::row).
  virtual void copy_rows(const Tensor& t, int64_t src, int64_t dst, int64_t n) = 0;
  // Element-wise over n values; out may alias an input.
  virtual void swiglu(const Tensor& gate, const Tensor& up, int64_t n, const Tensor& out) = 0;
  virtual void geglu(const Tensor& gate, const Tensor& up, int64_t n, const Tensor& out) = 0;
  // gpt-oss's clamped SwiGLU (activation.h swiglu_oai).
  virtual void swiglu_oai(const Tensor& gate, const Tensor& up, int64_t n, float alpha, float limit,
                          const Tensor& out) = 0;
  virtual void gelu(const Tensor& x, int64_t n, const Tensor& out) = 0;
  virtual void add(const Tensor& y, const Tensor& x, int64_t n) = 0;  // y += x
  // x [n_rows, n] += b [n] per row
  virtual void add_bias(const Tensor& x, const Tensor& b, int64_t n_rows, int64_t n) = 0;
  virtual void scale(const Tensor& x, float s, int64_t n) = 0;  // x *= s
  // x = cap * tanh(x / cap) (Gemma's logit soft-capping)
  virtual void softcap(const Tensor& x, float cap, int64_t n) = 0;
  // out [n_rows, top_logits_width(k)] (F32) = each row's max, log-sum-exp and k best logits with
  // their ids, of logits [n_rows, n] (ops/top_logits.h, 1 <= k <= kMaxTopLogits): what sampling
  // reads back instead of whole rows.
  virtual void top_logits(const Tensor& logits, int64_t n_rows, int64_t n, int k, const Tensor& out) = 0;
};

// "cpu": the fast CPU kernels (threads: global_thread_pool(); repacks weights into panels where
// the CPU has panel kernels). "cpu-ref": the scalar specifications, one thread (tests; slow).
// Error(invalid_argument) names the known backends for any other name.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace hearth::ops
