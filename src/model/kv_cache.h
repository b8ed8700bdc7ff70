#pragma once
// Keys and values of every layer for up to n_seq sequences of n_ctx positions each, in F16 (the
// default: half the memory) or F32. Layout: [layer][seq][pos][width], so one sequence's keys in
// one layer are a contiguous [n_ctx, width] block the attention walks in order, and each sequence
// slot keeps its own prefix (prompt reuse) independent of the others.

#include <cstdint>
#include <memory>
#include <string>

#include "gguf/ggml_type.h"

namespace hearth::model {

class KvCache {
 public:
  // Error(resource_exhausted) when the size overflows or cannot be allocated.
  KvCache(int64_t n_layer, int64_t n_ctx, int n_seq, int64_t k_width, int64_t v_width,
          gguf::GgmlType type);

  gguf::GgmlType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  int64_t k_width() const { return k_width_; }
  int64_t v_width() const { return v_width_; }
  size_t bytes() const { return k_bytes_ + v_bytes_; }

  // Start (position 0) of sequence seq's keys / values in layer il.
  const void* k(int64_t il, int seq) const { return k_.get() + offset(il, seq, 0, k_width_); }
  const void* v(int64_t il, int seq) const { return v_.get() + offset(il, seq, 0, v_width_); }

  // Writes one position's key and value rows (f32 in, converted to the cache type).
  void store(int64_t il, int seq, int64_t pos, const float* k_row, const float* v_row);

  // Copies positions [0, n) of sequence src to sequence dst in every layer (prefix sharing).
  void copy_prefix(int src, int dst, int64_t n);

  // Parses "f16" / "f32" (HEARTH_KV_CACHE_TYPE); Error(invalid_argument) otherwise.
  static gguf::GgmlType parse_type(const std::string& name);

 private:
  size_t offset(int64_t il, int seq, int64_t pos, int64_t width) const {
    return static_cast<size_t>(((il * n_seq_ + seq) * n_ctx_ + pos) * width * elem_size_);
  }

  gguf::GgmlType type_;
  int64_t n_layer_, n_ctx_;
  int n_seq_;
  int64_t k_width_, v_width_;
  int64_t elem_size_;
  size_t k_bytes_ = 0, v_bytes_ = 0;
  std::unique_ptr<uint8_t[]> k_, v_;
};

}  // namespace hearth::model
