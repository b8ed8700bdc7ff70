// The scheduler's and the placement plan's KV size (kv_cache_bytes_per_layer, from the file's
// keys alone) equals what the model's attention blocks allocate, for every shared fixture and
// cache type: GQA caches K and V per KV head, MLA (deepseek2) one latent + RoPE key per position.

#include <gtest/gtest.h>

#include <string>

#include "model/compute_backend.h"
#include "model/model.h"

namespace hearth::model {
namespace {

TEST(KvEstimate, EqualsWhatTheModelAllocates) {
  const std::string dir = HEARTH_TESTDATA_DIR;
  for (const char* name : {"stories260K.gguf", "qwen2-tiny-q8_0.gguf", "llama3-tiny-q8_0.gguf",
                           "qwen3-tiny-q8_0.gguf", "deepseek2-tiny-q8_0.gguf"}) {
    for (gguf::GgmlType t : {gguf::GgmlType::F16, gguf::GgmlType::F32}) {
      std::unique_ptr<Model> m = load_model(gguf::File::open(dir + "/" + name), {"cpu-ref", "", 0});
      const int64_t n_layer = m->hparams().n_layer;
      KvCache cache = m->make_cache(96, 3, t);
      EXPECT_EQ(cache.bytes(), static_cast<uint64_t>(n_layer) * kv_cache_bytes_per_layer(m->file(), 96, 3, t))
          << name << " " << gguf::type_name(t);
    }
  }
  // deepseek2-tiny: 32 latent + 8 RoPE values per position, F16.
  EXPECT_EQ(kv_cache_bytes_per_layer(gguf::File::open(dir + "/deepseek2-tiny-q8_0.gguf"), 100, 1, gguf::GgmlType::F16),
            100u * 40 * 2);
}

}  // namespace
}  // namespace hearth::model
