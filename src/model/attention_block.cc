// GqaAttention: the attention block of the llama family (and of Gemma, Phi-3 and others through
// their spec values).
//   q, k, v = Wq xn (+bq), Wk xn (+bk), Wv xn (+bv)     [n, q_width], [n, k_width], [n, v_width]
//             (Wq, Wk, Wv may be the three row ranges of one fused attn_qkv)
//   q, k    = per-head RMSNorm (QkNorm::per_head_rms), then RoPE at each row's position (LongRoPE:
//             the factor table the cache's context calls for)
//   cache  <- k, v at (seq, pos) (a ring's slot pos % ring for a windowed layer: kv_cache.h);
//             att = softmax(scale q.K^T (soft-capped)) V over the row's window
//   out     = Wo att (+ bo)                              [n, n_embd]
// Optionally with attention sinks (gpt-oss): a per-head logit in every softmax's denominator.

#include <cmath>
#include <vector>

#include "model/blocks.h"
#include "util/check.h"

namespace hearth::model {

namespace {

class GqaAttention final : public AttentionBlock {
 public:
  GqaAttention(const AttentionSpec& spec, const WeightLoader& w, ops::Backend& be,
               const std::string& p, int64_t n_embd, float rms_eps)
      : s_(spec), eps_(rms_eps) {
    const bool fused = s_.qkv_weights == QkvWeights::fused_if_present && w.has(p + "attn_qkv.weight");
    if (fused) {
      const std::string qkv = p + "attn_qkv.weight";
      const int64_t rows = s_.q_width() + s_.k_width() + s_.v_width();
      wq_ = w.matrix_rows(be, qkv, n_embd, rows, 0, s_.q_width());
      wk_ = w.matrix_rows(be, qkv, n_embd, rows, s_.q_width(), s_.k_width());
      wv_ = w.matrix_rows(be, qkv, n_embd, rows, s_.q_width() + s_.k_width(), s_.v_width());
    } else {
      wq_ = w.matrix(be, p + "attn_q.weight", n_embd, s_.q_width());
      wk_ = w.matrix(be, p + "attn_k.weight", n_embd, s_.k_width());
      wv_ = w.matrix(be, p + "attn_v.weight", n_embd, s_.v_width());
    }
    const std::string out = p + s_.out_name;
    wo_ = w.matrix(be, out + ".weight", s_.n_head * s_.head_dim_v, n_embd);
    if (s_.qkv_bias != Bias::none) {
      const bool optional = s_.qkv_bias == Bias::if_present;
      if (fused && (!optional || w.has(p + "attn_qkv.bias"))) {
        const int64_t widths[3] = {s_.q_width(), s_.k_width(), s_.v_width()};
        const std::vector<float> b =
            w.host_vector(p + "attn_qkv.bias", widths[0] + widths[1] + widths[2]);
        bq_ = be.upload_f32(b.data(), widths[0], 1);
        bk_ = be.upload_f32(b.data() + widths[0], widths[1], 1);
        bv_ = be.upload_f32(b.data() + widths[0] + widths[1], widths[2], 1);
      } else if (!fused) {
        bq_ = w.vector(be, p + "attn_q.bias", s_.q_width(), optional);
        bk_ = w.vector(be, p + "attn_k.bias", s_.k_width(), optional);
        bv_ = w.vector(be, p + "attn_v.bias", s_.v_width(), optional);
      }
    }
    if (s_.out_bias != Bias::none) {
      bo_ = w.vector(be, out + ".bias", n_embd, s_.out_bias == Bias::if_present);
    }
    if (s_.sinks == Sinks::per_head) sinks_ = w.host_vector(p + s_.sinks_name, s_.n_head);
    if (s_.qk_norm == QkNorm::per_head_rms) {
      q_norm_ = w.vector(be, p + "attn_q_norm.weight", s_.head_dim_k);
      k_norm_ = w.vector(be, p + "attn_k_norm.weight", s_.head_dim_k);
    }
    shape_ = attention_shape(s_, s_.n_head_kv, s_.head_dim_k, s_.head_dim_v);
    if (!sinks_.empty()) shape_.sinks = sinks_.data();
    rope_long_ = s_.rope;
    if (s_.rope_long_factors != nullptr) rope_long_.freq_factors = s_.rope_long_factors;
  }

  ops::KvView make_cache(ops::Backend& be, int64_t n_ctx, int n_seq, gguf::GgmlType type,
                         int64_t ring) const override {
    HEARTH_CHECK(ring == 0 || (s_.window > 0 && ring >= s_.window));
    return alloc_kv_cache(be, s_.k_width(), s_.v_width(), n_ctx, n_seq, type, ring);
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::KvView& cache,
               const ops::Tensor& out) const override {
    const int64_t n = st.rows.n;
    ops::Backend& be = st.scratch.backend();
    project_qkv(st, s_, xn, {wq_, wk_, wv_}, {bq_, bk_, bv_});
    const ops::Tensor& q = st.scratch.get(Buf::q, s_.q_width(), n);
    const ops::Tensor& k = st.scratch.get(Buf::k, s_.k_width(), n);
    const ops::Tensor& v = st.scratch.get(Buf::v, s_.v_width(), n);
    const ops::Tensor& att = st.scratch.get(Buf::att, s_.n_head * s_.head_dim_v, n);
    if (!q_norm_.empty()) {
      // Each head of each row is normalized on its own: [n * n_head, head_dim].
      be.rmsnorm(q, q_norm_, n * s_.n_head, s_.head_dim_k, eps_, q);
      be.rmsnorm(k, k_norm_, n * s_.n_head_kv, s_.head_dim_k, eps_, k);
    }
    // LongRoPE picks its table by the context the cache was made for, not by the positions seen
    // so far, so a sequence's keys are all rotated alike (llama.cpp's rule: n_ctx per sequence
    // above the original training context takes the long factors).
    const bool long_ctx = s_.rope_long_factors != nullptr && cache.n_ctx > s_.rope_n_ctx_orig;
    const ops::RopeParams& rope = long_ctx ? rope_long_ : s_.rope;
    be.rope(q, n, s_.n_head, s_.head_dim_k, st.rows.pos, rope);
    be.rope(k, n, s_.n_head_kv, s_.head_dim_k, st.rows.pos, rope);
    // Every row is stored first: a row then sees the rows before it in its own sequence, whether
    // they came in this batch or an earlier one.
    be.store_kv(cache, k, v, st.rows);
    be.attention(shape_, q, cache, st.rows, att);
    be.matmul(wo_, att, n, out);
    if (!bo_.empty()) be.add_bias(out, bo_, n, st.n_embd);
  }

 private:
  AttentionSpec s_;
  float eps_;
  ops::AttentionShape shape_;
  ops::RopeParams rope_long_;  // s_.rope with the long factors (LongRoPE), else s_.rope
  ops::Tensor wq_, wk_, wv_, wo_, bq_, bk_, bv_, bo_, q_norm_, k_norm_;
  std::vector<float> sinks_;  // [n_head] host table the attention op reads (shape_.sinks)
};

}  // namespace

ops::AttentionShape attention_shape(const AttentionSpec& s, int n_head_kv, int64_t dk, int64_t dv) {
  ops::AttentionShape a;
  a.n_head = s.n_head;
  a.n_head_kv = n_head_kv;
  a.head_dim_k = dk;
  a.head_dim_v = dv;
  a.scale = s.scale > 0.0f ? s.scale : static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim_k)));
  a.softcap = s.softcap;
  a.window = s.window;
  return a;
}

ops::KvView alloc_kv_cache(ops::Backend& be, int64_t k_width, int64_t v_width, int64_t n_ctx,
                           int n_seq, gguf::GgmlType type, int64_t ring) {
  ops::KvView c;
  c.n_ctx = n_ctx;
  c.ring = ring;
  c.k = be.alloc_keys(type, k_width, c.rows_per_seq(), n_seq);
  try {
    c.v = be.alloc(type, v_width, c.rows_per_seq() * n_seq);
  } catch (...) {
    be.release(c.k);
    throw;
  }
  return c;
}

void project_qkv(const Step& st, const AttentionSpec& s, const ops::Tensor& xn,
                 const ops::Tensor (&w)[3], const ops::Tensor (&b)[3]) {
  const int64_t n = st.rows.n;
  ops::Backend& be = st.scratch.backend();
  const int64_t width[3] = {s.q_width(), s.k_width(), s.v_width()};
  const ops::Tensor& q = st.scratch.get(Buf::q, width[0], n);
  const ops::Tensor& k = st.scratch.get(Buf::k, width[1], n);
  const ops::Tensor& v = st.scratch.get(Buf::v, width[2], n);
  const ops::MatmulJob jobs[] = {{&w[0], &q}, {&w[1], &k}, {&w[2], &v}};
  be.matmul_many(jobs, 3, xn, n);
  const ops::Tensor* out[3] = {&q, &k, &v};
  for (int i = 0; i < 3; ++i) {
    if (!b[i].empty()) be.add_bias(*out[i], b[i], n, width[i]);
  }
}

std::unique_ptr<AttentionBlock> make_attention(const AttentionSpec& spec, const WeightLoader& w,
                                               ops::Backend& be, const std::string& prefix,
                                               int64_t n_embd, float rms_eps) {
  switch (spec.kind) {
    case AttentionKind::gqa:
      return std::make_unique<GqaAttention>(spec, w, be, prefix, n_embd, rms_eps);
    case AttentionKind::mla:
      return make_mla_attention(spec, w, be, prefix, n_embd, rms_eps);
    case AttentionKind::encoder:
      return make_encoder_attention(spec, w, be, prefix, n_embd);
  }
  return nullptr;
}

}  // namespace hearth::model
