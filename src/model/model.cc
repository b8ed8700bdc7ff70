#include "model/model.h"

#include <string>

#include "util/error.h"

namespace hearth::model {

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file_.tensors()) n += t.n_elements();
  return n;
}

KvCache Model::make_cache(int64_t n_ctx, int n_seq, gguf::GgmlType type) const {
  return KvCache(hp_.n_layer, n_ctx, n_seq, hp_.k_width(), hp_.v_width(), type);
}

void Model::forward(const Batch& batch, KvCache& cache, float* logits) {
  for (int64_t i = 0; i < batch.size(); ++i) {
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
  if (batch.size() == 0) return;
  forward_impl(batch, cache, logits);
}

void Model::forward_hidden(const Batch& batch, KvCache& cache, float* hidden) {
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{hidden_only_};
  hidden_only_ = true;
  forward(batch, cache, hidden);
}

}  // namespace hearth::model
