// The blocks of BERT-style encoders (AttentionKind::encoder, FfnKind::sequential).
//   EncoderAttention: q, k, v = Wq xn + bq, Wk xn + bk, Wv xn + bv  (bert)
//                     or the three row ranges of a fused attn_qkv, biases if present (nomic-bert);
//                     RoPE when the spec has rotary dimensions; out = Wo att (+ bo).
//                     Bidirectional: every row attends over its whole sequence.
//   SequentialFfn:    out = Wdown gelu(Wup xn + bup) + bdown.
//
// Bidirectional attention needs no new op: the backend's attention lets row t see the cached
// positions [0, pos[t]] of its sequence. All rows' keys and values are stored first (at their
// own positions, after RoPE at those positions), then attention runs with each row's visible end
// moved to the last position of its sequence in this batch, so every row sees the whole input.
// That requires a whole sequence in one batch: the engine feeds encoders that way
// (Model::causal() is false; engine/runner_embed.cc). So nothing outlives a pass: the keys and
// values go to a KvView in the pass's scratch (Buf::pass_k/pass_v, F32: the precision of the
// projections), the batch's sequences numbered densely, and the model's KvCache holds no tensors
// for an encoder (make_cache; the memory estimate counts none: compute_backend.cc).

#include <algorithm>
#include <cmath>

#include "model/blocks.h"
#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

namespace {

class EncoderAttention final : public AttentionBlock {
 public:
  EncoderAttention(const AttentionSpec& spec, const WeightLoader& w, ops::Backend& be,
                   const std::string& p, int64_t n_embd)
      : s_(spec) {
    const int64_t qw = s_.q_width(), kw = s_.k_width(), vw = s_.v_width();
    if (w.has(p + "attn_qkv.weight")) {
      const std::string name = p + "attn_qkv.weight";
      const int64_t rows = qw + kw + vw;
      wq_ = w.matrix_rows(be, name, n_embd, rows, 0, qw);
      wk_ = w.matrix_rows(be, name, n_embd, rows, qw, kw);
      wv_ = w.matrix_rows(be, name, n_embd, rows, qw + kw, vw);
      if (w.has(p + "attn_qkv.bias")) {
        const std::vector<float> b = w.host_vector(p + "attn_qkv.bias", rows);
        bq_ = be.upload_f32(b.data(), qw, 1);
        bk_ = be.upload_f32(b.data() + qw, kw, 1);
        bv_ = be.upload_f32(b.data() + qw + kw, vw, 1);
      }
    } else {
      wq_ = w.matrix(be, p + "attn_q.weight", n_embd, qw);
      wk_ = w.matrix(be, p + "attn_k.weight", n_embd, kw);
      wv_ = w.matrix(be, p + "attn_v.weight", n_embd, vw);
      const bool optional = s_.qkv_bias != Bias::required;
      bq_ = w.vector(be, p + "attn_q.bias", qw, optional);
      bk_ = w.vector(be, p + "attn_k.bias", kw, optional);
      bv_ = w.vector(be, p + "attn_v.bias", vw, optional);
    }
    wo_ = w.matrix(be, p + "attn_output.weight", s_.n_head * s_.head_dim_v, n_embd);
    bo_ = w.vector(be, p + "attn_output.bias", n_embd, s_.qkv_bias != Bias::required);
    shape_ = attention_shape(s_, s_.n_head_kv, s_.head_dim_k, s_.head_dim_v);
  }

  // No tensors: a pass keeps its keys and values in its scratch (forward).
  ops::KvView make_cache(ops::Backend&, int64_t n_ctx, int, gguf::GgmlType, int64_t ring) const override {
    HEARTH_CHECK(ring == 0);  // encoders see whole sequences
    ops::KvView none;
    none.n_ctx = n_ctx;
    return none;
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::KvView& /*cache: none*/,
               const ops::Tensor& out) const override {
    const int64_t n = st.rows.n;
    ops::Backend& be = st.scratch.backend();
    project_qkv(st, s_, xn, {wq_, wk_, wv_}, {bq_, bk_, bv_});
    const ops::Tensor& q = st.scratch.get(Buf::q, s_.q_width(), n);
    const ops::Tensor& k = st.scratch.get(Buf::k, s_.k_width(), n);
    const ops::Tensor& v = st.scratch.get(Buf::v, s_.v_width(), n);
    const ops::Tensor& att = st.scratch.get(Buf::att, s_.n_head * s_.head_dim_v, n);
    if (s_.rope.n_dims > 0) {
      be.rope(q, n, s_.n_head, s_.head_dim_k, st.rows.pos, s_.rope);
      be.rope(k, n, s_.n_head_kv, s_.head_dim_k, st.rows.pos, s_.rope);
    }
    // The batch's sequences in order of first appearance (dense_[t]: row t's), and each one's
    // last position in this batch: every row of it sees positions [0, that].
    int32_t max_seq = 0;
    for (int64_t t = 0; t < n; ++t) max_seq = std::max(max_seq, st.rows.seq[t]);
    index_.assign(static_cast<size_t>(max_seq) + 1, -1);
    last_.clear();
    dense_.resize(static_cast<size_t>(n));
    end_.resize(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      int32_t& d = index_[static_cast<size_t>(st.rows.seq[t])];
      if (d < 0) {
        d = static_cast<int32_t>(last_.size());
        last_.push_back(0);
      }
      dense_[static_cast<size_t>(t)] = d;
      last_[static_cast<size_t>(d)] = std::max(last_[static_cast<size_t>(d)], st.rows.pos[t]);
    }
    int32_t longest = 0;
    for (const int32_t p : last_) longest = std::max(longest, p + 1);
    for (int64_t t = 0; t < n; ++t) end_[static_cast<size_t>(t)] = last_[static_cast<size_t>(dense_[static_cast<size_t>(t)])];
    ops::KvView pass;
    pass.n_ctx = longest;
    const int64_t pass_rows = static_cast<int64_t>(last_.size()) * longest;
    pass.k = st.scratch.get_rows_of(Buf::pass_k, s_.k_width(), pass_rows);
    pass.v = st.scratch.get_rows_of(Buf::pass_v, s_.v_width(), pass_rows);
    be.store_kv(pass, k, v, ops::SeqRows{st.rows.pos, dense_.data(), n});
    be.attention(shape_, q, pass, ops::SeqRows{end_.data(), dense_.data(), n}, att);
    be.matmul(wo_, att, n, out);
    if (!bo_.empty()) be.add_bias(out, bo_, n, st.n_embd);
  }

 private:
  AttentionSpec s_;
  ops::AttentionShape shape_;
  ops::Tensor wq_, wk_, wv_, wo_, bq_, bk_, bv_, bo_;
  // Host scratch of one forward (one thread at a time): the dense number of each sequence id,
  // each dense sequence's last position, each row's dense sequence and visible end.
  mutable std::vector<int32_t> index_, last_, dense_, end_;
};

class SequentialFfn final : public FfnBlock {
 public:
  SequentialFfn(const FfnSpec& spec, const WeightLoader& w, ops::Backend& be, const std::string& p,
                int64_t n_embd)
      : n_ff_(spec.n_ff) {
    up_ = w.matrix(be, p + "ffn_up.weight", n_embd, n_ff_);
    up_b_ = w.vector(be, p + "ffn_up.bias", n_ff_, true);
    down_ = w.matrix(be, p + "ffn_down.weight", n_ff_, n_embd);
    down_b_ = w.vector(be, p + "ffn_down.bias", n_embd, true);
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::Tensor& out) const override {
    const int64_t n = st.rows.n;
    ops::Backend& be = st.scratch.backend();
    const ops::Tensor& up = st.scratch.get(Buf::up, n_ff_, n);
    be.matmul(up_, xn, n, up);
    if (!up_b_.empty()) be.add_bias(up, up_b_, n, n_ff_);
    be.gelu(up, n * n_ff_, up);
    be.matmul(down_, up, n, out);
    if (!down_b_.empty()) be.add_bias(out, down_b_, n, st.n_embd);
  }

 private:
  int64_t n_ff_;
  ops::Tensor up_, up_b_, down_, down_b_;
};

}  // namespace

std::unique_ptr<AttentionBlock> make_encoder_attention(const AttentionSpec& spec,
                                                       const WeightLoader& w, ops::Backend& be,
                                                       const std::string& prefix, int64_t n_embd) {
  return std::make_unique<EncoderAttention>(spec, w, be, prefix, n_embd);
}

std::unique_ptr<FfnBlock> make_sequential_ffn(const FfnSpec& spec, const WeightLoader& w,
                                              ops::Backend& be, const std::string& prefix,
                                              int64_t n_embd) {
  return std::make_unique<SequentialFfn>(spec, w, be, prefix, n_embd);
}

}  // namespace hearth::model
