#include "model/decoder.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/check.h"

namespace hearth::model {

namespace {
std::string blk(int64_t il, const char* name) {
  return "blk." + std::to_string(il) + "." + name;
}
}  // namespace

Decoder::Decoder(gguf::File file, const ops::Backend& backend, HParams hp,
                 const DecoderOptions& opt)
    : Model(std::move(file), backend), opt_(opt) {
  hp_ = std::move(hp);
  WeightBinder w(file_);
  const gguf::TensorInfo& embd = w.tensor("token_embd.weight");
  hp_.n_vocab = embd.n_rows();
  tok_embd_ = w.matrix("token_embd.weight", hp_.n_embd, hp_.n_vocab);
  output_norm_ = w.vector("output_norm.weight", hp_.n_embd);
  // Tied embeddings: without output.weight the logits reuse the embedding matrix.
  output_ = w.has("output.weight") ? w.matrix("output.weight", hp_.n_embd, hp_.n_vocab) : tok_embd_;
  if (opt_.rope_freqs) {
    rope_freqs_ = w.vector_or_empty("rope_freqs.weight", hp_.rope.n_dims / 2);
    if (!rope_freqs_.empty()) hp_.rope.freq_factors = rope_freqs_.data();
  }
  const int64_t n_embd = hp_.n_embd;
  layers_.resize(static_cast<size_t>(hp_.n_layer));
  for (int64_t il = 0; il < hp_.n_layer; ++il) {
    Layer& l = layers_[static_cast<size_t>(il)];
    l.attn_norm = w.vector(blk(il, "attn_norm.weight"), n_embd);
    l.wq = w.matrix(blk(il, "attn_q.weight"), n_embd, hp_.q_width());
    l.wk = w.matrix(blk(il, "attn_k.weight"), n_embd, hp_.k_width());
    l.wv = w.matrix(blk(il, "attn_v.weight"), n_embd, hp_.v_width());
    l.wo = w.matrix(blk(il, "attn_output.weight"), hp_.n_head * hp_.head_dim_v, n_embd);
    if (opt_.qkv_bias) {
      l.bq = w.vector(blk(il, "attn_q.bias"), hp_.q_width());
      l.bk = w.vector(blk(il, "attn_k.bias"), hp_.k_width());
      l.bv = w.vector(blk(il, "attn_v.bias"), hp_.v_width());
    } else if (opt_.optional_bias) {
      l.bq = w.vector_or_empty(blk(il, "attn_q.bias"), hp_.q_width());
      l.bk = w.vector_or_empty(blk(il, "attn_k.bias"), hp_.k_width());
      l.bv = w.vector_or_empty(blk(il, "attn_v.bias"), hp_.v_width());
    }
    if (opt_.qk_norm) {
      l.q_norm = w.vector(blk(il, "attn_q_norm.weight"), hp_.head_dim_k);
      l.k_norm = w.vector(blk(il, "attn_k_norm.weight"), hp_.head_dim_k);
    }
    l.ffn_norm = w.vector(blk(il, "ffn_norm.weight"), n_embd);
    l.gate = w.matrix(blk(il, "ffn_gate.weight"), n_embd, hp_.n_ff);
    l.up = w.matrix(blk(il, "ffn_up.weight"), n_embd, hp_.n_ff);
    l.down = w.matrix(blk(il, "ffn_down.weight"), hp_.n_ff, n_embd);
  }
  // tok_embd_ stays as the file has it (get_rows reads single rows); output_ is its own copy of the
  // view, so a tied output matrix may still be repacked.
  // Rows the backend copied are not read from the map again (but for the few embedding rows a
  // tied output's lookups fault back in): release them, so resident memory counts them once.
  auto prepare = [&](ops::Matrix& m) {
    const uint8_t* rows = m.data;
    if (auto owner = be_.prepare(m)) {
      prepared_.push_back(std::move(owner));
      file_.release_pages(rows, static_cast<size_t>(m.n_rows * m.row_bytes));
    }
  };
  for (Layer& l : layers_) {
    for (ops::Matrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) prepare(*m);
  }
  prepare(output_);
}

void Decoder::forward_impl(const Batch& batch, KvCache& cache, float* logits) {
  HEARTH_CHECK(cache.k_width() == hp_.k_width() && cache.v_width() == hp_.v_width());
  const int64_t n = batch.size();
  const int64_t n_embd = hp_.n_embd;
  const int64_t att_width = hp_.n_head * hp_.head_dim_v;
  auto fit = [](std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(static_cast<size_t>(size));
    return v.data();
  };
  float* x = fit(x_, n * n_embd);    // residual stream [n, n_embd]
  float* xn = fit(xn_, n * n_embd);  // normed input of a sublayer [n, n_embd]
  float* q = fit(q_, n * hp_.q_width());
  float* k = fit(k_, n * hp_.k_width());
  float* v = fit(v_, n * hp_.v_width());
  float* att = fit(att_, n * att_width);  // attention output per head [n, n_head * head_dim_v]
  float* o = fit(o_, n * n_embd);
  float* gate = fit(gate_, n * hp_.n_ff);
  float* up = fit(up_, n * hp_.n_ff);
  rows_.resize(static_cast<size_t>(n));

  ops::AttentionShape shape;
  shape.n_head = hp_.n_head;
  shape.n_head_kv = hp_.n_head_kv;
  shape.head_dim_k = hp_.head_dim_k;
  shape.head_dim_v = hp_.head_dim_v;
  shape.k_stride = hp_.k_width();
  shape.v_stride = hp_.v_width();
  shape.kv_type = cache.type();
  shape.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp_.head_dim_k)));

  be_.get_rows(tok_embd_, batch.token.data(), n, x);
  for (int64_t il = 0; il < hp_.n_layer; ++il) {
    const Layer& l = layers_[static_cast<size_t>(il)];
    be_.rmsnorm(x, l.attn_norm.data(), n, n_embd, hp_.rms_eps, xn);
    const ops::MatmulOut qkv[] = {{&l.wq, q}, {&l.wk, k}, {&l.wv, v}};
    be_.matmul_many(qkv, 3, xn, n);
    if (!l.bq.empty()) be_.add_bias(q, l.bq.data(), n, hp_.q_width());
    if (!l.bk.empty()) be_.add_bias(k, l.bk.data(), n, hp_.k_width());
    if (!l.bv.empty()) be_.add_bias(v, l.bv.data(), n, hp_.v_width());
    if (!l.q_norm.empty()) {
      // Each head of each row is normalized on its own: [n * n_head, head_dim].
      be_.rmsnorm(q, l.q_norm.data(), n * hp_.n_head, hp_.head_dim_k, hp_.rms_eps, q);
      be_.rmsnorm(k, l.k_norm.data(), n * hp_.n_head_kv, hp_.head_dim_k, hp_.rms_eps, k);
    }
    be_.rope(q, n, hp_.n_head, hp_.head_dim_k, batch.pos.data(), hp_.rope);
    be_.rope(k, n, hp_.n_head_kv, hp_.head_dim_k, batch.pos.data(), hp_.rope);
    // Store every row first: a row then sees the rows before it in its own sequence, whether
    // they came in this batch or an earlier one.
    for (int64_t t = 0; t < n; ++t) {
      cache.store(il, batch.seq[t], batch.pos[t], k + t * hp_.k_width(), v + t * hp_.v_width());
    }
    for (int64_t t = 0; t < n; ++t) {
      ops::AttentionRow& r = rows_[static_cast<size_t>(t)];
      r.q = q + t * hp_.q_width();
      r.k = cache.k(il, batch.seq[t]);
      r.v = cache.v(il, batch.seq[t]);
      r.n_kv = batch.pos[t] + 1;
      r.out = att + t * att_width;
    }
    be_.attention(shape, rows_.data(), n);
    be_.matmul(l.wo, att, n, o);
    be_.add(x, o, n * n_embd);

    be_.rmsnorm(x, l.ffn_norm.data(), n, n_embd, hp_.rms_eps, xn);
    const ops::MatmulOut gate_up[] = {{&l.gate, gate}, {&l.up, up}};
    be_.matmul_many(gate_up, 2, xn, n);
    be_.swiglu(gate, up, n * hp_.n_ff, gate);
    be_.matmul(l.down, gate, n, o);
    be_.add(x, o, n * n_embd);
  }

  // Only the rows that want logits go through the (large) output matrix.
  int64_t m = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (!batch.want_logits[t]) continue;
    if (m != t) std::copy(x + t * n_embd, x + (t + 1) * n_embd, x + m * n_embd);
    ++m;
  }
  if (m == 0) return;
  if (hidden_only_) {  // forward_hidden: the normed state is the answer
    be_.rmsnorm(x, output_norm_.data(), m, n_embd, hp_.rms_eps, logits);
    return;
  }
  be_.rmsnorm(x, output_norm_.data(), m, n_embd, hp_.rms_eps, xn);
  be_.matmul(output_, xn, m, logits);
}

}  // namespace hearth::model
