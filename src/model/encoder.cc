// Model, for encoders (ModelKind::encoder: bert, nomic-bert), as llama.cpp's BERT graph runs them:
//   x = LayerNorm(tok_embd[token] + token_types[0] (+ position_embd[pos]))      (token_embd_norm)
//   per layer:  x = LayerNorm(x + attention(x))      (attn_output_norm, weight and bias)
//               x = LayerNorm(x + ffn(x))            (layer_output_norm, weight and bias)
// and the hidden states of the wanted rows are the output (pooled by the engine); no output
// norm, no logits. Every input is "sentence A": token type 0 for every row.
//
// Layers may sit on any backend, as a decoder's (the last n_offload on the offload backend, by
// num_gpu); the embeddings, their norm and the position table go with the first layer (there is
// no output head). What a backend cannot run is refused by it with its reason: a weight type at
// upload, attention heads wider than its shader at the first pass.

#include <string>

#include "model/model.h"
#include "quant/type_traits.h"
#include "util/error.h"

namespace hearth::model {

void Model::bind_encoder(WeightLoader& w, int64_t n_offload) {
  const int64_t n_layer = static_cast<int64_t>(spec_.layers.size());
  const int64_t n_embd = spec_.n_embd;
  const size_t head = backends_.size() - 1;
  hp_.n_vocab = w.tensor("token_embd.weight").n_rows();
  layers_.resize(static_cast<size_t>(n_layer));
  for (int64_t il = 0; il < n_layer; ++il) {
    Layer& l = layers_[static_cast<size_t>(il)];
    const size_t b = il >= n_layer - n_offload ? head : 0;
    l.backend = backends_[b].get();
    l.scratch = scratch_[b].get();
    const LayerSpec& ls = spec_.layers[static_cast<size_t>(il)];
    if (ls.norms != NormPlacement::post_layernorm) {
      throw Error(ErrorCode::internal, "an encoder's layers must be post-LayerNorm");
    }
    const std::string p = "blk." + std::to_string(il) + ".";
    l.attn_norm = w.vector(*l.backend, p + "attn_output_norm.weight", n_embd);
    l.attn_norm_b = w.vector(*l.backend, p + "attn_output_norm.bias", n_embd);
    l.ffn_norm = w.vector(*l.backend, p + "layer_output_norm.weight", n_embd);
    l.ffn_norm_b = w.vector(*l.backend, p + "layer_output_norm.bias", n_embd);
    l.attention = make_attention(ls.attention, w, *l.backend, p, n_embd, 0.0f);
    l.ffn = make_ffn(ls.ffn, w, *l.backend, p, n_embd);
  }
  ops::Backend& first = n_layer > 0 ? *layers_[0].backend : *head_;
  tok_embd_ = w.matrix(first, "token_embd.weight", n_embd, hp_.n_vocab, WeightLoader::Use::lookup);
  if (w.has("token_types.weight")) {
    // Only type 0 is ever used: its row, added to every token as a bias.
    const gguf::TensorInfo& t = w.tensor("token_types.weight");
    if (t.ne[0] != n_embd || !quant::is_supported(t.type) ||
        n_embd % quant::traits(t.type).block_elems != 0) {
      throw Error(ErrorCode::corrupt, file_.path() + ": tensor 'token_types.weight' has shape " +
                                          t.shape_string() + " and type " +
                                          gguf::type_name(t.type) + ", expected rows of " +
                                          std::to_string(n_embd) + " values");
    }
    std::vector<float> row(static_cast<size_t>(n_embd));
    quant::traits(t.type).to_float(t.data, row.data(), n_embd);
    type_embd0_ = first.upload_f32(row.data(), n_embd, 1);
  }
  if (spec_.position_embd == PositionEmbd::absolute) {
    n_pos_ = w.tensor("position_embd.weight").n_rows();
    pos_embd_ = w.matrix(first, "position_embd.weight", n_embd, n_pos_, WeightLoader::Use::lookup);
  }
  embd_norm_ = w.vector(first, "token_embd_norm.weight", n_embd);
  embd_norm_b_ = w.vector(first, "token_embd_norm.bias", n_embd);
}

void Model::run_encoder(const Batch& batch, KvCache& cache, float* out, bool hidden_only) {
  if (!hidden_only) {
    throw Error(ErrorCode::unsupported, hp_.arch + " is an embedding model: it computes no logits");
  }
  const int64_t n = batch.size();
  const int64_t n_embd = spec_.n_embd;
  const float eps = spec_.norm_eps;
  for (int64_t i = 0; i < n && !pos_embd_.empty(); ++i) {
    if (batch.pos[i] >= n_pos_) {
      throw Error(ErrorCode::invalid_argument, "position " + std::to_string(batch.pos[i]) +
                                                   " is past the model's " + std::to_string(n_pos_) +
                                                   " position embeddings");
    }
  }
  const ops::SeqRows rows{batch.pos.data(), batch.seq.data(), n};
  Scratch* sc = layers_.empty() ? head_scratch_ : layers_[0].scratch;
  ops::Backend* be = &sc->backend();
  const ops::Tensor* x = &sc->get(Buf::x, n_embd, n);
  be->get_rows(tok_embd_, batch.token.data(), n, *x);
  if (!type_embd0_.empty()) be->add_bias(*x, type_embd0_, n, n_embd);
  if (!pos_embd_.empty()) {
    const ops::Tensor& p = sc->get(Buf::out, n_embd, n);
    be->get_rows(pos_embd_, batch.pos.data(), n, p);
    be->add(*x, p, n * n_embd);
  }
  be->layernorm(*x, embd_norm_, embd_norm_b_, n, n_embd, eps, *x);
  for (size_t il = 0; il < layers_.size(); ++il) {
    const Layer& l = layers_[il];
    move_stream(sc, be, x, l.scratch, n);
    const Step step{*sc, rows, n_embd};
    const ops::Tensor& o = sc->get(Buf::out, n_embd, n);
    l.attention->forward(step, *x, cache.layer(static_cast<int64_t>(il)), o);
    be->add(*x, o, n * n_embd);
    be->layernorm(*x, l.attn_norm, l.attn_norm_b, n, n_embd, eps, *x);
    l.ffn->forward(step, *x, o);
    be->add(*x, o, n * n_embd);
    be->layernorm(*x, l.ffn_norm, l.ffn_norm_b, n, n_embd, eps, *x);
  }
  const int64_t m = collect_wanted(batch);
  if (m == 0) return;
  if (m == n) return be->read(*x, m * n_embd, out);
  const ops::Tensor& h = sc->get(Buf::xn, n_embd, n);
  be->get_rows(*x, wanted_.data(), m, h);
  be->read(h, m * n_embd, out);
}

}  // namespace hearth::model
