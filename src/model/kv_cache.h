#pragma once
// The KV cache of every layer for up to n_seq sequences of n_ctx positions each. Its memory is
// the backends' (each layer's on the backend that runs the layer) and its layout is the
// attention block's (AttentionBlock::make_cache): for the llama family, per layer a K and a V
// tensor of rows [seq * n_ctx + pos] in F16 (the default: half the memory), Q8_0 (a quarter),
// Q4_0 (an eighth, roughly) or F32, so one
// sequence's keys are a contiguous block the attention walks in order, and each sequence slot
// keeps its own prefix (prompt reuse) independent of the others. A cache must not outlive the
// model that made it.

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "ops/backend.h"

namespace hearth::model {

class KvCache {
 public:
  struct Layer {
    ops::Backend* backend = nullptr;
    ops::KvView view;
  };

  KvCache(int64_t n_ctx, int n_seq, gguf::GgmlType type, std::vector<Layer> layers)
      : type_(type), n_ctx_(n_ctx), n_seq_(n_seq), layers_(std::move(layers)) {}
  KvCache(KvCache&& o) noexcept;
  KvCache& operator=(KvCache&&) = delete;
  KvCache(const KvCache&) = delete;
  ~KvCache();

  gguf::GgmlType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  uint64_t bytes() const;
  const ops::KvView& layer(int64_t il) const { return layers_[static_cast<size_t>(il)].view; }

  // Copies positions [0, n) of sequence src to sequence dst in every layer (prefix sharing).
  void copy_prefix(int src, int dst, int64_t n);

  // Parses "f16" / "q8_0" / "q4_0" / "f32" (HEARTH_KV_CACHE_TYPE); Error(invalid_argument)
  // otherwise.
  static gguf::GgmlType parse_type(const std::string& name);

 private:
  gguf::GgmlType type_;
  int64_t n_ctx_;
  int n_seq_;
  std::vector<Layer> layers_;
};

}  // namespace hearth::model
