#include "model/kv_cache.h"

#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

gguf::GgmlType KvCache::parse_type(const std::string& name) {
  if (name == "f16" || name.empty()) return gguf::GgmlType::F16;
  if (name == "f32") return gguf::GgmlType::F32;
  if (name == "q8_0") return gguf::GgmlType::Q8_0;
  if (name == "q4_0") return gguf::GgmlType::Q4_0;
  throw Error(ErrorCode::invalid_argument,
              "KV cache type '" + name + "' is not supported (use f16, q8_0, q4_0 or f32)");
}

KvCache::KvCache(KvCache&& o) noexcept
    : type_(o.type_), n_ctx_(o.n_ctx_), n_seq_(o.n_seq_), layers_(std::move(o.layers_)) {
  o.layers_.clear();
}

KvCache::~KvCache() {
  for (Layer& l : layers_) {
    l.backend->release(l.view.k);
    l.backend->release(l.view.v);
  }
}

uint64_t KvCache::bytes() const {
  uint64_t n = 0;
  for (const Layer& l : layers_) {
    for (const ops::Tensor* t : {&l.view.k, &l.view.v}) {
      if (!t->empty()) n += static_cast<uint64_t>(t->row_bytes * t->n_rows());
    }
  }
  return n;
}

void KvCache::copy_prefix(int src, int dst, int64_t n) {
  HEARTH_CHECK(src >= 0 && src < n_seq_ && dst >= 0 && dst < n_seq_ && n >= 0 && n <= n_ctx_);
  if (src == dst || n == 0) return;
  for (Layer& l : layers_) {
    for (const ops::Tensor* t : {&l.view.k, &l.view.v}) {
      if (!t->empty()) l.backend->copy_rows(*t, src * n_ctx_, dst * n_ctx_, n);
    }
  }
}

}  // namespace hearth::model
