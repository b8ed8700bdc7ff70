// Writer -> reader round trips: every value type, several tensor types, alignment, atomic write,
// and the typed getters' conversions and errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_samples.h"
#include "util/error.h"

namespace hearth::gguf {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hearth_gguf_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no hearth::Error thrown";
  return ErrorCode::internal;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no hearth::Error thrown";
  return "";
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GgufRoundTrip, EveryValueTypeSurvives) {
  TempDir dir;
  std::string path = (dir.path() / "all.gguf").string();
  Writer w = testing::all_types_writer();
  w.write(path);
  File f = File::open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.alignment(), 32u);
  ASSERT_EQ(f.metadata().size(), w.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, w.metadata()[i].first) << "file order kept";
  }
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.find("t.u8")->type(), ValueType::UINT8);
  EXPECT_EQ(f.get_u32("t.u8"), 200u);
  EXPECT_EQ(f.find("t.i8")->type(), ValueType::INT8);
  EXPECT_EQ(f.get_i64("t.i8"), -100);
  EXPECT_EQ(f.get_u32("t.u16"), 60000u);
  EXPECT_EQ(f.get_i64("t.i16"), -30000);
  EXPECT_EQ(f.get_u32("t.u32"), 4000000000u);
  EXPECT_EQ(f.get_i64("t.i32"), -2000000000);
  EXPECT_EQ(f.get_u64("t.u64"), 18000000000000000000ull);
  EXPECT_EQ(f.get_i64("t.i64"), -9000000000000000000ll);
  EXPECT_EQ(f.find("t.f32")->type(), ValueType::FLOAT32);
  EXPECT_EQ(f.get_f32("t.f32"), 1.5f);
  EXPECT_EQ(f.find("t.f64")->type(), ValueType::FLOAT64);
  EXPECT_EQ(*f.find("t.f64")->as_f64(), -2.25);
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("t.string"), "héllo\nworld");
  EXPECT_EQ(f.get_string("t.empty_string"), "");
  EXPECT_EQ(f.get_string_array("t.strings"),
            (std::vector<std::string>{"a", "", "ĠĠ", "<|im_end|>"}));
  EXPECT_EQ(f.get_f32_array("t.f32s"), (std::vector<float>{0.5f, -1.0f, 3.25f}));
  EXPECT_EQ(f.get_i32_array("t.i32s"), (std::vector<int32_t>{1, -2, 3, 2147483647}));
  EXPECT_EQ(f.find("t.u32s")->elem_type(), ValueType::UINT32);
  EXPECT_EQ(f.find("t.u32s")->int_at(1), 4294967295ll);
  EXPECT_EQ(f.get_i32_array("t.u8s"), (std::vector<int32_t>{1, 2, 255}));
  const Value* bools = f.find("t.bools");
  ASSERT_NE(bools, nullptr);
  EXPECT_EQ(bools->elem_type(), ValueType::BOOL);
  EXPECT_EQ(bools->size(), 2u);
  EXPECT_EQ(f.get_f32_array("t.f64s"), (std::vector<float>{0.125f, -3.0f}));
  EXPECT_EQ(f.get_array_size("t.empty"), 0u);
  EXPECT_EQ(f.find("t.empty")->elem_type(), ValueType::INT64);

  const Value* nested = f.find("t.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->elem_type(), ValueType::ARRAY);
  ASSERT_EQ(nested->arrays().size(), 3u);
  EXPECT_EQ(nested->arrays()[0].int_at(1), 2);
  EXPECT_EQ(nested->arrays()[1].strings(), std::vector<std::string>{"x"});
  ASSERT_EQ(nested->arrays()[2].arrays().size(), 1u);
  EXPECT_EQ(nested->arrays()[2].arrays()[0].float_at(0), 9.0);
}

TEST(GgufRoundTrip, TensorsKeepShapeTypeAndBytes) {
  Writer w = testing::all_types_writer();
  std::vector<uint8_t> bytes = w.to_bytes();
  File f = File::from_memory(bytes.data(), bytes.size(), "mem.gguf");
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.data_offset() % 32, 0u);

  const TensorInfo& a = f.tensor("a.f32");
  EXPECT_EQ(a.type, GgmlType::F32);
  EXPECT_EQ(a.n_dims, 2);
  EXPECT_EQ(a.ne[0], 3);
  EXPECT_EQ(a.ne[1], 2);
  EXPECT_EQ(a.ne[2], 1);
  EXPECT_EQ(a.n_elements(), 6);
  EXPECT_EQ(a.n_rows(), 2);
  EXPECT_EQ(a.n_bytes, 24u);
  EXPECT_EQ(a.shape_string(), "[3, 2]");
  float first;
  std::memcpy(&first, a.data, 4);
  EXPECT_EQ(first, -2.5f);

  const TensorInfo& b = f.tensor("b.f16");
  EXPECT_EQ(b.type, GgmlType::F16);
  EXPECT_EQ(b.n_dims, 3);
  EXPECT_EQ(b.n_rows(), 6);
  EXPECT_EQ(std::vector<uint8_t>(b.data, b.data + b.n_bytes), testing::pattern_bytes(60, 1));

  const TensorInfo& c = f.tensor("c.q8_0");
  EXPECT_EQ(c.type, GgmlType::Q8_0);
  EXPECT_EQ(c.n_dims, 4);
  EXPECT_EQ(c.n_bytes, 34u * 4);
  EXPECT_EQ(std::vector<uint8_t>(c.data, c.data + c.n_bytes), testing::pattern_bytes(136, 2));

  const TensorInfo& d = f.tensor("d.q4_K");
  EXPECT_EQ(d.type, GgmlType::Q4_K);
  EXPECT_EQ(d.n_bytes, 288u);
  EXPECT_EQ(std::vector<uint8_t>(d.data, d.data + d.n_bytes), testing::pattern_bytes(288, 3));

  for (const TensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(t.data, bytes.data() + f.data_offset() + t.offset) << t.name;
  }
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
  EXPECT_EQ(code_of([&] { f.tensor("nope"); }), ErrorCode::not_found);
  EXPECT_THAT(message_of([&] { f.tensor("nope"); }), HasSubstr("mem.gguf: missing tensor 'nope'"));
}

TEST(GgufRoundTrip, WriteMatchesToBytesAndLeavesNoTempFiles) {
  TempDir dir;
  fs::path path = dir.path() / "m.gguf";
  Writer w = testing::all_types_writer();
  w.write(path.string());
  EXPECT_EQ(read_bytes(path), w.to_bytes());
  // Overwriting an existing file replaces it whole.
  Writer t = testing::tiny_writer();
  t.write(path.string());
  EXPECT_EQ(read_bytes(path), t.to_bytes());
  size_t n_files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++n_files;
  }
  EXPECT_EQ(n_files, 1u);
  EXPECT_EQ(code_of([&] { t.write((dir.path() / "no/such/dir/x.gguf").string()); }),
            ErrorCode::io);
}

TEST(GgufRoundTrip, AlignmentIsHonoured) {
  Writer w = testing::all_types_writer();
  w.set_alignment(64);
  std::vector<uint8_t> bytes = w.to_bytes();
  File f = File::from_memory(bytes.data(), bytes.size(), "a64.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_u32("general.alignment"), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  for (const TensorInfo& t : f.tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
  EXPECT_EQ(f.tensor("d.q4_K").n_bytes, 288u);
  w.set_alignment(32);
  EXPECT_EQ(w.to_bytes(), testing::all_types_writer().to_bytes()) << "default drops the key";
  EXPECT_EQ(code_of([&] { w.set_alignment(48); }), ErrorCode::invalid_argument);
}

TEST(GgufRoundTrip, VersionTwoReads) {
  std::vector<uint8_t> bytes = testing::tiny_writer().to_bytes();
  bytes[4] = 2;
  File f = File::from_memory(bytes.data(), bytes.size(), "v2.gguf");
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_u32("tiny.block_count"), 2u);
}

TEST(GgufRoundTrip, EmptyFileHasNoKeysOrTensors) {
  std::vector<uint8_t> bytes = Writer().to_bytes();
  EXPECT_EQ(bytes.size(), 32u);  // 24-byte header padded to the alignment
  File f = File::from_memory(bytes.data(), bytes.size(), "empty.gguf");
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriter, SetReplacesInPlace) {
  Writer w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "x");
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].first, "a");
  EXPECT_EQ(*w.metadata()[0].second.as_string(), "x");
  w.remove("a");
  ASSERT_EQ(w.metadata().size(), 1u);
  EXPECT_EQ(w.metadata()[0].first, "b");
}

TEST(GgufWriter, RejectsBadTensors) {
  Writer w;
  std::vector<uint8_t> buf(1024);
  EXPECT_EQ(code_of([&] { w.add_tensor("x", GgmlType::F32, {4}, buf.data(), 15); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(code_of([&] { w.add_tensor("x", GgmlType::Q8_0, {16}, buf.data(), 17); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(code_of([&] { w.add_tensor("x", GgmlType::F32, {}, buf.data(), 4); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(code_of([&] { w.add_tensor("x", GgmlType::F32, {1, 1, 1, 1, 1}, buf.data(), 4); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(code_of([&] { w.add_tensor("", GgmlType::F32, {1}, buf.data(), 4); }),
            ErrorCode::invalid_argument);
  w.add_tensor("x", GgmlType::F32, {4}, buf.data(), 16);
  EXPECT_THAT(message_of([&] { w.add_tensor("x", GgmlType::F32, {4}, buf.data(), 16); }),
              HasSubstr("tensor 'x': added twice"));
  w.add_tensor_view("y", GgmlType::F16, {8}, buf.data(), 16);
  EXPECT_EQ(w.tensor_count(), 2u);
}

TEST(GgufWriter, GeneratedTensorsAreProducedAtWriteTime) {
  TempDir dir;
  Writer w;
  int calls = 0;
  w.add_tensor_generated("g", GgmlType::F32, {3}, 12, [&](uint8_t* dst) {
    ++calls;
    const float v[3] = {1, 2, 3};
    std::memcpy(dst, v, 12);
  });
  std::vector<uint8_t> a = {9, 9, 9, 9};
  w.add_tensor("h", GgmlType::I8, {4}, a.data(), 4);
  EXPECT_EQ(calls, 0);
  fs::path path = dir.path() / "g.gguf";
  w.write(path.string());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(read_bytes(path), w.to_bytes());
  File f = File::open(path.string());
  float v[3];
  std::memcpy(v, f.tensor("g").data, 12);
  EXPECT_EQ(v[2], 3.0f);
  EXPECT_EQ(f.tensor("h").data[3], 9);
  // A producer that fails leaves neither the target nor a temp file behind.
  Writer bad;
  bad.add_tensor_generated("x", GgmlType::F32, {1}, 4, [](uint8_t*) {
    throw Error(ErrorCode::cancelled, "stop");
  });
  fs::path bad_path = dir.path() / "bad.gguf";
  EXPECT_EQ(code_of([&] { bad.write(bad_path.string()); }), ErrorCode::cancelled);
  EXPECT_FALSE(fs::exists(bad_path));
  size_t n_files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++n_files;
  }
  EXPECT_EQ(n_files, 1u);
}

class GgufGetters : public ::testing::Test {
 protected:
  GgufGetters()
      : bytes_(testing::all_types_writer().to_bytes()),
        f_(File::from_memory(bytes_.data(), bytes_.size(), "g.gguf")) {}
  std::vector<uint8_t> bytes_;
  File f_;
};

TEST_F(GgufGetters, MissingKeysAreNotFoundAndNamed) {
  EXPECT_EQ(f_.find("nope"), nullptr);
  EXPECT_EQ(code_of([&] { f_.get_u32("nope"); }), ErrorCode::not_found);
  EXPECT_EQ(message_of([&] { f_.get_string("llama.block_count"); }),
            "g.gguf: missing required key 'llama.block_count'");
  EXPECT_EQ(code_of([&] { f_.get_string_array("nope"); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { f_.get_f32("nope"); }), ErrorCode::not_found);
}

TEST_F(GgufGetters, DefaultsOnlyWhenAbsent) {
  EXPECT_EQ(f_.get_u32_or("nope", 7), 7u);
  EXPECT_EQ(f_.get_u32_or("t.u16", 7), 60000u);
  EXPECT_EQ(f_.get_f32_or("nope", 0.5f), 0.5f);
  EXPECT_EQ(f_.get_f32_or("t.f32", 0.5f), 1.5f);
  EXPECT_EQ(f_.get_bool_or("nope", true), true);
  EXPECT_EQ(f_.get_bool_or("t.bool", false), true);
  EXPECT_EQ(f_.get_string_or("nope", "d"), "d");
  EXPECT_EQ(f_.get_i64_or("nope", -3), -3);
  EXPECT_EQ(f_.get_u64_or("nope", 9), 9u);
  // A present key of the wrong type is an error even with a default.
  EXPECT_EQ(code_of([&] { f_.get_string_or("t.u32", "d"); }), ErrorCode::corrupt);
  EXPECT_EQ(code_of([&] { f_.get_bool_or("t.u8", false); }), ErrorCode::corrupt);
}

TEST_F(GgufGetters, IntegersConvertOnlyWhenInRange) {
  EXPECT_EQ(f_.get_u64("t.u32"), 4000000000u);
  EXPECT_EQ(f_.get_i64("t.u32"), 4000000000);
  EXPECT_EQ(code_of([&] { f_.get_u32("t.i8"); }), ErrorCode::corrupt);   // negative
  EXPECT_EQ(code_of([&] { f_.get_u32("t.u64"); }), ErrorCode::corrupt);  // too big
  EXPECT_EQ(code_of([&] { f_.get_i64("t.u64"); }), ErrorCode::corrupt);  // above INT64_MAX
  EXPECT_EQ(code_of([&] { f_.get_u32("t.bool"); }), ErrorCode::corrupt);
  EXPECT_EQ(code_of([&] { f_.get_u32("t.f32"); }), ErrorCode::corrupt);
  EXPECT_EQ(f_.get_f32("t.i32"), -2000000000.0f);
  EXPECT_EQ(f_.get_f32("t.f64"), -2.25f);
  EXPECT_EQ(message_of([&] { f_.get_string("t.u32"); }),
            "g.gguf: key 't.u32' is u32 4000000000, expected a string");
  EXPECT_EQ(message_of([&] { f_.get_u32("t.strings"); }),
            "g.gguf: key 't.strings' is array of string, expected an unsigned integer");
}

TEST_F(GgufGetters, ArraysCheckElementTypes) {
  EXPECT_EQ(code_of([&] { f_.get_string_array("t.f32s"); }), ErrorCode::corrupt);
  EXPECT_EQ(code_of([&] { f_.get_i32_array("t.f32s"); }), ErrorCode::corrupt);
  EXPECT_EQ(code_of([&] { f_.get_f32_array("t.strings"); }), ErrorCode::corrupt);
  EXPECT_EQ(code_of([&] { f_.get_f32_array("t.string"); }), ErrorCode::corrupt);
  EXPECT_THAT(message_of([&] { f_.get_i32_array("t.u32s"); }),
              HasSubstr("key 't.u32s' element 1 does not fit in 32 bits"));
  EXPECT_EQ(f_.get_f32_array("t.i32s")[1], -2.0f);
  EXPECT_EQ(code_of([&] { f_.get_array_size("t.u8"); }), ErrorCode::corrupt);
  EXPECT_EQ(f_.get_array_size("t.nested"), 3u);
}

TEST(GgufValue, DescribeAbbreviatesArrays) {
  std::vector<std::string> many(100, "t");
  EXPECT_EQ(Value::string_array(many).describe(2), "[string x 100] \"t\", \"t\", ...");
  EXPECT_EQ(Value::i32_array({1, -2}).describe(), "[i32 x 2] 1, -2");
  EXPECT_EQ(Value::string("a\"b\n").describe(), "\"a\\\"b\\n\"");
  EXPECT_EQ(Value::u64(18000000000000000000ull).describe(), "18000000000000000000");
  EXPECT_EQ(Value::boolean(false).describe(), "false");
  EXPECT_EQ(Value::f32(0.5f).describe(), "0.5");
}

}  // namespace
}  // namespace hearth::gguf
