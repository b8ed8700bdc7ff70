#include "gguf/gguf_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "util/error.h"

namespace hearth::gguf {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
// Nesting deeper than this is not found in real files; the bound keeps recursion shallow.
constexpr int kMaxArrayDepth = 8;
// Larger alignments are not used by any writer; the bound keeps offset arithmetic far from overflow.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;

// ggml type ids Hearth has no kernels for, named so the error says what the file holds.
const char* unsupported_type_name(uint32_t id) {
  switch (id) {
    // 4: Ollama's first MXFP4 (ggml_type.cc), not Q4_2 (removed from ggml before GGUF).
    case 5: return "q4_3 (removed from ggml)";
    case 16: return "iq2_xxs";
    case 17: return "iq2_xs";
    case 18: return "iq3_xxs";
    case 19: return "iq1_s";
    case 20: return "iq4_nl";
    case 21: return "iq3_s";
    case 22: return "iq2_s";
    case 23: return "iq4_xs";
    case 29: return "iq1_m";
    case 31: return "q4_0_4_4 (removed from ggml)";
    case 32: return "q4_0_4_8 (removed from ggml)";
    case 33: return "q4_0_8_8 (removed from ggml)";
    case 34: return "tq1_0";
    case 35: return "tq2_0";
    case 36: return "iq4_nl_4_4 (removed from ggml)";
    case 37: return "iq4_nl_4_8 (removed from ggml)";
    case 38: return "iq4_nl_8_8 (removed from ggml)";
  }
  return nullptr;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

// Sequential bounds-checked reads over the header. Errors name the file, the byte offset and
// what was being read; `where_` says which entry ("metadata key 'x'", "tensor 'y'").
class Parser {
 public:
  Parser(const uint8_t* data, uint64_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  void set_where(std::string w) { where_ = std::move(w); }

  [[noreturn]] void fail(ErrorCode code, const std::string& problem) const {
    throw Error(code, name_ + ": " + problem);
  }
  [[noreturn]] void fail_here(const std::string& problem) const {
    fail(ErrorCode::corrupt, (where_.empty() ? "" : where_ + ": ") + problem);
  }

  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      fail_here(std::string("file is truncated: ") + what + " at byte " + std::to_string(pos_) +
                " needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
                " remain");
    }
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    uint64_t len = read<uint64_t>(what);
    if (len > remaining()) {
      fail_here(std::string(what) + " at byte " + std::to_string(pos_ - 8) + " claims " +
                std::to_string(len) + " bytes, but only " + std::to_string(remaining()) +
                " remain in the file");
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  Value read_value(ValueType type, int depth) {
    switch (type) {
      case ValueType::UINT8: return Value::u8(read<uint8_t>("a u8 value"));
      case ValueType::INT8: return Value::i8(read<int8_t>("an i8 value"));
      case ValueType::UINT16: return Value::u16(read<uint16_t>("a u16 value"));
      case ValueType::INT16: return Value::i16(read<int16_t>("an i16 value"));
      case ValueType::UINT32: return Value::u32(read<uint32_t>("a u32 value"));
      case ValueType::INT32: return Value::i32(read<int32_t>("an i32 value"));
      case ValueType::UINT64: return Value::u64(read<uint64_t>("a u64 value"));
      case ValueType::INT64: return Value::i64(read<int64_t>("an i64 value"));
      case ValueType::FLOAT32: return Value::f32(read<float>("an f32 value"));
      case ValueType::FLOAT64: return Value::f64(read<double>("an f64 value"));
      case ValueType::BOOL: return Value::boolean(read<uint8_t>("a bool value") != 0);
      case ValueType::STRING: return Value::string(read_string("a string value"));
      case ValueType::ARRAY: return read_array(depth + 1);
    }
    fail_here("unknown value type " + std::to_string(static_cast<uint32_t>(type)));
  }

 private:
  Value read_array(int depth) {
    if (depth > kMaxArrayDepth) {
      fail_here("arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    }
    uint32_t elem_id = read<uint32_t>("an array's element type");
    if (!valid_value_type(elem_id)) {
      fail_here("array has unknown element type " + std::to_string(elem_id) + " at byte " +
                std::to_string(pos_ - 4));
    }
    auto elem = static_cast<ValueType>(elem_id);
    uint64_t count = read<uint64_t>("an array's length");
    // Each element takes at least this many bytes in the file, so the count is bounded by the
    // bytes left before anything is allocated.
    uint64_t min_elem = value_type_size(elem);
    if (elem == ValueType::STRING) min_elem = 8;
    if (elem == ValueType::ARRAY) min_elem = 12;
    if (count > remaining() / min_elem) {
      fail_here("array of " + std::string(value_type_name(elem)) + " at byte " +
                std::to_string(pos_ - 8) + " claims " + std::to_string(count) +
                " elements, more than the " + std::to_string(remaining()) +
                " bytes left in the file can hold");
    }
    if (elem == ValueType::STRING) {
      std::vector<std::string> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(read_string("an array string"));
      return Value::string_array(std::move(v));
    }
    if (elem == ValueType::ARRAY) {
      std::vector<Value> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(read_array(depth + 1));
      return Value::array_of_arrays(std::move(v));
    }
    uint64_t n_bytes = count * min_elem;
    std::vector<uint8_t> raw(data_ + pos_, data_ + pos_ + n_bytes);
    pos_ += n_bytes;
    return Value::numeric_array(elem, std::move(raw), static_cast<size_t>(count));
  }

  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& name_;
  std::string where_;
};

}  // namespace

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(ne[i]);
  }
  return s + "]";
}

File File::open(const std::string& path) {
  File f;
  f.map_ = MappedFile::open(path);
  f.base_ = f.map_.data();
  f.size_ = f.map_.size();
  f.path_ = path;
  f.parse();
  return f;
}

File File::from_memory(const uint8_t* data, size_t size, std::string name) {
  File f;
  f.base_ = data;
  f.size_ = size;
  f.path_ = std::move(name);
  f.parse();
  return f;
}

void File::parse() {
  Parser p(base_, size_, path_);
  if (size_ < 4) {
    p.fail(ErrorCode::corrupt, "not a GGUF file: only " + std::to_string(size_) + " bytes");
  }
  uint32_t magic = p.read<uint32_t>("the magic");
  if (magic != kMagic) p.fail(ErrorCode::corrupt, "not a GGUF file (bad magic)");
  version_ = p.read<uint32_t>("the version");
  if (version_ != 2 && version_ != 3) {
    // A big-endian file's version reads byte-swapped; say so rather than print a huge number.
    uint32_t swapped = __builtin_bswap32(version_);
    std::string hint = (swapped == 2 || swapped == 3) ? " (a big-endian file?)" : "";
    p.fail(ErrorCode::unsupported,
           "unsupported GGUF version " + std::to_string(version_) + hint +
               "; Hearth reads versions 2 and 3");
  }
  uint64_t n_tensors = p.read<uint64_t>("the tensor count");
  uint64_t n_kv = p.read<uint64_t>("the metadata count");

  // Minimum bytes per entry: a key (8-byte length), a type, and a 1-byte value; a tensor has a
  // name length, n_dims, one dim, a type and an offset.
  constexpr uint64_t kMinKv = 8 + 4 + 1;
  constexpr uint64_t kMinTensor = 8 + 4 + 8 + 4 + 8;
  if (n_kv > p.remaining() / kMinKv) {
    p.fail(ErrorCode::corrupt, "header claims " + std::to_string(n_kv) +
                                   " metadata entries, more than the file can hold");
  }
  if (n_tensors > p.remaining() / kMinTensor) {
    p.fail(ErrorCode::corrupt, "header claims " + std::to_string(n_tensors) +
                                   " tensors, more than the file can hold");
  }

  metadata_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    p.set_where("metadata entry " + std::to_string(i));
    std::string key = p.read_string("a metadata key");
    if (key.empty()) p.fail_here("empty metadata key");
    p.set_where("metadata key '" + key + "'");
    uint32_t type_id = p.read<uint32_t>("the value type");
    if (!valid_value_type(type_id)) {
      p.fail_here("unknown value type " + std::to_string(type_id));
    }
    Value v = p.read_value(static_cast<ValueType>(type_id), 0);
    if (!key_index_.emplace(key, metadata_.size()).second) {
      p.fail_here("duplicate metadata key");
    }
    metadata_.emplace_back(std::move(key), std::move(v));
  }
  p.set_where("");

  if (const Value* a = find("general.alignment")) {
    std::optional<uint64_t> al = a->as_u64();
    if (!al) {
      p.fail(ErrorCode::corrupt,
             "general.alignment must be an integer, not " + a->type_string());
    }
    if (*al == 0 || (*al & (*al - 1)) != 0 || *al > kMaxAlignment) {
      p.fail(ErrorCode::corrupt, "general.alignment " + std::to_string(*al) +
                                     " is not a power of two up to 2^30");
    }
    alignment_ = *al;
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    p.set_where("tensor " + std::to_string(i));
    TensorInfo t;
    t.name = p.read_string("a tensor name");
    if (t.name.empty()) p.fail_here("empty tensor name");
    p.set_where("tensor '" + t.name + "'");
    uint32_t n_dims = p.read<uint32_t>("n_dims");
    if (n_dims < 1 || n_dims > kMaxDims) {
      p.fail_here("n_dims " + std::to_string(n_dims) + " is outside 1.." +
                  std::to_string(kMaxDims));
    }
    t.n_dims = static_cast<int>(n_dims);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      int64_t ne = p.read<int64_t>("a dimension");
      if (ne <= 0) {
        p.fail_here("dimension " + std::to_string(d) + " is " + std::to_string(ne) +
                    " (must be positive)");
      }
      if (n_elements > std::numeric_limits<int64_t>::max() / ne) {
        p.fail_here("shape overflows: the product of its dimensions exceeds 2^63");
      }
      n_elements *= ne;
      t.ne[d] = ne;
    }
    uint32_t type_id = p.read<uint32_t>("the tensor type");
    const TypeGeometry* g = type_geometry(type_id);
    if (g == nullptr) {
      const char* known = unsupported_type_name(type_id);
      p.fail(ErrorCode::unsupported,
             "tensor '" + t.name + "' has type " + std::to_string(type_id) +
                 (known ? std::string(" (") + known + "), which Hearth does not support"
                        : std::string(", an unknown ggml type")));
    }
    t.type = static_cast<GgmlType>(type_id);
    if (t.ne[0] % g->block_elems != 0) {
      p.fail_here("row length " + std::to_string(t.ne[0]) + " is not a multiple of " +
                  g->name + "'s block of " + std::to_string(g->block_elems));
    }
    // n_bytes = blocks * block_bytes; blocks <= n_elements, so only the multiply can overflow.
    uint64_t blocks = static_cast<uint64_t>(n_elements / g->block_elems);
    uint64_t bb = static_cast<uint64_t>(g->block_bytes);
    if (blocks > std::numeric_limits<uint64_t>::max() / bb) p.fail_here("data size overflows");
    t.n_bytes = blocks * bb;
    t.offset = p.read<uint64_t>("the tensor offset");
    if (t.offset % alignment_ != 0) {
      p.fail_here("offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                  std::to_string(alignment_));
    }
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      p.fail_here("duplicate tensor name");
    }
    tensors_.push_back(std::move(t));
  }
  p.set_where("");

  uint64_t end_of_header = p.pos();
  data_offset_ = (end_of_header + alignment_ - 1) / alignment_ * alignment_;
  if (tensors_.empty()) return;  // vocabulary-only files may end before the aligned start
  if (data_offset_ > size_) {
    p.fail(ErrorCode::corrupt, "the tensor data section starts at byte " +
                                   std::to_string(data_offset_) + ", past the end of the file (" +
                                   std::to_string(size_) + " bytes)");
  }
  uint64_t data_size = size_ - data_offset_;
  for (TensorInfo& t : tensors_) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      p.fail(ErrorCode::corrupt,
             "tensor '" + t.name + "' data ends past the end of the file (" +
                 std::to_string(t.n_bytes) + " bytes at data offset " + std::to_string(t.offset) +
                 ", but the data section holds " + std::to_string(data_size) + " bytes)");
    }
    t.data = base_ + data_offset_ + t.offset;
  }
  // Overlapping tensors mean a damaged directory (two names for the same bytes).
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const TensorInfo& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo* a = by_offset[i - 1];
    const TensorInfo* b = by_offset[i];
    if (a->offset + a->n_bytes > b->offset) {
      p.fail(ErrorCode::corrupt,
             "tensors '" + a->name + "' and '" + b->name + "' overlap in the data section");
    }
  }
}

const Value* File::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& File::require(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) {
    throw Error(ErrorCode::not_found, path_ + ": missing required key '" + std::string(key) + "'");
  }
  return *v;
}

void File::wrong_type(std::string_view key, const Value& v, const char* expected) const {
  std::string shown = v.is_array() ? v.type_string() : v.type_string() + " " + v.describe(4);
  throw Error(ErrorCode::corrupt, path_ + ": key '" + std::string(key) + "' is " + shown +
                                      ", expected " + expected);
}

std::string File::get_string(std::string_view key) const {
  const Value& v = require(key);
  if (const std::string* s = v.as_string()) return *s;
  wrong_type(key, v, "a string");
}

std::string File::get_string_or(std::string_view key, std::string d) const {
  return find(key) ? get_string(key) : d;
}

uint64_t File::get_u64(std::string_view key) const {
  const Value& v = require(key);
  if (v.type() == ValueType::BOOL) wrong_type(key, v, "an unsigned integer");
  std::optional<uint64_t> x = v.as_u64();
  if (!x) wrong_type(key, v, "an unsigned integer");
  return *x;
}

uint64_t File::get_u64_or(std::string_view key, uint64_t d) const {
  return find(key) ? get_u64(key) : d;
}

uint32_t File::get_u32(std::string_view key) const {
  uint64_t x = get_u64(key);
  if (x > std::numeric_limits<uint32_t>::max()) {
    wrong_type(key, require(key), "an integer that fits in 32 bits");
  }
  return static_cast<uint32_t>(x);
}

uint32_t File::get_u32_or(std::string_view key, uint32_t d) const {
  return find(key) ? get_u32(key) : d;
}

int64_t File::get_i64(std::string_view key) const {
  const Value& v = require(key);
  if (v.type() == ValueType::BOOL) wrong_type(key, v, "an integer");
  std::optional<int64_t> x = v.as_i64();
  if (!x) wrong_type(key, v, "an integer that fits in 64 signed bits");
  return *x;
}

int64_t File::get_i64_or(std::string_view key, int64_t d) const {
  return find(key) ? get_i64(key) : d;
}

float File::get_f32(std::string_view key) const {
  const Value& v = require(key);
  std::optional<double> x = v.as_f64();
  if (!x) wrong_type(key, v, "a number");
  return static_cast<float>(*x);
}

float File::get_f32_or(std::string_view key, float d) const {
  return find(key) ? get_f32(key) : d;
}

bool File::get_bool(std::string_view key) const {
  const Value& v = require(key);
  std::optional<bool> b = v.as_bool();
  if (!b) wrong_type(key, v, "a bool");
  return *b;
}

bool File::get_bool_or(std::string_view key, bool d) const {
  return find(key) ? get_bool(key) : d;
}

std::vector<std::string> File::get_string_array(std::string_view key) const {
  const Value& v = require(key);
  if (!v.is_array() || v.elem_type() != ValueType::STRING) {
    wrong_type(key, v, "an array of strings");
  }
  return v.strings();
}

std::vector<float> File::get_f32_array(std::string_view key) const {
  const Value& v = require(key);
  if (!v.is_array() || !(is_float_type(v.elem_type()) || is_integer_type(v.elem_type()))) {
    wrong_type(key, v, "an array of numbers");
  }
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(*v.float_at(i));
  return out;
}

std::vector<int32_t> File::get_i32_array(std::string_view key) const {
  const Value& v = require(key);
  if (!v.is_array() || !is_integer_type(v.elem_type())) {
    wrong_type(key, v, "an array of integers");
  }
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    std::optional<int64_t> x = v.int_at(i);
    if (!x || *x < std::numeric_limits<int32_t>::min() ||
        *x > std::numeric_limits<int32_t>::max()) {
      throw Error(ErrorCode::corrupt, path_ + ": key '" + std::string(key) + "' element " +
                                          std::to_string(i) + " does not fit in 32 bits");
    }
    out[i] = static_cast<int32_t>(*x);
  }
  return out;
}

size_t File::get_array_size(std::string_view key) const {
  const Value& v = require(key);
  if (!v.is_array()) wrong_type(key, v, "an array");
  return v.size();
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (t == nullptr) {
    throw Error(ErrorCode::not_found, path_ + ": missing tensor '" + std::string(name) + "'");
  }
  return *t;
}

void File::release_pages(const uint8_t* p, size_t n) const {
  const uint8_t* base = map_.data();
  if (base == nullptr || p < base || p + n > base + map_.size()) return;
  map_.release(static_cast<size_t>(p - base), n);
}

}  // namespace hearth::gguf
