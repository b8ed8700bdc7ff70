#include "gguf/gguf_value.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace hearth::gguf {

static_assert(std::endian::native == std::endian::little,
              "GGUF values are stored little-endian and read in place");

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "u8";
    case ValueType::INT8: return "i8";
    case ValueType::UINT16: return "u16";
    case ValueType::INT16: return "i16";
    case ValueType::UINT32: return "u32";
    case ValueType::INT32: return "i32";
    case ValueType::FLOAT32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::UINT64: return "u64";
    case ValueType::INT64: return "i64";
    case ValueType::FLOAT64: return "f64";
  }
  return "unknown";
}

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL: return 1;
    case ValueType::UINT16:
    case ValueType::INT16: return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32: return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64: return 8;
    case ValueType::STRING:
    case ValueType::ARRAY: return 0;
  }
  return 0;
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64: return true;
    default: return false;
  }
}

bool is_float_type(ValueType t) { return t == ValueType::FLOAT32 || t == ValueType::FLOAT64; }

Value Value::scalar(ValueType t, uint64_t bits) {
  Value v;
  v.type_ = t;
  v.elem_ = t;
  v.bits_ = bits;
  return v;
}

Value Value::scalar(ValueType t, int64_t x) { return scalar(t, static_cast<uint64_t>(x)); }

Value Value::f32(float x) { return scalar(ValueType::FLOAT32, uint64_t{std::bit_cast<uint32_t>(x)}); }

Value Value::f64(double x) { return scalar(ValueType::FLOAT64, std::bit_cast<uint64_t>(x)); }

Value Value::string(std::string s) {
  Value v;
  v.type_ = ValueType::STRING;
  v.elem_ = ValueType::STRING;
  v.str_ = std::move(s);
  return v;
}

Value Value::numeric_array(ValueType elem, std::vector<uint8_t> raw, size_t count) {
  Value v;
  v.type_ = ValueType::ARRAY;
  v.elem_ = elem;
  v.count_ = count;
  v.raw_ = std::move(raw);
  return v;
}

Value Value::string_array(std::vector<std::string> s) {
  Value v;
  v.type_ = ValueType::ARRAY;
  v.elem_ = ValueType::STRING;
  v.count_ = s.size();
  v.strings_ = std::move(s);
  return v;
}

Value Value::array_of_arrays(std::vector<Value> a) {
  Value v;
  v.type_ = ValueType::ARRAY;
  v.elem_ = ValueType::ARRAY;
  v.count_ = a.size();
  v.arrays_ = std::move(a);
  return v;
}

template <typename T>
static std::vector<uint8_t> pack(const std::vector<T>& xs) {
  std::vector<uint8_t> raw(xs.size() * sizeof(T));
  if (!xs.empty()) std::memcpy(raw.data(), xs.data(), raw.size());
  return raw;
}

Value Value::f32_array(const std::vector<float>& xs) {
  return numeric_array(ValueType::FLOAT32, pack(xs), xs.size());
}
Value Value::i32_array(const std::vector<int32_t>& xs) {
  return numeric_array(ValueType::INT32, pack(xs), xs.size());
}
Value Value::u32_array(const std::vector<uint32_t>& xs) {
  return numeric_array(ValueType::UINT32, pack(xs), xs.size());
}

// Reads one fixed-size integer (or bool) of type t at p as int64; nullopt for a u64 above
// INT64_MAX and for non-integer types.
std::optional<int64_t> Value::int_of(ValueType t, const uint8_t* p) const {
  auto load = [p]<typename T>(T) {
    T x;
    std::memcpy(&x, p, sizeof(T));
    return x;
  };
  switch (t) {
    case ValueType::UINT8:
    case ValueType::BOOL: return load(uint8_t{});
    case ValueType::INT8: return load(int8_t{});
    case ValueType::UINT16: return load(uint16_t{});
    case ValueType::INT16: return load(int16_t{});
    case ValueType::UINT32: return load(uint32_t{});
    case ValueType::INT32: return load(int32_t{});
    case ValueType::INT64: return load(int64_t{});
    case ValueType::UINT64: {
      uint64_t x = load(uint64_t{});
      if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(x);
    }
    default: return std::nullopt;
  }
}

std::optional<int64_t> Value::as_i64() const {
  if (!is_integer_type(type_) && type_ != ValueType::BOOL) return std::nullopt;
  // bits_ holds the value zero- or sign-extended, so it reads as a u64 or as an i64.
  if (type_ == ValueType::UINT64) {
    if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  return static_cast<int64_t>(bits_);
}

std::optional<uint64_t> Value::as_u64() const {
  if (type_ == ValueType::UINT64) return bits_;
  std::optional<int64_t> v = as_i64();
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<double> Value::as_f64() const {
  if (type_ == ValueType::FLOAT32) return std::bit_cast<float>(static_cast<uint32_t>(bits_));
  if (type_ == ValueType::FLOAT64) return std::bit_cast<double>(bits_);
  if (type_ == ValueType::UINT64) return static_cast<double>(bits_);
  if (is_integer_type(type_)) return static_cast<double>(static_cast<int64_t>(bits_));
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (type_ != ValueType::BOOL) return std::nullopt;
  return bits_ != 0;
}

const std::string* Value::as_string() const {
  return type_ == ValueType::STRING ? &str_ : nullptr;
}

std::optional<int64_t> Value::int_at(size_t i) const {
  size_t w = value_type_size(elem_);
  if (type_ != ValueType::ARRAY || i >= count_ || w == 0 || (i + 1) * w > raw_.size()) {
    return std::nullopt;
  }
  return int_of(elem_, raw_.data() + i * w);
}

std::optional<double> Value::float_at(size_t i) const {
  size_t w = value_type_size(elem_);
  if (type_ != ValueType::ARRAY || i >= count_ || w == 0 || (i + 1) * w > raw_.size()) {
    return std::nullopt;
  }
  const uint8_t* p = raw_.data() + i * w;
  if (elem_ == ValueType::FLOAT32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (elem_ == ValueType::FLOAT64) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  if (elem_ == ValueType::UINT64) {
    uint64_t u;
    std::memcpy(&u, p, 8);
    return static_cast<double>(u);
  }
  std::optional<int64_t> x = int_of(elem_, p);
  if (!x || elem_ == ValueType::BOOL) return std::nullopt;
  return static_cast<double>(*x);
}

static std::string quote(const std::string& s, size_t max_bytes) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : s) {
    if (n++ == max_bytes) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

static std::string format_double(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

std::string Value::type_string() const {
  if (type_ != ValueType::ARRAY) return value_type_name(type_);
  return std::string("array of ") + value_type_name(elem_);
}

std::string Value::describe(size_t max_elems) const {
  switch (type_) {
    case ValueType::STRING: return quote(str_, 200);
    case ValueType::BOOL: return bits_ != 0 ? "true" : "false";
    case ValueType::FLOAT32:
    case ValueType::FLOAT64: return format_double(*as_f64());
    case ValueType::UINT64: return std::to_string(bits_);
    case ValueType::ARRAY: break;
    default: return std::to_string(static_cast<int64_t>(bits_));
  }
  std::string out = "[" + std::string(value_type_name(elem_)) + " x " + std::to_string(count_) + "]";
  size_t shown = std::min(count_, max_elems);
  for (size_t i = 0; i < shown; ++i) {
    out += i == 0 ? " " : ", ";
    if (elem_ == ValueType::STRING) {
      out += quote(strings_[i], 40);
    } else if (elem_ == ValueType::ARRAY) {
      out += "(" + arrays_[i].describe(max_elems / 2 > 0 ? max_elems / 2 : 1) + ")";
    } else if (elem_ == ValueType::BOOL) {
      out += *int_at(i) != 0 ? "true" : "false";
    } else if (is_float_type(elem_)) {
      out += format_double(*float_at(i));
    } else if (elem_ == ValueType::UINT64) {
      uint64_t u;
      std::memcpy(&u, raw_.data() + i * 8, 8);
      out += std::to_string(u);
    } else {
      out += std::to_string(*int_at(i));
    }
  }
  if (shown < count_) out += ", ...";
  return out;
}

}  // namespace hearth::gguf
