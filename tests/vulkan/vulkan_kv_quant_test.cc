// Q8_0 and Q4_0 KV caches on the Vulkan backend: the bytes store_kv.comp writes equal the CPU
// backend's (its store is quant::traits(type).from_float) bit for bit, on rows made to reach every
// corner of the quantizers. Attention over such caches (the same bytes on both sides) is checked
// with the other cache types in vulkan_ops_test.cc (KvStoreAndAttention, RingCacheStoreAndAttention,
// LatentAttentionAndCopyCols) against cpu-ref, ops::attention_ref.

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "ops/kv_quant.h"
#include "quant/type_traits.h"
#include "op_compare.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using namespace vulkan::testing;

// The cache's bytes as a backend holds them (read() copies whole floats; only the first
// row_bytes * n_rows bytes are the cache's).
std::vector<uint8_t> cache_bytes(ops::Backend& be, const ops::Tensor& t) {
  const size_t n = static_cast<size_t>(t.row_bytes * t.n_rows());
  std::vector<float> words((n + 3) / 4);
  be.read(t, static_cast<int64_t>(words.size()), words.data());
  std::vector<uint8_t> bytes(n);
  std::memcpy(bytes.data(), words.data(), n);
  return bytes;
}

// Rows meant to find every corner of the quantizers: per 32-element block a different scale
// (1e-9: d underflows to zero; 1e-5: an f16 subnormal d; up to 1e3), an all-zero block, a block
// whose codes are exact ties (x / d = k + 1/2), one whose largest magnitude appears with both
// signs (Q4_0 takes the first), and plain normal ones.
std::vector<float> hard_rows(int64_t n, int64_t width, uint32_t seed) {
  std::vector<float> x = normal(static_cast<size_t>(n * width), seed);
  const float scales[] = {1.0f, 1e-9f, 1e-5f, 0.03f, 7.0f, 1e3f};
  for (int64_t b = 0; b < n * width / 32; ++b) {
    float* blk = x.data() + b * 32;
    switch ((b + seed) % 9) {
      case 0:
        for (int i = 0; i < 32; ++i) blk[i] = 0.0f;
        break;
      case 1:  // Q8_0: d = 31.75 / 127 = 0.25 exactly, x / d = 4 x = k + 1/2
        for (int i = 0; i < 32; ++i) blk[i] = 0.25f * static_cast<float>(i - 16) + 0.125f;
        blk[5] = -31.75f;
        break;
      case 2:  // Q4_0: max 4 (first: +4, then -4), d = -0.5, x / d + 8.5 lands on integers
        for (int i = 0; i < 32; ++i) blk[i] = 0.25f * static_cast<float>((i * 7) % 33 - 16);
        blk[3] = 4.0f;
        blk[20] = -4.0f;
        break;
      default:
        for (int i = 0; i < 32; ++i) blk[i] *= scales[(b * 5 + seed) % 6];
    }
  }
  return x;
}

// store_kv into a ring of 64 slots for two sequences in two passes (the second wraps): every
// row written holds the bytes the CPU backend's store writes (ops/cpu_backend.cc store_rows:
// quant::traits(type).from_float of the row), for K rows of 5 blocks and V rows of one.
TEST(VulkanKvQuant, StoreKvWritesTheCpusBytes) {
  NEED_DEVICE();
  for (GgmlType kv : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const int64_t kw = 160, vw = 32, ring = 64, n_ctx = 200;
    ops::KvView cg{gpu->alloc(kv, kw, 2 * ring), gpu->alloc(kv, vw, 2 * ring), n_ctx, ring};
    std::map<int64_t, std::vector<float>> want_k, want_v;  // cache row: the floats last stored
    uint32_t seed = 11;
    for (const auto& [first0, n0, n1] : {std::array<int32_t, 3>{0, 50, 30}, std::array<int32_t, 3>{50, 50, 0}}) {
      std::vector<int32_t> pos, seq;
      for (int32_t i = 0; i < n0; ++i) pos.push_back(first0 + i), seq.push_back(0);
      for (int32_t i = 0; i < n1; ++i) pos.push_back(i), seq.push_back(1);
      const int64_t n = static_cast<int64_t>(pos.size());
      const std::vector<float> k = hard_rows(n, kw, seed), v = hard_rows(n, vw, seed + 1);
      seed += 2;
      for (int64_t t = 0; t < n; ++t) {
        want_k[cg.row(seq[t], pos[t])].assign(k.begin() + t * kw, k.begin() + (t + 1) * kw);
        want_v[cg.row(seq[t], pos[t])].assign(v.begin() + t * vw, v.begin() + (t + 1) * vw);
      }
      const ops::SeqRows rows{pos.data(), seq.data(), n};
      gpu->store_kv(cg, gpu->upload_f32(k.data(), kw, n), gpu->upload_f32(v.data(), vw, n), rows);
    }
    for (const auto& [t, want] : {std::pair{&cg.k, &want_k}, std::pair{&cg.v, &want_v}}) {
      const std::vector<uint8_t> got = cache_bytes(*gpu, *t);
      const int64_t rb = t->row_bytes;
      ASSERT_EQ(rb, ops::kv_row_bytes(kv, t->n_cols()));
      std::vector<uint8_t> cpu(static_cast<size_t>(rb));
      for (const auto& [r, x] : *want) {
        quant::traits(kv).from_float(x.data(), cpu.data(), t->n_cols());
        for (int64_t i = 0; i < rb; ++i) {
          ASSERT_EQ(got[r * rb + i], cpu[i]) << gguf::type_name(kv) << " width " << t->n_cols() << " row " << r
                                             << " byte " << i << " (block " << i / (rb * 32 / t->n_cols()) << ")";
        }
      }
    }
  }
}

}  // namespace
}  // namespace hearth
