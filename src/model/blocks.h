#pragma once
// The blocks a transformer layer is made of. Each binds its own tensors ("blk.N.<name>") on the
// backend that runs its layer, and runs on that backend's tensors only:
//   AttentionBlock  GqaAttention: q/k/v projections (+ biases, + per-head q/k RMSNorm), RoPE,
//                   the KV cache store, causal attention (window, soft-cap), output projection;
//                   MlaAttention: DeepSeek's latent attention (mla_attention.cc).
//   FfnBlock        DenseFfn: down(act(gate x) * up x) with SwiGLU or GeGLU;
//                   MoeFfn: router top-k, the chosen experts' gated FFNs (matmul_id), their
//                   weighted sum, plus shared experts.
// Norms, residual adds and the output head are the Transformer's (transformer.cc).

#include <memory>
#include <string>

#include "model/layer_spec.h"
#include "model/scratch.h"
#include "model/weights.h"

namespace hearth::model {

// One forward pass as a block sees it.
struct Step {
  Scratch& scratch;
  const ops::SeqRows& rows;  // the batch's positions and sequences (rows.n rows)
  int64_t n_embd;
};

class AttentionBlock {
 public:
  virtual ~AttentionBlock() = default;
  // This block's cache for n_seq sequences of n_ctx positions, on `be`; a ring of `ring` slots
  // per sequence when ring > 0 (only a block with a window is asked for one: kv_cache.h).
  virtual ops::KvView make_cache(ops::Backend& be, int64_t n_ctx, int n_seq, gguf::GgmlType type,
                                 int64_t ring) const = 0;
  // out [n, n_embd] = attention over xn [n, n_embd]; the rows' keys and values join the cache.
  virtual void forward(const Step& step, const ops::Tensor& xn, const ops::KvView& cache,
                       const ops::Tensor& out) const = 0;
};

class FfnBlock {
 public:
  virtual ~FfnBlock() = default;
  // out [n, n_embd] from xn [n, n_embd]
  virtual void forward(const Step& step, const ops::Tensor& xn, const ops::Tensor& out) const = 0;
};

// Binds the block `spec` names from the tensors under `prefix` ("blk.3.").
std::unique_ptr<AttentionBlock> make_attention(const AttentionSpec& spec, const WeightLoader& w,
                                               ops::Backend& be, const std::string& prefix,
                                               int64_t n_embd, float rms_eps);
// The attention op's shape for a block of this spec: n_head_kv heads of keys dk and values dv
// wide; the scale is the spec's, or 1 / sqrt(spec.head_dim_k).
ops::AttentionShape attention_shape(const AttentionSpec& spec, int n_head_kv, int64_t dk, int64_t dv);
// The MLA block (mla_attention.cc), which make_attention returns for AttentionKind::mla.
std::unique_ptr<AttentionBlock> make_mla_attention(const AttentionSpec& spec, const WeightLoader& w,
                                                   ops::Backend& be, const std::string& prefix,
                                                   int64_t n_embd, float rms_eps);
std::unique_ptr<FfnBlock> make_ffn(const FfnSpec& spec, const WeightLoader& w, ops::Backend& be,
                                   const std::string& prefix, int64_t n_embd);

// Shared by the attention blocks (attention_block.cc): a K/V cache of n_seq x n_ctx rows (or
// n_seq x ring, a ring: ring > 0) of the given widths; and q, k, v = w[i] xn (+ b[i] where not
// empty) into the scratch's q, k, v.
ops::KvView alloc_kv_cache(ops::Backend& be, int64_t k_width, int64_t v_width, int64_t n_ctx,
                           int n_seq, gguf::GgmlType type, int64_t ring = 0);
void project_qkv(const Step& st, const AttentionSpec& s, const ops::Tensor& xn,
                 const ops::Tensor (&w)[3], const ops::Tensor (&b)[3]);

// The encoder blocks (encoder_blocks.cc), which make_attention and make_ffn return for
// AttentionKind::encoder and FfnKind::sequential.
std::unique_ptr<AttentionBlock> make_encoder_attention(const AttentionSpec& spec,
                                                       const WeightLoader& w, ops::Backend& be,
                                                       const std::string& prefix, int64_t n_embd);
std::unique_ptr<FfnBlock> make_sequential_ffn(const FfnSpec& spec, const WeightLoader& w,
                                              ops::Backend& be, const std::string& prefix,
                                              int64_t n_embd);

}  // namespace hearth::model
