#include "gguf_samples.h"

#include <cstring>

namespace hearth::gguf::testing {

std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<uint8_t>(x >> 24);
  }
  return out;
}

static std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

Writer all_types_writer() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set_i64("t.i64", -9000000000000000000ll);
  w.set_f32("t.f32", 1.5f);
  w.set_f64("t.f64", -2.25);
  w.set_bool("t.bool", true);
  w.set_string("t.string", "héllo\nworld");
  w.set_string("t.empty_string", "");
  w.set_string_array("t.strings", {"a", "", "ĠĠ", "<|im_end|>"});
  w.set_f32_array("t.f32s", {0.5f, -1.0f, 3.25f});
  w.set_i32_array("t.i32s", {1, -2, 3, 2147483647});
  w.set_u32_array("t.u32s", {7, 4294967295u});
  w.set("t.u8s", Value::numeric_array(ValueType::UINT8, {1, 2, 255}, 3));
  w.set("t.bools", Value::numeric_array(ValueType::BOOL, {1, 0}, 2));
  std::vector<uint8_t> f64s(16);
  const double d64[2] = {0.125, -3.0};
  std::memcpy(f64s.data(), d64, 16);
  w.set("t.f64s", Value::numeric_array(ValueType::FLOAT64, f64s, 2));
  w.set("t.empty", Value::numeric_array(ValueType::INT64, {}, 0));
  w.set("t.nested", Value::array_of_arrays({Value::i32_array({1, 2}), Value::string_array({"x"}),
                                            Value::array_of_arrays({Value::f32_array({9.f})})}));
  std::vector<float> f32s(2 * 3);
  for (size_t i = 0; i < f32s.size(); ++i) f32s[i] = static_cast<float>(i) - 2.5f;
  std::vector<uint8_t> a = f32_bytes(f32s);
  w.add_tensor("a.f32", GgmlType::F32, {3, 2}, a.data(), a.size());
  std::vector<uint8_t> b = pattern_bytes(2 * 5 * 2 * 3, 1);
  w.add_tensor("b.f16", GgmlType::F16, {5, 2, 3}, b.data(), b.size());
  std::vector<uint8_t> c = pattern_bytes(34 * 2 * 2, 2);
  w.add_tensor("c.q8_0", GgmlType::Q8_0, {64, 2, 1, 1}, c.data(), c.size());
  std::vector<uint8_t> d = pattern_bytes(144 * 2, 3);
  w.add_tensor("d.q4_K", GgmlType::Q4_K, {256, 2}, d.data(), d.size());
  return w;
}

Writer tiny_writer() {
  Writer w;
  w.set_string("general.architecture", "tiny");
  w.set_u32("tiny.block_count", 2);
  std::vector<uint8_t> t = f32_bytes({1.f, 2.f, 3.f, 4.f});
  w.add_tensor("blk.0.attn_q.weight", GgmlType::F32, {2, 2}, t.data(), t.size());
  return w;
}

Writer vocab_writer() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < 64; ++i) {
    tokens.push_back(i < 3 ? std::string(i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>")
                           : "tok" + std::to_string(i));
    scores.push_back(-static_cast<float>(i));
    types.push_back(i < 3 ? 3 : 1);
  }
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  return w;
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> fuzz_seed_files() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
  out.emplace_back("all_types.gguf", all_types_writer().to_bytes());
  out.emplace_back("tiny.gguf", tiny_writer().to_bytes());
  out.emplace_back("vocab.gguf", vocab_writer().to_bytes());
  Writer aligned = tiny_writer();
  aligned.set_alignment(64);
  out.emplace_back("aligned64.gguf", aligned.to_bytes());
  std::vector<uint8_t> v2 = tiny_writer().to_bytes();
  v2[4] = 2;  // the layout of v2 and v3 is the same
  out.emplace_back("tiny_v2.gguf", std::move(v2));
  out.emplace_back("empty.gguf", Writer().to_bytes());
  return out;
}

}  // namespace hearth::gguf::testing
