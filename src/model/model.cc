// Model: binds the blocks of a ModelSpec on their backends and runs them. Per layer:
//   x += post?(attention(rmsnorm(x)))      x += post?(ffn(rmsnorm(x)))
// with x the residual stream [n, n_embd] starting from the token embeddings (optionally
// scaled), and logits = Wout rmsnorm(x) (optionally soft-capped) for the rows that want them.

#include "model/model.h"

#include <algorithm>
#include <string>

#include "model/compute_backend.h"
#include "util/error.h"

namespace hearth::model {

namespace {
std::string blk(int64_t il) { return "blk." + std::to_string(il) + "."; }
}  // namespace

Model::Model(gguf::File file, HParams hp, ModelSpec spec, const Placement& placement)
    : file_(std::move(file)), hp_(std::move(hp)), spec_(std::move(spec)) {
  const int64_t n_layer = static_cast<int64_t>(spec_.layers.size());
  const int64_t n_offload = std::clamp<int64_t>(placement.n_offload, 0, n_layer);
  if (placement.n_offload > 0 && placement.offload_backend.empty()) {
    throw Error(ErrorCode::invalid_argument, "layers are offloaded but no backend is named for them");
  }
  backends_.push_back(make_compute_backend(placement.backend));
  if (placement.n_offload > 0) backends_.push_back(make_compute_backend(placement.offload_backend));
  for (auto& be : backends_) scratch_.push_back(std::make_unique<Scratch>(*be));
  const size_t head = backends_.size() - 1;
  head_ = backends_[head].get();
  head_scratch_ = scratch_[head].get();

  WeightLoader w(file_);
  if (spec_.kind == ModelKind::encoder) {
    bind_encoder(w, n_offload);  // encoder.cc
    return;
  }
  const int64_t n_embd = spec_.n_embd;
  hp_.n_vocab = w.tensor("token_embd.weight").n_rows();
  if (spec_.rope_freqs == RopeFreqs::if_present && w.has("rope_freqs.weight")) {
    rope_freqs_ = w.host_vector("rope_freqs.weight", hp_.rope.n_dims / 2);
  }
  if (spec_.rope_freqs == RopeFreqs::long_short &&
      (w.has("rope_factors_short.weight") || w.has("rope_factors_long.weight"))) {
    rope_freqs_ = w.host_vector("rope_factors_short.weight", hp_.rope.n_dims / 2);
    rope_long_ = w.host_vector("rope_factors_long.weight", hp_.rope.n_dims / 2);
  }
  layers_.resize(static_cast<size_t>(n_layer));
  for (int64_t il = 0; il < n_layer; ++il) {
    Layer& l = layers_[static_cast<size_t>(il)];
    const size_t b = il >= n_layer - n_offload ? head : 0;
    l.backend = backends_[b].get();
    l.scratch = scratch_[b].get();
    LayerSpec& ls = spec_.layers[static_cast<size_t>(il)];
    if (!rope_freqs_.empty()) ls.attention.rope.freq_factors = rope_freqs_.data();
    ls.ffn.experts_in_place = placement.experts_in_place;
    if (!rope_long_.empty()) ls.attention.rope_long_factors = rope_long_.data();
    const std::string p = blk(il);
    l.attn_norm = w.vector(*l.backend, p + "attn_norm.weight", n_embd);
    l.ffn_norm = w.vector(*l.backend, p + ls.ffn_norm + ".weight", n_embd);
    if (ls.norms == NormPlacement::pre_and_post) {
      l.post_attn_norm = w.vector(*l.backend, p + "post_attention_norm.weight", n_embd);
      l.post_ffn_norm = w.vector(*l.backend, p + "post_ffw_norm.weight", n_embd);
    }
    l.attention = make_attention(ls.attention, w, *l.backend, p, n_embd, spec_.rms_eps);
    l.ffn = make_ffn(ls.ffn, w, *l.backend, p, n_embd);
  }
  ops::Backend& first = n_layer > 0 ? *layers_[0].backend : *head_;
  tok_embd_ = w.matrix(first, "token_embd.weight", n_embd, hp_.n_vocab, WeightLoader::Use::lookup);
  output_norm_ = w.vector(*head_, "output_norm.weight", n_embd);
  // Tied embeddings: without output.weight the logits reuse the embedding matrix (bound again
  // for matmul, so the head's backend may repack it while lookups read the file's rows).
  output_ = w.matrix(*head_, w.has("output.weight") ? "output.weight" : "token_embd.weight", n_embd,
                     hp_.n_vocab);
}

Model::~Model() = default;

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file_.tensors()) n += t.n_elements();
  return n;
}

std::vector<std::string> Model::layer_backends() const {
  std::vector<std::string> out;
  for (const Layer& l : layers_) out.push_back(l.backend->name());
  out.push_back(head_->name());
  return out;
}

uint64_t Model::device_bytes() const {
  uint64_t n = 0;
  for (const auto& be : backends_) {
    if (!be->on_host()) n += be->bytes();
  }
  return n;
}

uint64_t Model::held_bytes() const {
  uint64_t n = 0;
  for (const auto& be : backends_) n += be->bytes();
  return n;
}

std::string Model::backend_description() const {
  std::vector<std::pair<int, const ops::Backend*>> count;
  for (const auto& be : backends_) {
    int n = 0;
    for (const Layer& l : layers_) n += l.backend == be.get() ? 1 : 0;
    count.emplace_back(n, be.get());
  }
  std::stable_sort(count.begin(), count.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (const auto& [n, be] : count) out += (out.empty() ? "" : " + ") + be->description();
  return out;
}

KvCache Model::make_cache(int64_t n_ctx, int n_seq, gguf::GgmlType type, int64_t n_batch) {
  if (n_ctx <= 0 || n_seq <= 0) {
    throw Error(ErrorCode::invalid_argument, "KV cache: a dimension is not positive");
  }
  std::vector<KvCache::Layer> layers;
  for (size_t il = 0; il < layers_.size(); ++il) {
    const Layer& l = layers_[il];
    KvCache::Layer c;
    c.backend = l.backend;
    c.window = spec_.layers[il].attention.window;
    // Encoders see whole sequences: no ring even where a window were set.
    const int64_t ring = causal() ? kv_ring_slots(c.window, n_ctx, n_batch) : 0;
    try {
      c.view = l.attention->make_cache(*l.backend, n_ctx, n_seq, type, ring);
    } catch (const Error& e) {
      KvCache cleanup(n_ctx, n_seq, type, std::move(layers));  // frees the layers made so far
      throw Error(e.code(), std::string("KV cache: ") + e.what() + " (lower num_ctx or num_parallel)");
    }
    layers.push_back(c);
  }
  return KvCache(n_ctx, n_seq, type, std::move(layers));
}

void Model::forward(const Batch& batch, KvCache& cache, float* logits) {
  run(batch, cache, logits, Output::logits);
}

void Model::forward_best(const Batch& batch, KvCache& cache, int k, float* best) {
  if (k < 1 || k > ops::kMaxTopLogits) {
    throw Error(ErrorCode::invalid_argument, "forward_best: k must be in 1.." + std::to_string(ops::kMaxTopLogits) +
                                                 ", not " + std::to_string(k));
  }
  run(batch, cache, best, Output::best, k);
}

bool Model::best_logits_pay() const { return head_ != nullptr && !head_->on_host(); }

void Model::forward_hidden(const Batch& batch, KvCache& cache, float* hidden) {
  run(batch, cache, hidden, Output::hidden);
}

const ops::Tensor& Model::move_rows(Scratch& from, Scratch& to, int64_t n) {
  const int64_t count = n * spec_.n_embd;
  transfer_.resize(static_cast<size_t>(count));
  from.backend().read(from.get(Buf::x, spec_.n_embd, n), count, transfer_.data());
  const ops::Tensor& x = to.get(Buf::x, spec_.n_embd, n);
  to.backend().write(x, count, transfer_.data());
  return x;
}

void Model::move_stream(Scratch*& sc, ops::Backend*& be, const ops::Tensor*& x, Scratch* to,
                        int64_t n) {
  if (sc == to) return;
  x = &move_rows(*sc, *to, n);
  sc = to;
  be = &to->backend();
}

int64_t Model::collect_wanted(const Batch& batch) {
  wanted_.clear();
  for (int64_t t = 0; t < batch.size(); ++t) {
    if (batch.want_logits[t]) wanted_.push_back(static_cast<int32_t>(t));
  }
  return static_cast<int64_t>(wanted_.size());
}

void Model::run(const Batch& batch, KvCache& cache, float* out, Output what, int k) {
  const bool hidden_only = what == Output::hidden;
  const int64_t n = batch.size();
  for (int64_t i = 0; i < n; ++i) {
    if (batch.token[i] < 0 || batch.token[i] >= hp_.n_vocab) {
      throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(batch.token[i]) +
                                                   " is outside the vocabulary (size " +
                                                   std::to_string(hp_.n_vocab) + ")");
    }
    if (batch.pos[i] < 0 || batch.pos[i] >= cache.n_ctx()) {
      throw Error(ErrorCode::invalid_argument, "position " + std::to_string(batch.pos[i]) +
                                                   " is outside the context (" +
                                                   std::to_string(cache.n_ctx()) + ")");
    }
    if (batch.seq[i] < 0 || batch.seq[i] >= cache.n_seq()) {
      throw Error(ErrorCode::invalid_argument,
                  "sequence id " + std::to_string(batch.seq[i]) + " is out of range");
    }
  }
  if (n == 0) return;
  if (spec_.kind == ModelKind::encoder) return run_encoder(batch, cache, out, hidden_only);
  const int64_t n_embd = spec_.n_embd;
  const float eps = spec_.rms_eps;
  const ops::SeqRows rows{batch.pos.data(), batch.seq.data(), n};
  cache.begin_pass(rows);  // sliding-window rings: refuses a pass that would read stale slots

  Scratch* sc = layers_.empty() ? head_scratch_ : layers_[0].scratch;
  ops::Backend* be = &sc->backend();
  const ops::Tensor* x = &sc->get(Buf::x, n_embd, n);
  be->get_rows(tok_embd_, batch.token.data(), n, *x);
  if (spec_.embd_scale > 0.0f) be->scale(*x, spec_.embd_scale, n * n_embd);
  for (size_t il = 0; il < layers_.size(); ++il) {
    const Layer& l = layers_[il];
    move_stream(sc, be, x, l.scratch, n);
    const Step step{*sc, rows, n_embd};
    const ops::Tensor& xn = sc->get(Buf::xn, n_embd, n);
    const ops::Tensor& o = sc->get(Buf::out, n_embd, n);
    be->rmsnorm(*x, l.attn_norm, n, n_embd, eps, xn);
    l.attention->forward(step, xn, cache.layer(static_cast<int64_t>(il)), o);
    if (!l.post_attn_norm.empty()) be->rmsnorm(o, l.post_attn_norm, n, n_embd, eps, o);
    be->add(*x, o, n * n_embd);
    be->rmsnorm(*x, l.ffn_norm, n, n_embd, eps, xn);
    l.ffn->forward(step, xn, o);
    if (!l.post_ffn_norm.empty()) be->rmsnorm(o, l.post_ffn_norm, n, n_embd, eps, o);
    be->add(*x, o, n * n_embd);
  }
  move_stream(sc, be, x, head_scratch_, n);

  // Only the rows that want logits go through the output norm and the (large) output matrix.
  const int64_t m = collect_wanted(batch);
  if (m == 0) return;
  const ops::Tensor& xn = sc->get(Buf::xn, n_embd, n);
  if (m < n) {
    be->get_rows(*x, wanted_.data(), m, xn);
    be->rmsnorm(xn, output_norm_, m, n_embd, eps, xn);
  } else {
    be->rmsnorm(*x, output_norm_, m, n_embd, eps, xn);
  }
  if (hidden_only) {
    be->read(xn, m * n_embd, out);
    return;
  }
  const ops::Tensor& logits = sc->get(Buf::logits, hp_.n_vocab, m);
  be->matmul(output_, xn, m, logits);
  if (spec_.final_softcap > 0.0f) be->softcap(logits, spec_.final_softcap, m * hp_.n_vocab);
  if (what == Output::best) {
    const int64_t width = ops::top_logits_width(k);
    const ops::Tensor& best = sc->get(Buf::best_logits, width, m);
    be->top_logits(logits, m, hp_.n_vocab, k, best);
    be->read(best, m * width, out);
    return;
  }
  be->read(logits, m * hp_.n_vocab, out);
}

}  // namespace hearth::model
