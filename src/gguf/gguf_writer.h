#pragma once
// Builds a GGUF v3 file: metadata and tensors collected in memory, then written in one pass.
// write() is atomic: a temp file in the target's directory, fsync, rename over the target, so a
// reader never sees a half-written model.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"

namespace hearth::gguf {

class Writer {
 public:
  // Setting a key that exists replaces its value in place (file order is first-set order).
  void set(std::string_view key, Value v);
  void set_u8(std::string_view key, uint8_t v) { set(key, Value::u8(v)); }
  void set_i8(std::string_view key, int8_t v) { set(key, Value::i8(v)); }
  void set_u16(std::string_view key, uint16_t v) { set(key, Value::u16(v)); }
  void set_i16(std::string_view key, int16_t v) { set(key, Value::i16(v)); }
  void set_u32(std::string_view key, uint32_t v) { set(key, Value::u32(v)); }
  void set_i32(std::string_view key, int32_t v) { set(key, Value::i32(v)); }
  void set_u64(std::string_view key, uint64_t v) { set(key, Value::u64(v)); }
  void set_i64(std::string_view key, int64_t v) { set(key, Value::i64(v)); }
  void set_f32(std::string_view key, float v) { set(key, Value::f32(v)); }
  void set_f64(std::string_view key, double v) { set(key, Value::f64(v)); }
  void set_bool(std::string_view key, bool v) { set(key, Value::boolean(v)); }
  void set_string(std::string_view key, std::string v) { set(key, Value::string(std::move(v))); }
  void set_string_array(std::string_view key, std::vector<std::string> v) {
    set(key, Value::string_array(std::move(v)));
  }
  void set_f32_array(std::string_view key, const std::vector<float>& v) {
    set(key, Value::f32_array(v));
  }
  void set_i32_array(std::string_view key, const std::vector<int32_t>& v) {
    set(key, Value::i32_array(v));
  }
  void set_u32_array(std::string_view key, const std::vector<uint32_t>& v) {
    set(key, Value::u32_array(v));
  }
  // Also records general.alignment (omitted when it is the default 32). Power of two.
  void set_alignment(uint32_t alignment);
  void remove(std::string_view key);

  // Copies the data. `ne` = dims, ne[0] the row length; n_bytes must match the type's size for
  // that shape. Throws Error(invalid_argument) on a bad name, shape or size.
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data,
                  size_t n_bytes);
  // Same without the copy: `data` must stay valid until write()/to_bytes() returns.
  void add_tensor_view(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data,
                       size_t n_bytes);

  // Same, with the bytes made on demand: write()/to_bytes() call produce(dst) with n_bytes of
  // space once per call, in tensor order, so a quantizer need not hold the whole output model
  // in memory. produce may throw; write() then removes its temp file and rethrows.
  using Producer = std::function<void(uint8_t* dst)>;
  void add_tensor_generated(std::string name, GgmlType type, std::vector<int64_t> ne,
                            size_t n_bytes, Producer produce);

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  size_t tensor_count() const { return tensors_.size(); }

  std::vector<uint8_t> to_bytes() const;
  // Throws Error(io) naming the path.
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> owned;
    const uint8_t* data;
    size_t n_bytes;
    Producer produce;  // set instead of data for add_tensor_generated
  };
  void add(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data,
           size_t n_bytes, bool copy, Producer produce = nullptr);
  uint64_t alignment() const;
  std::vector<uint8_t> header() const;  // everything before the data section, padded

  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace hearth::gguf
