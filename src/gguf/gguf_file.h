#pragma once
// GGUF reader (versions 2 and 3). Model files are untrusted input: every count, length, shape and
// offset is checked against the bytes actually present before anything is allocated or read, and
// every problem raises hearth::Error(corrupt / unsupported) whose message starts with the file's
// name. Tensor data is not copied: TensorInfo::data points into the memory map (or the caller's
// buffer for from_memory), valid as long as the File (or that buffer) lives.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"
#include "util/mapped_file.h"

namespace hearth::gguf {

inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] = row length (contiguous); unused dims are 1
  uint64_t offset = 0;                  // relative to the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;        // points into the mapped file

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;  // "[4096, 32000]"
};

class File {
 public:
  // Maps the file. Errors: Error(not_found / io) from opening, Error(corrupt / unsupported)
  // "<path>: <problem>" from parsing.
  static File open(const std::string& path);
  // Parses a buffer the caller keeps alive (no copy); `name` stands in for the path in messages.
  static File from_memory(const uint8_t* data, size_t size, std::string name);

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  uint64_t file_size() const { return size_; }
  const uint8_t* base() const { return base_; }  // the whole file's bytes

  const Value* find(std::string_view key) const;  // nullptr if absent

  // Typed getters. Missing key: Error(not_found) "<path>: missing required key 'k'". Wrong type
  // or a value that does not fit: Error(corrupt) naming the key, its type and what was expected.
  // Integer getters accept any integer type whose value fits; float getters accept floats and
  // integers. The _or variants return the default when the key is absent (but still throw on a
  // wrong type).
  std::string get_string(std::string_view key) const;
  std::string get_string_or(std::string_view key, std::string d) const;
  uint32_t get_u32(std::string_view key) const;
  uint32_t get_u32_or(std::string_view key, uint32_t d) const;
  uint64_t get_u64(std::string_view key) const;
  uint64_t get_u64_or(std::string_view key, uint64_t d) const;
  int64_t get_i64(std::string_view key) const;
  int64_t get_i64_or(std::string_view key, int64_t d) const;
  float get_f32(std::string_view key) const;
  float get_f32_or(std::string_view key, float d) const;
  bool get_bool(std::string_view key) const;
  bool get_bool_or(std::string_view key, bool d) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;
  // Element count of an array key (any element type); Error if absent or not an array.
  size_t get_array_size(std::string_view key) const;

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // file order
  const TensorInfo* find_tensor(std::string_view name) const;          // nullptr if absent
  const TensorInfo& tensor(std::string_view name) const;               // throws not_found

  // Releases the resident pages of [p, p + n) when they belong to this file's map (a no-op for
  // from_memory files): the caller copied those bytes and will rarely read them again.
  void release_pages(const uint8_t* p, size_t n) const;

 private:
  File() = default;
  void parse();
  const Value& require(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const Value& v, const char* expected) const;

  MappedFile map_;  // empty for from_memory
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t, std::less<>> key_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace hearth::gguf
