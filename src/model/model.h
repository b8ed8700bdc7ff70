#pragma once
// A loaded model: hyperparameters, bound weights, and a forward pass over a Batch that reads and
// extends a KvCache. load_model() picks the architecture from general.architecture through the
// registry (registry.cc). The model owns its gguf::File (weights point into its memory map).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/batch.h"
#include "model/hparams.h"
#include "model/kv_cache.h"
#include "ops/backend.h"

namespace hearth::model {

class Model {
 public:
  virtual ~Model() = default;

  const HParams& hparams() const { return hp_; }
  const gguf::File& file() const { return file_; }
  int64_t n_vocab() const { return hp_.n_vocab; }
  int64_t n_params() const;  // elements over all tensors

  // A cache for n_seq sequences of n_ctx positions in this model's shape.
  KvCache make_cache(int64_t n_ctx, int n_seq, gguf::GgmlType type) const;

  // Runs the batch: stores every row's key/value in `cache`, and writes n_vocab logits for each
  // row whose want_logits is set, in row order, to logits ([batch.n_logits(), n_vocab]).
  // Error(invalid_argument) for a token id outside the vocabulary, a position outside the cache
  // or a sequence id outside [0, cache.n_seq()); nothing is computed then.
  void forward(const Batch& batch, KvCache& cache, float* logits);

  // The same pass, but writes the final normed hidden state (the input of the output matrix,
  // [batch.n_logits(), n_embd]) of the rows whose want_logits is set instead of their logits:
  // what embeddings pool. Same errors as forward.
  void forward_hidden(const Batch& batch, KvCache& cache, float* hidden);

 protected:
  Model(gguf::File file, const ops::Backend& backend) : file_(std::move(file)), be_(backend) {}
  virtual void forward_impl(const Batch& batch, KvCache& cache, float* logits) = 0;

  gguf::File file_;
  const ops::Backend& be_;
  HParams hp_;
  // Set by forward_hidden for the duration of one forward_impl: stop after the output norm and
  // write its rows to `logits` (which then holds n_embd floats per row).
  bool hidden_only_ = false;
};

// Loads the architecture named by general.architecture. Errors name the file and what is wrong
// (unknown architecture, missing key or tensor, wrong shape).
std::unique_ptr<Model> load_model(gguf::File file, const ops::Backend& backend = ops::cpu_backend());

// The architectures load_model knows.
std::vector<std::string> supported_architectures();

}  // namespace hearth::model
