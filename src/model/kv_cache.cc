#include "model/kv_cache.h"

#include <cstring>
#include <new>

#include "quant/fp16.h"
#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

namespace {

size_t checked_bytes(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
  const int64_t dims[] = {a, b, c, d, e};
  unsigned __int128 total = 1;
  for (int64_t x : dims) {
    if (x <= 0) throw Error(ErrorCode::invalid_argument, "KV cache: a dimension is not positive");
    total *= static_cast<unsigned __int128>(x);
    if (total > (static_cast<unsigned __int128>(1) << 46)) {  // 64 TiB: no machine has that
      throw Error(ErrorCode::resource_exhausted, "KV cache: requested size is too large");
    }
  }
  return static_cast<size_t>(total);
}

std::unique_ptr<uint8_t[]> allocate(size_t bytes) {
  try {
    return std::make_unique_for_overwrite<uint8_t[]>(bytes);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::resource_exhausted,
                "KV cache: cannot allocate " + std::to_string(bytes >> 20) +
                    " MiB (lower num_ctx or num_parallel)");
  }
}

}  // namespace

gguf::GgmlType KvCache::parse_type(const std::string& name) {
  if (name == "f16" || name.empty()) return gguf::GgmlType::F16;
  if (name == "f32") return gguf::GgmlType::F32;
  throw Error(ErrorCode::invalid_argument,
              "KV cache type '" + name + "' is not supported (use f16 or f32)");
}

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int n_seq, int64_t k_width, int64_t v_width,
                 gguf::GgmlType type)
    : type_(type), n_layer_(n_layer), n_ctx_(n_ctx), n_seq_(n_seq), k_width_(k_width),
      v_width_(v_width) {
  HEARTH_CHECK(type == gguf::GgmlType::F16 || type == gguf::GgmlType::F32);
  elem_size_ = type == gguf::GgmlType::F32 ? 4 : 2;
  k_bytes_ = checked_bytes(n_layer, n_ctx, n_seq, k_width, elem_size_);
  v_bytes_ = checked_bytes(n_layer, n_ctx, n_seq, v_width, elem_size_);
  k_ = allocate(k_bytes_);
  v_ = allocate(v_bytes_);
}

void KvCache::store(int64_t il, int seq, int64_t pos, const float* k_row, const float* v_row) {
  HEARTH_CHECK(il >= 0 && il < n_layer_ && seq >= 0 && seq < n_seq_ && pos >= 0 && pos < n_ctx_);
  uint8_t* k = k_.get() + offset(il, seq, pos, k_width_);
  uint8_t* v = v_.get() + offset(il, seq, pos, v_width_);
  if (type_ == gguf::GgmlType::F32) {
    std::memcpy(k, k_row, static_cast<size_t>(k_width_) * 4);
    std::memcpy(v, v_row, static_cast<size_t>(v_width_) * 4);
  } else {
    quant::f32_to_fp16_row(k_row, reinterpret_cast<uint16_t*>(k), k_width_);
    quant::f32_to_fp16_row(v_row, reinterpret_cast<uint16_t*>(v), v_width_);
  }
}

void KvCache::copy_prefix(int src, int dst, int64_t n) {
  HEARTH_CHECK(src >= 0 && src < n_seq_ && dst >= 0 && dst < n_seq_ && n >= 0 && n <= n_ctx_);
  if (src == dst || n == 0) return;
  for (int64_t il = 0; il < n_layer_; ++il) {
    std::memcpy(k_.get() + offset(il, dst, 0, k_width_), k_.get() + offset(il, src, 0, k_width_),
                static_cast<size_t>(n * k_width_ * elem_size_));
    std::memcpy(v_.get() + offset(il, dst, 0, v_width_), v_.get() + offset(il, src, 0, v_width_),
                static_cast<size_t>(n * v_width_ * elem_size_));
  }
}

}  // namespace hearth::model
