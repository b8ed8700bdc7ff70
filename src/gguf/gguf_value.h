#pragma once
// One GGUF metadata value: a scalar, a string, or a typed array (of numbers, of strings, or of
// arrays). Values own their contents, so they stay valid after the File that read them is gone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hearth::gguf {

// Numbered as in the GGUF format.
enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// "u32", "string", "array", ...; "unknown" for ids outside the enum.
const char* value_type_name(ValueType t);
// Bytes of one element in the file for the fixed-size types; 0 for STRING, ARRAY and unknown ids.
size_t value_type_size(ValueType t);
bool is_integer_type(ValueType t);  // UINT8..INT64 (not BOOL)
bool is_float_type(ValueType t);    // FLOAT32, FLOAT64

class Value {
 public:
  Value() = default;  // a u8 zero; only useful as a placeholder

  // Scalars.
  static Value u8(uint8_t v) { return scalar(ValueType::UINT8, uint64_t{v}); }
  static Value i8(int8_t v) { return scalar(ValueType::INT8, static_cast<int64_t>(v)); }
  static Value u16(uint16_t v) { return scalar(ValueType::UINT16, uint64_t{v}); }
  static Value i16(int16_t v) { return scalar(ValueType::INT16, static_cast<int64_t>(v)); }
  static Value u32(uint32_t v) { return scalar(ValueType::UINT32, uint64_t{v}); }
  static Value i32(int32_t v) { return scalar(ValueType::INT32, static_cast<int64_t>(v)); }
  static Value u64(uint64_t v) { return scalar(ValueType::UINT64, uint64_t{v}); }
  static Value i64(int64_t v) { return scalar(ValueType::INT64, v); }
  static Value f32(float v);
  static Value f64(double v);
  static Value boolean(bool v) { return scalar(ValueType::BOOL, uint64_t{v ? 1u : 0u}); }
  static Value string(std::string v);

  // Arrays. `raw` holds `count` packed little-endian elements of the fixed-size type `elem`.
  static Value numeric_array(ValueType elem, std::vector<uint8_t> raw, size_t count);
  static Value string_array(std::vector<std::string> v);
  static Value array_of_arrays(std::vector<Value> v);  // each element must be an ARRAY
  static Value f32_array(const std::vector<float>& v);
  static Value i32_array(const std::vector<int32_t>& v);
  static Value u32_array(const std::vector<uint32_t>& v);

  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::ARRAY; }

  // Scalar access. Integers (and BOOL) convert if the value fits; floats only from FLOAT32/64
  // and integers. nullopt = wrong type or out of range; callers turn that into an Error.
  std::optional<int64_t> as_i64() const;
  std::optional<uint64_t> as_u64() const;
  std::optional<double> as_f64() const;
  std::optional<bool> as_bool() const;      // BOOL only
  const std::string* as_string() const;     // STRING only, else nullptr

  // Array access (type() == ARRAY). elem_type() of a non-array is its own type.
  ValueType elem_type() const { return elem_; }
  size_t size() const { return count_; }  // element count; 0 for scalars
  const std::vector<std::string>& strings() const { return strings_; }  // elem STRING
  const std::vector<Value>& arrays() const { return arrays_; }          // elem ARRAY
  const std::vector<uint8_t>& raw() const { return raw_; }              // fixed-size elems
  // Element i of a fixed-size numeric array, converted as the scalar accessors do.
  std::optional<int64_t> int_at(size_t i) const;
  std::optional<double> float_at(size_t i) const;

  // Short human-readable form: scalars in full (strings quoted, cut at 200 bytes), arrays as
  // "[string x 32000] "a", "b", ..." with at most max_elems elements shown.
  std::string describe(size_t max_elems = 8) const;

  // "u32", "string", "array of string", ...: for diagnostics.
  std::string type_string() const;

 private:
  static Value scalar(ValueType t, uint64_t bits);
  static Value scalar(ValueType t, int64_t v);
  std::optional<int64_t> int_of(ValueType t, const uint8_t* p) const;

  ValueType type_ = ValueType::UINT8;
  ValueType elem_ = ValueType::UINT8;
  uint64_t bits_ = 0;  // scalar payload: the value's bytes, zero/sign-extended for integers
  std::string str_;
  size_t count_ = 0;
  std::vector<uint8_t> raw_;
  std::vector<std::string> strings_;
  std::vector<Value> arrays_;
};

}  // namespace hearth::gguf
