#pragma once
// A loaded model: hyperparameters, the blocks its architecture's spec names (bound to tensors on
// the backends that run them), and a forward pass over a Batch that reads and extends a KvCache.
// load_model() picks the architecture from general.architecture through the registry
// (registry.cc) and places the layers on backends as Placement says. The model owns its
// gguf::File (weights kept as views point into its memory map) and its backends.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/batch.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/kv_cache.h"
#include "model/layer_spec.h"
#include "ops/backend.h"

namespace hearth::model {

// Which backend runs which layers (ops::make_backend names). The last n_offload layers and the
// output head run on offload_backend, the rest on `backend`, as Ollama's num_gpu offloads the
// last layers to a GPU; n_offload >= n_layer puts the whole model there.
struct Placement {
  std::string backend = "cpu";
  std::string offload_backend;
  int n_offload = 0;
  // Expert stacks stay in the mapped file instead of being copied (repacked) into memory: for a
  // mixture-of-experts model larger than the memory available, whose experts are read sparsely.
  bool experts_in_place = false;
};

class Model {
 public:
  // Binds every tensor; errors name the file and the tensor.
  Model(gguf::File file, HParams hp, ModelSpec spec, const Placement& placement);
  ~Model();

  const HParams& hparams() const { return hp_; }
  const gguf::File& file() const { return file_; }
  int64_t n_vocab() const { return hp_.n_vocab; }
  int64_t n_params() const;  // elements over all tensors
  // The backend of each layer, then the output head's: "cpu", "cpu-ref", ...
  std::vector<std::string> layer_backends() const;
  // The backends' descriptions, the one of the most layers first, joined by " + ".
  std::string backend_description() const;
  // Bytes held now by the backends that are not the CPU's (weights, KV cache, activations): what
  // /api/ps reports as size_vram.
  uint64_t device_bytes() const;
  // Bytes held by all its backends (weight copies, caches, activations; not the mapped file).
  uint64_t held_bytes() const;

  // A cache for n_seq sequences of n_ctx positions, each layer's on its layer's backend.
  // n_batch: the most positions of one sequence a forward pass will hold (0: n_ctx); a
  // sliding-window layer then keeps a ring of its window plus n_batch - 1 slots (kv_cache.h),
  // and a pass holding more is refused. Error(resource_exhausted) when it cannot be allocated.
  KvCache make_cache(int64_t n_ctx, int n_seq, gguf::GgmlType type, int64_t n_batch = 0);

  // Runs the batch: stores every row's key/value in `cache`, and writes n_vocab logits for each
  // row whose want_logits is set, in row order, to logits ([batch.n_logits(), n_vocab]).
  // Error(invalid_argument) for a token id outside the vocabulary, a position outside the cache,
  // a sequence id outside [0, cache.n_seq()), or rows a ring cannot take (KvCache::begin_pass);
  // nothing is computed then.
  void forward(const Batch& batch, KvCache& cache, float* logits);

  // The same pass, but writes for each row whose want_logits is set, in row order, only its k
  // best logits with their ids, its max and log-sum-exp (ops/top_logits.h; [batch.n_logits(),
  // ops::top_logits_width(k)], 1 <= k <= ops::kMaxTopLogits), computed where the logits are:
  // what a sampler that needs no more than them reads (sample::Sampler::best_needed). Same
  // errors as forward.
  void forward_best(const Batch& batch, KvCache& cache, int k, float* best);
  // Whether forward_best saves a transfer: the output head runs on a device whose logits would
  // be copied to the host (on a CPU backend it saves nothing, so callers read whole rows there).
  bool best_logits_pay() const;

  // The same pass, but writes the final normed hidden state (the input of the output matrix,
  // [batch.n_logits(), n_embd]) of the rows whose want_logits is set instead of their logits:
  // what embeddings pool. Same errors as forward.
  void forward_hidden(const Batch& batch, KvCache& cache, float* hidden);

  // False for encoders (ModelKind::encoder): every row attends over its whole sequence, so a
  // sequence must come in one batch, and only forward_hidden computes (the final layer's output,
  // no output norm); forward is Error(unsupported).
  bool causal() const { return spec_.kind != ModelKind::encoder; }

 private:
  struct Layer {
    ops::Backend* backend = nullptr;
    Scratch* scratch = nullptr;
    ops::Tensor attn_norm, ffn_norm, post_attn_norm, post_ffn_norm;
    ops::Tensor attn_norm_b, ffn_norm_b;  // LayerNorm biases (NormPlacement::post_layernorm)
    std::unique_ptr<AttentionBlock> attention;
    std::unique_ptr<FfnBlock> ffn;
  };

  // What a pass writes: logits, their k best (forward_best), or the final hidden states.
  enum class Output { logits, best, hidden };
  void run(const Batch& batch, KvCache& cache, float* out, Output what, int k = 0);
  // Encoders (encoder.cc): their embeddings, post-LayerNorm layers and no head.
  void bind_encoder(WeightLoader& w, int64_t n_offload);
  void run_encoder(const Batch& batch, KvCache& cache, float* out, bool hidden_only);
  // The residual stream's first n rows, from the scratch of `from` to that of `to`.
  const ops::Tensor& move_rows(Scratch& from, Scratch& to, int64_t n);
  // The residual stream x of a pass lives in scratch sc on backend be: when the next layers run in
  // another scratch `to`, its first n rows move there (and sc, be, x follow).
  void move_stream(Scratch*& sc, ops::Backend*& be, const ops::Tensor*& x, Scratch* to, int64_t n);
  // Fills wanted_ with the batch rows that want output; returns their count.
  int64_t collect_wanted(const Batch& batch);

  gguf::File file_;
  HParams hp_;
  ModelSpec spec_;
  // Declared before what they own, so they are destroyed after it.
  std::vector<std::unique_ptr<ops::Backend>> backends_;
  std::vector<std::unique_ptr<Scratch>> scratch_;  // one per backend
  std::vector<Layer> layers_;
  ops::Backend* head_ = nullptr;  // output norm and matrix
  Scratch* head_scratch_ = nullptr;
  ops::Tensor tok_embd_, output_norm_, output_;
  std::vector<float> rope_freqs_;
  std::vector<float> rope_long_;  // LongRoPE's long-context factors (rope_freqs_ = the short ones)
  ops::Tensor type_embd0_, pos_embd_, embd_norm_, embd_norm_b_;  // encoders
  int64_t n_pos_ = 0;  // rows of pos_embd_
  std::vector<int32_t> wanted_;   // rows that want logits
  std::vector<float> transfer_;   // host staging between backends
};

// Loads the architecture named by general.architecture. Errors name the file and what is wrong
// (unknown architecture, missing key or tensor, wrong shape, unknown backend).
std::unique_ptr<Model> load_model(gguf::File file, const Placement& placement = {});

// The architectures load_model knows.
std::vector<std::string> supported_architectures();

}  // namespace hearth::model
