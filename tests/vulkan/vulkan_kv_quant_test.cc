// Q8_0, Q4_0 and F16 KV caches on the Vulkan backend: the bytes store_kv.comp writes equal the
// CPU backend's (its store is quant::traits(type).from_float, quant::f32_to_fp16_row for F16) bit
// for bit, on rows made to reach every corner of the quantizers, and no byte beside them changes. Attention over such caches (the same bytes on both sides) is checked
// with the other cache types in vulkan_ops_test.cc (KvStoreAndAttention, RingCacheStoreAndAttention,
// LatentAttentionAndCopyCols) against cpu-ref, ops::attention_ref.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "ops/kv_quant.h"
#include "quant/fp16.h"
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

// F16 rows with the conversion's corners among normal values: halfway cases between subnormal
// halves and at the top (65520 rounds to infinity), values that underflow to zero, infinities,
// NaN, both zeros.
std::vector<float> f16_rows(int64_t n, int64_t width, uint32_t seed) {
  std::vector<float> x = normal(static_cast<size_t>(n * width), seed, 100.0f);
  const float special[] = {65504.0f,  65520.0f,   65519.99f, -65520.0f, 0x1p-25f, 0x1.8p-24f, 0x1p-26f,
                           0x1.4p-20f, 0x1p-140f, std::numeric_limits<float>::infinity(), std::nanf(""),
                           -0.0f,      0.0f,       1.0f + 0x1p-11f, 1.0f + 0x3p-11f};
  for (size_t i = seed % 5; i < x.size(); i += 5) x[i] = special[(i * 7 + seed) % std::size(special)];
  return x;
}

// The bytes the CPU backend's store writes for one row (ops/cpu_backend.cc store_rows).
void cpu_row(GgmlType kv, const float* x, int64_t width, uint8_t* out) {
  if (kv == GgmlType::F16) {
    quant::f32_to_fp16_row(x, reinterpret_cast<uint16_t*>(out), width);
  } else {
    quant::traits(kv).from_float(x, out, width);
  }
}

constexpr uint8_t kUntouched = 0xa5;  // every cache byte before the stores

// store_kv into a ring of 64 slots for two sequences in three passes (the second wraps, the
// third writes lone rows between rows never written): every row written holds the bytes the CPU
// backend's store writes, and every other byte of the caches is as it was. Row r starts at byte
// r * row_bytes: with an odd count of blocks (or an odd F16 width) every other row starts half
// way into a 32-bit word, whose first half is the row before's, written in the same pass, or
// never.
void expect_cpu_bytes(ops::Backend& gpu, GgmlType kv, int64_t kw, int64_t vw,
                      std::vector<float> (*rows_of)(int64_t, int64_t, uint32_t)) {
  const int64_t ring = 64, n_ctx = 200;
  ops::KvView cg{gpu.alloc(kv, kw, 2 * ring), gpu.alloc(kv, vw, 2 * ring), n_ctx, ring};
  for (const ops::Tensor* t : {&cg.k, &cg.v}) {
    std::vector<float> fill((t->row_bytes * t->n_rows() + 3) / 4);
    std::memset(fill.data(), kUntouched, fill.size() * sizeof(float));
    gpu.write(*t, static_cast<int64_t>(fill.size()), fill.data());
  }
  std::map<int64_t, std::vector<float>> want_k, want_v;  // cache row: the floats last stored
  uint32_t seed = 11;
  using Run = std::array<int32_t, 3>;  // sequence, first position, rows
  for (const std::vector<Run>& pass : {std::vector<Run>{{0, 0, 50}, {1, 0, 31}},
                                       std::vector<Run>{{0, 50, 50}},
                                       std::vector<Run>{{1, 40, 1}, {1, 43, 1}, {1, 47, 1}, {1, 50, 2}}}) {
    std::vector<int32_t> pos, seq;
    for (const auto& [sq, first, count] : pass) {
      for (int32_t i = 0; i < count; ++i) pos.push_back(first + i), seq.push_back(sq);
    }
    const int64_t n = static_cast<int64_t>(pos.size());
    const std::vector<float> k = rows_of(n, kw, seed), v = rows_of(n, vw, seed + 1);
    seed += 2;
    for (int64_t t = 0; t < n; ++t) {
      want_k[cg.row(seq[t], pos[t])].assign(k.begin() + t * kw, k.begin() + (t + 1) * kw);
      want_v[cg.row(seq[t], pos[t])].assign(v.begin() + t * vw, v.begin() + (t + 1) * vw);
    }
    const ops::SeqRows rows{pos.data(), seq.data(), n};
    gpu.store_kv(cg, gpu.upload_f32(k.data(), kw, n), gpu.upload_f32(v.data(), vw, n), rows);
  }
  for (const auto& [t, want] : {std::pair{&cg.k, &want_k}, std::pair{&cg.v, &want_v}}) {
    const std::vector<uint8_t> got = cache_bytes(gpu, *t);
    const int64_t rb = t->row_bytes;
    ASSERT_EQ(rb, ops::kv_row_bytes(kv, t->n_cols()));
    std::vector<uint8_t> cpu(static_cast<size_t>(rb));
    for (int64_t r = 0; r < t->n_rows(); ++r) {
      const auto x = want->find(r);
      if (x != want->end()) {
        cpu_row(kv, x->second.data(), t->n_cols(), cpu.data());
      } else {
        cpu.assign(cpu.size(), kUntouched);
      }
      for (int64_t i = 0; i < rb; ++i) {
        ASSERT_EQ(got[r * rb + i], cpu[i]) << gguf::type_name(kv) << " width " << t->n_cols() << " row " << r
                                           << (x == want->end() ? " (never written)" : "") << " byte " << i;
      }
    }
  }
  ops::Tensor caches[] = {cg.k, cg.v};
  for (auto& c : caches) gpu.release(c);
}

// Q8_0 and Q4_0: rows of 1 to 7 blocks (an odd count: every other row starts half way into a
// word; an even count: every row on a word).
TEST(VulkanKvQuant, StoreKvWritesTheCpusBytes) {
  NEED_DEVICE();
  for (GgmlType kv : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    for (const auto& [kw, vw] : {std::pair{160, 32}, std::pair{64, 96}, std::pair{224, 128}}) {
      expect_cpu_bytes(*gpu, kv, kw, vw, hard_rows);
      if (HasFatalFailure()) return;
    }
  }
}

// F16: even widths (a pair of halves per word) and odd ones (a half at a time).
TEST(VulkanKvQuant, StoreKvF16WritesTheCpusBytes) {
  NEED_DEVICE();
  for (const auto& [kw, vw] : {std::pair{40, 1}, std::pair{37, 64}, std::pair{2, 3}}) {
    expect_cpu_bytes(*gpu, GgmlType::F16, kw, vw, f16_rows);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace hearth
