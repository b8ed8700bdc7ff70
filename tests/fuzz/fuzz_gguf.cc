// libFuzzer target for the GGUF reader: parse arbitrary bytes from memory, then call every getter
// on every key and walk every tensor, so a value the parser accepted but a getter mishandles is
// found too. Only hearth::Error may escape the parser; anything else is a bug.

#include <cstddef>
#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"
#include "util/error.h"

namespace {

template <typename F>
void ignore_errors(F&& f) {
  try {
    f();
  } catch (const hearth::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth::gguf;
  try {
    File f = File::from_memory(data, size, "fuzz.gguf");
    size_t sink = f.version() + f.alignment() + f.data_offset();
    for (const auto& kv : f.metadata()) {
      // Plain references: clang 14 cannot capture structured bindings in lambdas.
      const std::string& key = kv.first;
      const Value& v = kv.second;
      sink += v.describe(4).size() + v.type_string().size();
      ignore_errors([&] { sink += f.get_string(key).size(); });
      ignore_errors([&] { sink += f.get_string_or(key, "").size(); });
      ignore_errors([&] { sink += f.get_u32(key); });
      ignore_errors([&] { sink += f.get_u32_or(key, 0); });
      ignore_errors([&] { sink += f.get_u64(key); });
      ignore_errors([&] { sink += static_cast<size_t>(f.get_i64(key)); });
      ignore_errors([&] { sink += static_cast<size_t>(f.get_f32(key) != 0); });
      ignore_errors([&] { sink += f.get_bool(key); });
      ignore_errors([&] { sink += f.get_bool_or(key, false); });
      ignore_errors([&] { sink += f.get_string_array(key).size(); });
      ignore_errors([&] { sink += f.get_f32_array(key).size(); });
      ignore_errors([&] { sink += f.get_i32_array(key).size(); });
      ignore_errors([&] { sink += f.get_array_size(key); });
      if (f.find(key) != &v) __builtin_trap();
      for (size_t i = 0; i < v.size() && i < 64; ++i) {
        sink += v.int_at(i).value_or(0) + static_cast<size_t>(v.float_at(i).value_or(0) != 0);
      }
    }
    for (const TensorInfo& t : f.tensors()) {
      if (f.find_tensor(t.name) != &t) __builtin_trap();
      // The reader promised these bytes are inside the buffer: touch the first and last.
      if (t.data < data || t.data + t.n_bytes > data + size) __builtin_trap();
      sink += t.data[0] + t.data[t.n_bytes - 1];
      sink += static_cast<size_t>(t.n_elements() + t.n_rows()) + t.shape_string().size();
    }
    ignore_errors([&] { sink += f.tensor("missing").n_bytes; });
    volatile size_t keep = sink;
    (void)keep;
  } catch (const hearth::Error&) {
  }
  return 0;
}
