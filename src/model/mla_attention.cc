// MlaAttention: DeepSeek-V2/V3's multi-head latent attention, computed in the absorbed form.
//   q       = Wqb rmsnorm(Wqa xn)  (or Wq xn)           [n, n_head, nope + rope]
//   kv      = Wkva xn = [c, k_pe]                       [n, L + rope]
//   cache  <- [rmsnorm(c), RoPE(k_pe)]: one latent row per position, shared by all heads
//   per head h:  q_abs = Wkb_h^T q_nope                  [L]    (the keys' up-projection moved
//                                                               onto the query)
//                att   = softmax(scale ([q_abs, RoPE(q_pe)] . cache)) cache[:, :L]
//                o_h   = Wvb_h att                        [v_head]
//   out     = Wo [o_0 .. o_{n_head-1}]
// which equals attention over per-head keys [Wkb_h c, k_pe] and values Wvb_h c (the expanded form
// the reference computes) while the cache stays L + rope wide per position: 576 values for
// DeepSeek-V3 where expanded keys and values would be 128 x 320. Wkb_h^T and Wvb_h are the
// attn_k_b / attn_v_b stacks of newer files, or are cut from attn_kv_b at load. The heads'
// products run as matmul_id with head h as "expert" h.
//
// A prompt of one sequence may instead take the expanded form: the context's latents (this pass's
// rows, and the earlier ones read back from the cache) are multiplied out to per-head keys
// [Wkb_h c, k_pe] and values Wvb_h c, and an ordinary n_head-head attention runs over them
// (dk = nope + rope, dv). Both forms do the same multiply-adds to move between the latent and the
// heads (per context row here, per query row there), but attention over the latent is 2L + rope
// wide per score and value where the expanded one is nope + rope + dv: 1088 against 320 for V2/V3.
// `expanded_plan` counts both and takes the cheaper, within a scratch budget (the expanded keys
// and values live only for the pass). Decode steps stay absorbed: one query row against a whole
// context is where the expansion costs most. HEARTH_MLA_FORM=absorbed turns the expanded form off,
// =expanded takes it wherever it applies (tests, benchmarks). Its weights are Wkb_h's and Wvb_h's
// rows: attn_kv_b's rows as stored, or attn_v_b's as stored and attn_k_b's transposed at load.

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "model/blocks.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

namespace {

class MlaAttention final : public AttentionBlock {
 public:
  MlaAttention(const AttentionSpec& spec, const WeightLoader& w, ops::Backend& be,
               const std::string& p, int64_t n_embd, float rms_eps)
      : s_(spec), eps_(rms_eps), H_(spec.n_head), L_(spec.kv_lora_rank), R_(spec.rope.n_dims),
        nope_(spec.head_dim_k - spec.rope.n_dims), dv_(spec.head_dim_v) {
    const char* form = std::getenv("HEARTH_MLA_FORM");
    const std::string f = form == nullptr ? "" : form;
    form_ = f == "absorbed" ? Form::absorbed : f == "expanded" ? Form::expanded : Form::cheaper;
    if (L_ <= 0 || R_ <= 0 || nope_ <= 0 || dv_ <= 0) {
      throw Error(ErrorCode::corrupt, "MLA sizes are inconsistent (kv_lora_rank " + std::to_string(L_) +
                                          ", rope " + std::to_string(R_) + ", key " +
                                          std::to_string(s_.head_dim_k) + ")");
    }
    const int64_t q_width = H_ * s_.head_dim_k;
    if (s_.q_lora_rank > 0) {
      wqa_ = w.matrix(be, p + "attn_q_a.weight", n_embd, s_.q_lora_rank);
      qa_norm_ = w.vector(be, p + "attn_q_a_norm.weight", s_.q_lora_rank);
      wqb_ = w.matrix(be, p + "attn_q_b.weight", s_.q_lora_rank, q_width);
    } else {
      wq_ = w.matrix(be, p + "attn_q.weight", n_embd, q_width);
    }
    wkva_ = w.matrix(be, p + "attn_kv_a_mqa.weight", n_embd, L_ + R_);
    kv_norm_ = w.vector(be, p + "attn_kv_a_norm.weight", L_);
    if (w.has(p + "attn_k_b.weight") && w.has(p + "attn_v_b.weight")) {
      wkb_ = w.stack(be, p + "attn_k_b.weight", nope_, L_, H_);
      wvb_ = w.stack(be, p + "attn_v_b.weight", L_, dv_, H_);
      if (form_ != Form::absorbed) expanded_from_k_b_v_b(w, be, p);
    } else {
      split_kv_b(w, be, p + "attn_kv_b.weight");
    }
    wo_ = w.matrix(be, p + "attn_output.weight", H_ * dv_, n_embd);
    // One KV head (the latent) for all query heads; keys L + rope wide, values its first L.
    shape_ = attention_shape(s_, 1, L_ + R_, L_);
    expanded_shape_ = attention_shape(s_, static_cast<int>(H_), s_.head_dim_k, dv_);
  }

  ops::KvView make_cache(ops::Backend& be, int64_t n_ctx, int n_seq, gguf::GgmlType type,
                         int64_t ring) const override {
    HEARTH_CHECK(ring == 0);  // MLA layers have no window
    ops::KvView c;
    c.n_ctx = n_ctx;
    c.k = be.alloc(type, L_ + R_, n_ctx * n_seq);  // no V: the values are the latent
    return c;
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::KvView& cache,
               const ops::Tensor& out) const override {
    const int64_t n = st.rows.n, nh = n * H_, dk = s_.head_dim_k, W = L_ + R_;
    ops::Backend& be = st.scratch.backend();
    Scratch& sc = st.scratch;
    const ops::Tensor& q = sc.get(Buf::q, H_ * dk, n);
    const ops::Tensor& kv = sc.get(Buf::k, W, n);
    if (s_.q_lora_rank > 0) {
      const ops::Tensor& qa = sc.get(Buf::mla_qa, s_.q_lora_rank, n);
      const ops::MatmulJob a[] = {{&wqa_, &qa}, {&wkva_, &kv}};
      be.matmul_many(a, 2, xn, n);
      be.rmsnorm(qa, qa_norm_, n, s_.q_lora_rank, eps_, qa);
      be.matmul(wqb_, qa, n, q);
    } else {
      const ops::MatmulJob a[] = {{&wq_, &q}, {&wkva_, &kv}};
      be.matmul_many(a, 2, xn, n);
    }
    // The cache row: the normed latent, then the RoPE key (rope rotates a head's first columns,
    // so the parts are moved out, transformed and moved back).
    const ops::Tensor& c = sc.get(Buf::v, L_, n);
    be.copy_cols(kv, W, 0, c, L_, 0, L_, n);
    be.rmsnorm(c, kv_norm_, n, L_, eps_, c);
    be.copy_cols(c, L_, 0, kv, W, 0, L_, n);
    const ops::Tensor& pe = sc.get(Buf::mla_rope, R_, nh);
    be.copy_cols(kv, W, L_, pe, R_, 0, R_, n);
    be.rope(pe, n, 1, R_, st.rows.pos, s_.rope);
    be.copy_cols(pe, R_, 0, kv, W, L_, R_, n);
    be.store_kv(cache, kv, kv, st.rows);
    if (const Expanded e = expanded_plan(st.rows); e.use) {
      return forward_expanded(st, e, q, kv, c, cache, out);
    }

    // Each head's query against the latent: [Wkb_h^T q_nope, RoPE(q_pe)].
    const ops::Tensor& query = sc.get(Buf::mla_query, W, nh);
    be.copy_cols(q, dk, nope_, pe, R_, 0, R_, nh);
    be.rope(pe, n, static_cast<int>(H_), R_, st.rows.pos, s_.rope);
    be.copy_cols(pe, R_, 0, query, W, L_, R_, nh);
    const ops::Tensor& q_nope = sc.get(Buf::mla_nope, nope_, nh);
    be.copy_cols(q, dk, 0, q_nope, nope_, 0, nope_, nh);
    const ops::Tensor& ids = head_ids(sc, n);
    const ops::Tensor& absorbed = sc.get(Buf::mla_absorbed, L_, nh);
    be.matmul_id(wkb_, q_nope, true, ids, n, static_cast<int>(H_), absorbed);
    be.copy_cols(absorbed, L_, 0, query, W, 0, L_, nh);

    const ops::Tensor& att = sc.get(Buf::att, H_ * L_, n);
    be.attention(shape_, query, cache, st.rows, att);
    const ops::Tensor& heads = sc.get(Buf::q, dv_, nh);  // q is consumed
    be.matmul_id(wvb_, att, true, ids, n, static_cast<int>(H_), heads);
    be.matmul(wo_, heads, n, out);
  }

 private:
  struct Expanded {
    bool use = false;
    int32_t seq = 0;
    int64_t depth = 0;  // positions of the sequence already in the cache before this pass
  };

  // The expanded form when the rows are one sequence's consecutive positions and it does fewer
  // multiply-adds (module comment), and its buffers fit kExpandedBytes.
  Expanded expanded_plan(const ops::SeqRows& r) const {
    static constexpr double kExpandedBytes = 128.0 * 1024 * 1024;
    if (wk_rows_.empty() || r.n == 0) return {};
    const int32_t seq = r.seq[0], p0 = r.pos[0];
    for (int64_t t = 0; t < r.n; ++t) {
      if (r.seq[t] != seq || r.pos[t] != p0 + t) return {};
    }
    const double n = static_cast<double>(r.n), ctx = p0 + n, L = static_cast<double>(L_);
    const double scores = n * (p0 + (n + 1) / 2);  // (query, key) pairs under the causal mask
    const double move = L * static_cast<double>(nope_ + dv_);
    const double expanded = ctx * move + scores * static_cast<double>(s_.head_dim_k + dv_);
    const double absorbed = n * move + scores * (2 * L + static_cast<double>(R_));
    const double bytes = 4 * ctx * static_cast<double>(2 * (L_ + R_) + H_ * (s_.head_dim_k + nope_ + dv_));
    if (bytes > kExpandedBytes || (form_ == Form::cheaper && expanded >= absorbed)) return {};
    return {true, seq, p0};
  }

  // kv [n, L + rope]: this pass's cache rows as stored; c [n, L] their normed latents.
  void forward_expanded(const Step& st, const Expanded& e, const ops::Tensor& q, const ops::Tensor& kv,
                        const ops::Tensor& c, const ops::KvView& cache, const ops::Tensor& out) const {
    const int64_t n = st.rows.n, nh = n * H_, dk = s_.head_dim_k, W = L_ + R_, ctx = e.depth + n;
    ops::Backend& be = st.scratch.backend();
    Scratch& sc = st.scratch;
    const ops::Tensor* rows = &kv;
    const ops::Tensor* latent = &c;
    if (e.depth > 0) {
      std::vector<int32_t> ids(static_cast<size_t>(ctx));
      for (int64_t i = 0; i < ctx; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(e.seq * cache.n_ctx + i);
      const ops::Tensor& all = sc.get(Buf::mla_context, W, ctx);
      be.get_rows(cache.k, ids.data(), ctx, all);
      const ops::Tensor& lat = sc.get(Buf::mla_latent, L_, ctx);
      be.copy_cols(all, W, 0, lat, L_, 0, L_, ctx);
      rows = &all;
      latent = &lat;
    }
    const ops::Tensor& nope = sc.get(Buf::mla_keys_nope, H_ * nope_, ctx);
    const ops::Tensor& values = sc.get_rows_of(Buf::mla_values, H_ * dv_, ctx);
    const ops::MatmulJob jobs[] = {{&wk_rows_, &nope}, {&wv_rows_, &values}};
    be.matmul_many(jobs, 2, *latent, ctx);
    const ops::Tensor& keys = sc.get_rows_of(Buf::mla_keys, H_ * dk, ctx);
    for (int64_t h = 0; h < H_; ++h) {
      be.copy_cols(nope, H_ * nope_, h * nope_, keys, H_ * dk, h * dk, nope_, ctx);
      be.copy_cols(*rows, W, L_, keys, H_ * dk, h * dk + nope_, R_, ctx);
    }
    // The queries' RoPE parts, rotated in place.
    const ops::Tensor& pe = sc.get(Buf::mla_rope, R_, nh);
    be.copy_cols(q, dk, nope_, pe, R_, 0, R_, nh);
    be.rope(pe, n, static_cast<int>(H_), R_, st.rows.pos, s_.rope);
    be.copy_cols(pe, R_, 0, q, dk, nope_, R_, nh);

    // The keys and values hold this sequence alone: it is sequence 0 of a one-sequence view.
    const std::vector<int32_t> seq0(static_cast<size_t>(n), 0);
    const ops::SeqRows rows0{st.rows.pos, seq0.data(), n};
    ops::KvView view;
    view.k = keys;
    view.v = values;
    view.n_ctx = ctx;
    const ops::Tensor& att = sc.get(Buf::att, H_ * dv_, n);
    be.attention(expanded_shape_, q, view, rows0, att);
    be.matmul(wo_, att, n, out);
  }

  // I32 [n, n_head]: row t says 0, 1, .., n_head - 1 (head h uses "expert" h of the stacks).
  const ops::Tensor& head_ids(Scratch& sc, int64_t n) const {
    const ops::Tensor& ids = sc.get(Buf::head_ids, H_, n, gguf::GgmlType::I32);
    std::vector<int32_t> v(static_cast<size_t>(n * H_));
    for (int64_t i = 0; i < n * H_; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>(i % H_);
    sc.backend().write(ids, n * H_, reinterpret_cast<const float*>(v.data()));
    return ids;
  }

  // The expanded form's matrices: all heads' Wvb rows (wvb_'s storage seen as one matrix), and
  // all heads' Wkb rows of attn_kv_b as stored.
  void upload_expanded(const gguf::TensorInfo& t, int64_t row_bytes, ops::Backend& be) {
    const int64_t per_head = nope_ + dv_;
    wv_rows_ = ops::rows_of_stack(wvb_);
    kr_bytes_.resize(static_cast<size_t>(H_ * nope_ * row_bytes));
    for (int64_t h = 0; h < H_; ++h) {
      std::memcpy(kr_bytes_.data() + h * nope_ * row_bytes, t.data + h * per_head * row_bytes,
                  static_cast<size_t>(nope_ * row_bytes));
    }
    const int64_t ne_kr[3] = {L_, H_ * nope_, 1};
    ops::Backend::Upload kr = be.upload_weight(t.type, ne_kr, row_bytes, kr_bytes_.data(),
                                               ops::Backend::WeightUse::matmul);
    wk_rows_ = kr.tensor;
    if (kr.copied) std::vector<uint8_t>().swap(kr_bytes_);
  }

  // The expanded form's matrices from attn_v_b [n_head][dv][L] (Wvb_h's rows: wvb_'s storage) and
  // attn_k_b [n_head][L][nope] (Wkb_h transposed: dequantized, transposed and stored again as
  // rows of L, in the type transposed_type picks).
  void expanded_from_k_b_v_b(const WeightLoader& w, ops::Backend& be, const std::string& p) {
    wv_rows_ = ops::rows_of_stack(wvb_);
    const gguf::TensorInfo& kb = w.tensor(p + "attn_k_b.weight");
    const quant::TypeTraits& tr = quant::traits(kb.type);
    const gguf::GgmlType kt = transposed_type(kb.type, L_);
    const quant::TypeTraits& kq = quant::traits(kt);
    const int64_t in_row = nope_ / tr.block_elems * tr.block_bytes, out_row = L_ / kq.block_elems * kq.block_bytes;
    kr_bytes_.resize(static_cast<size_t>(H_ * nope_ * out_row));
    std::vector<float> rows(static_cast<size_t>(L_ * nope_)), row(static_cast<size_t>(L_));
    for (int64_t h = 0; h < H_; ++h) {
      tr.to_float(kb.data + h * L_ * in_row, rows.data(), L_ * nope_);
      for (int64_t i = 0; i < nope_; ++i) {
        for (int64_t j = 0; j < L_; ++j) row[static_cast<size_t>(j)] = rows[static_cast<size_t>(j * nope_ + i)];
        kq.from_float(row.data(), kr_bytes_.data() + (h * nope_ + i) * out_row, L_);
      }
    }
    const int64_t ne_kr[3] = {L_, H_ * nope_, 1};
    ops::Backend::Upload kr = be.upload_weight(kt, ne_kr, out_row, kr_bytes_.data(), ops::Backend::WeightUse::matmul);
    wk_rows_ = kr.tensor;
    if (kr.copied) std::vector<uint8_t>().swap(kr_bytes_);
  }

  // The type of a transposed copy of a `type` matrix with rows of n: F32 from F32, else Q8_0 (rows
  // of whole blocks: the fast kernels' format and a quarter of F32's bytes, its rounding of the
  // order of the activations' own 8-bit rounding) or F16.
  static gguf::GgmlType transposed_type(gguf::GgmlType type, int64_t n) {
    return type == gguf::GgmlType::F32 ? gguf::GgmlType::F32
           : n % 32 == 0              ? gguf::GgmlType::Q8_0
                                      : gguf::GgmlType::F16;
  }

  // attn_kv_b [L, n_head * (nope + v)] holds, per head, nope rows of Wkb_h then v rows of Wvb_h.
  // Wvb_h's rows are copied as they are (any type); Wkb_h is transposed, so it is dequantized and
  // stored again.
  void split_kv_b(const WeightLoader& w, ops::Backend& be, const std::string& name) {
    const gguf::TensorInfo& t = w.tensor(name);
    const int64_t per_head = nope_ + dv_;
    if (t.ne[0] != L_ || t.n_rows() != H_ * per_head || t.ne[1] != H_ * per_head) {
      throw Error(ErrorCode::corrupt, "tensor '" + name + "' has shape " + t.shape_string() +
                                          ", expected [" + std::to_string(L_) + ", " +
                                          std::to_string(H_ * per_head) + "]");
    }
    const quant::TypeTraits& tr = quant::traits(t.type);
    if (L_ % tr.block_elems != 0) {
      throw Error(ErrorCode::corrupt, "tensor '" + name + "' rows are not whole blocks");
    }
    const int64_t row_bytes = L_ / tr.block_elems * tr.block_bytes;
    if (static_cast<uint64_t>(row_bytes * t.n_rows()) > t.n_bytes) {
      throw Error(ErrorCode::corrupt, "tensor '" + name + "' data is truncated");
    }
    // Wvb: n_head x [dv, L], rows as stored.
    vb_bytes_.resize(static_cast<size_t>(H_ * dv_ * row_bytes));
    for (int64_t h = 0; h < H_; ++h) {
      std::memcpy(vb_bytes_.data() + h * dv_ * row_bytes, t.data + (h * per_head + nope_) * row_bytes,
                  static_cast<size_t>(dv_ * row_bytes));
    }
    const int64_t ne_v[3] = {L_, dv_, H_};
    ops::Backend::Upload v = be.upload_weight(t.type, ne_v, row_bytes, vb_bytes_.data(),
                                              ops::Backend::WeightUse::matmul);
    wvb_ = v.tensor;
    if (v.copied) std::vector<uint8_t>().swap(vb_bytes_);
    if (form_ != Form::absorbed) upload_expanded(t, row_bytes, be);

    // Wkb_h^T: n_head x [L, nope].
    const gguf::GgmlType kt = transposed_type(t.type, nope_);
    const quant::TypeTraits& kq = quant::traits(kt);
    const int64_t k_row_bytes = nope_ / kq.block_elems * kq.block_bytes;
    kb_bytes_.resize(static_cast<size_t>(H_ * L_ * k_row_bytes));
    std::vector<float> rows(static_cast<size_t>(nope_ * L_)), col(static_cast<size_t>(nope_));
    for (int64_t h = 0; h < H_; ++h) {
      tr.to_float(t.data + h * per_head * row_bytes, rows.data(), nope_ * L_);
      for (int64_t j = 0; j < L_; ++j) {
        for (int64_t i = 0; i < nope_; ++i) col[static_cast<size_t>(i)] = rows[static_cast<size_t>(i * L_ + j)];
        kq.from_float(col.data(), kb_bytes_.data() + (h * L_ + j) * k_row_bytes, nope_);
      }
    }
    const int64_t ne_k[3] = {nope_, L_, H_};
    ops::Backend::Upload k = be.upload_weight(kt, ne_k, k_row_bytes, kb_bytes_.data(),
                                              ops::Backend::WeightUse::matmul);
    wkb_ = k.tensor;
    if (k.copied) std::vector<uint8_t>().swap(kb_bytes_);
  }

  AttentionSpec s_;
  float eps_;
  int64_t H_, L_, R_, nope_, dv_;
  // HEARTH_MLA_FORM: absorbed, expanded (wherever it applies: tests), else the cheaper one.
  enum class Form { cheaper, absorbed, expanded } form_ = Form::cheaper;
  ops::AttentionShape shape_, expanded_shape_;
  ops::Tensor wq_, wqa_, qa_norm_, wqb_, wkva_, kv_norm_, wkb_, wvb_, wo_;
  // The expanded form's [L -> n_head * nope], [L -> n_head * dv] (wv_rows_: wvb_'s storage).
  ops::Tensor wk_rows_, wv_rows_;
  std::vector<uint8_t> kb_bytes_, vb_bytes_, kr_bytes_;  // derived weights the backend reads in place
};

}  // namespace

std::unique_ptr<AttentionBlock> make_mla_attention(const AttentionSpec& spec, const WeightLoader& w,
                                                   ops::Backend& be, const std::string& prefix,
                                                   int64_t n_embd, float rms_eps) {
  return std::make_unique<MlaAttention>(spec, w, be, prefix, n_embd, rms_eps);
}

}  // namespace hearth::model
