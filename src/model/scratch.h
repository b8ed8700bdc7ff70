#pragma once
// Activation buffers of one forward pass on one backend, kept between passes and grown when a
// batch needs more. Blocks address them as flat arrays with explicit sizes (ops/backend.h), so
// a buffer serves layers of different widths; the residual stream (Buf::x) is always allocated
// [n_embd, rows] because rows of it are gathered by get_rows.

#include <array>
#include <cstdint>

#include "ops/backend.h"

namespace hearth::model {

enum class Buf {
  x,     // residual stream [n, n_embd]
  xn,    // normed input of a sublayer [n, n_embd]
  q, k, v,
  att,   // attention heads' output [n, n_head * head_dim_v]
  out,   // a sublayer's output [n, n_embd]
  gate, up,
  router,           // MoE: router logits [n, n_expert]
  expert_ids,       // MoE: I32 [n, k]
  expert_weights,   // MoE: [n, k]
  expert_gate, expert_up, expert_down,  // MoE: [n * k, width]
  logits,
  best_logits,  // each logits row's best (ops/top_logits.h) [n, top_logits_width(k)]
  // MLA: the q bottleneck [n, q_lora_rank]; the heads' non-rotated q parts [n * n_head, nope],
  // absorbed into the latent [n * n_head, kv_lora_rank]; RoPE parts [n * n_head, rope]; the
  // heads' full queries [n * n_head, kv_lora_rank + rope]; the head index of each (I32)
  mla_qa, mla_nope, mla_absorbed, mla_rope, mla_query, head_ids,
  // MLA's expanded form (prompts): the context's latent rows [ctx, kv_lora_rank + rope] read back
  // from the cache, their normed latents [ctx, kv_lora_rank], and per head keys [ctx, n_head *
  // (nope + rope)], the keys' nope parts [ctx, n_head * nope] and values [ctx, n_head * v_head]
  mla_context, mla_latent, mla_keys, mla_keys_nope, mla_values,
  // Encoders: the pass's own keys and values, laid out as a KvView ([sequence of the pass *
  // longest + position]); an encoder keeps no cache between passes
  pass_k, pass_v,
  count
};

class Scratch {
 public:
  explicit Scratch(ops::Backend& be) : be_(be) {}
  ~Scratch() {
    for (ops::Tensor& t : bufs_) be_.release(t);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  ops::Backend& backend() const { return be_; }

  // Buffer b with room for [n_rows, n_cols] (its earlier contents are lost when it must grow).
  const ops::Tensor& get(Buf b, int64_t n_cols, int64_t n_rows,
                         gguf::GgmlType type = gguf::GgmlType::F32) {
    ops::Tensor& t = bufs_[static_cast<size_t>(b)];
    if (t.empty() || t.type != type || t.n_elements() < n_cols * n_rows) {
      be_.release(t);
      t = be_.alloc(type, n_cols, n_rows);
    }
    return t;
  }

  // As get, for a buffer whose rows must be exactly n_cols wide (a KvView's tensors: readers take
  // the row stride from the tensor). Rows grow in steps so a prompt growing by a few tokens per
  // pass does not reallocate every time.
  const ops::Tensor& get_rows_of(Buf b, int64_t n_cols, int64_t n_rows,
                                 gguf::GgmlType type = gguf::GgmlType::F32) {
    ops::Tensor& t = bufs_[static_cast<size_t>(b)];
    if (t.empty() || t.type != type || t.n_cols() != n_cols || t.n_rows() < n_rows) {
      be_.release(t);
      t = be_.alloc(type, n_cols, (n_rows + 255) / 256 * 256);
    }
    return t;
  }

 private:
  ops::Backend& be_;
  std::array<ops::Tensor, static_cast<size_t>(Buf::count)> bufs_{};
};

}  // namespace hearth::model
