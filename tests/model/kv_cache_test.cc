// KvCache::parse_type: HEARTH_KV_CACHE_TYPE's names as Ollama takes them (lower-cased first).

#include <gtest/gtest.h>

#include <string>

#include "model/kv_cache.h"
#include "util/error.h"

namespace hearth::model {
namespace {

TEST(KvCacheType, NamesInAnyCaseWithSpaceAround) {
  EXPECT_EQ(KvCache::parse_type("Q8_0"), gguf::GgmlType::Q8_0);
  EXPECT_EQ(KvCache::parse_type(" q4_0 "), gguf::GgmlType::Q4_0);
  EXPECT_EQ(KvCache::parse_type("F16"), gguf::GgmlType::F16);
  EXPECT_EQ(KvCache::parse_type("\tF32\n"), gguf::GgmlType::F32);
  EXPECT_EQ(KvCache::parse_type("q8_0"), gguf::GgmlType::Q8_0);
  EXPECT_EQ(KvCache::parse_type(""), gguf::GgmlType::F16);
  EXPECT_EQ(KvCache::parse_type("  "), gguf::GgmlType::F16);
}

TEST(KvCacheType, UnknownNamesAreRefusedByName) {
  for (const char* name : {"q5_1", "Q5_1", "q8", "q8 _0", "bf16"}) {
    try {
      KvCache::parse_type(name);
      ADD_FAILURE() << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(std::string("'") + name + "' is not supported (use f16, q8_0, q4_0 or f32)"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace hearth::model
