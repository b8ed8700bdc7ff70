// Every SIMD tier this machine runs against the scalar reference: the same bytes from the
// activation quantizers, and dot products equal up to float summation order, over odd lengths and
// misaligned operands.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "quant/type_traits.h"
#include "quant_test_util.h"
#include "util/cpu_features.h"

namespace hearth::quant {
namespace {

using testing::abs_dot_double;
using testing::available_tiers;
using testing::dequantize;
using testing::quantize;
using testing::random_normal;
using G = GgmlType;

const G kWeightTypes[] = {G::F32,  G::F16,  G::BF16, G::Q4_0, G::Q4_1, G::Q5_0, G::Q5_1,
                          G::Q8_0, G::Q2_K, G::Q3_K, G::Q4_K, G::Q5_K, G::Q6_K, G::MXFP4};
const G kAllTypes[] = {G::F32,  G::F16,  G::BF16, G::Q4_0, G::Q4_1, G::Q5_0, G::Q5_1, G::Q8_0,
                       G::Q8_1, G::Q2_K, G::Q3_K, G::Q4_K, G::Q5_K, G::Q6_K, G::Q8_K, G::MXFP4};

std::vector<CpuTier> simd_tiers() {
  auto t = available_tiers();
  t.erase(t.begin());
  return t;
}

// A copy of bytes starting `offset` bytes past a 64-byte boundary.
struct Misaligned {
  std::vector<uint8_t> storage;
  uint8_t* data;
  Misaligned(const std::vector<uint8_t>& bytes, int offset) : storage(bytes.size() + 128) {
    auto base = reinterpret_cast<uintptr_t>(storage.data());
    data = storage.data() + ((64 - base % 64) % 64) + offset;
    std::memcpy(data, bytes.data(), bytes.size());
  }
};

// Lengths: one block, a few, an odd count, many; for floats also lengths with vector tails.
std::vector<int64_t> lengths(G t) {
  const int64_t be = gguf::type_geometry(t)->block_elems;
  if (be == 1) return {1, 7, 8, 33, 100, 4099};
  return {be, 3 * be, 17 * be, 64 * be};
}

TEST(QuantSimd, TiersUnderTest) {
  std::string names;
  for (CpuTier t : available_tiers()) names += std::string(cpu_tier_name(t)) + " ";
  std::printf("tiers on this machine: %s\n", names.c_str());
  SUCCEED();
}

// Quantizers are deterministic and every tier must write the ref's bytes: a model quantized on
// one machine is the same file on another.
TEST(QuantSimd, QuantizersMatchRefBytes) {
  for (CpuTier tier : simd_tiers()) {
    for (G t : kAllTypes) {
      for (int64_t n : lengths(t)) {
        for (float sigma : {1.0f, 1e-3f}) {
          auto x = random_normal(n, sigma, static_cast<uint32_t>(n) + static_cast<uint32_t>(t));
          if (n > 40) x[n / 2] = 0.5f * sigma * 127.0f;  // likely ties after scaling
          EXPECT_EQ(quantize(t, x, tier), quantize(t, x, CpuTier::ref))
              << gguf::type_name(t) << " " << cpu_tier_name(tier) << " n=" << n;
        }
      }
    }
  }
}

TEST(QuantSimd, DequantizersMatchRef) {
  for (CpuTier tier : simd_tiers()) {
    for (G t : kAllTypes) {
      for (int64_t n : lengths(t)) {
        const auto q = quantize(t, random_normal(n, 1.0f, 77), CpuTier::ref);
        for (int off = 1; off < 8; off += 3) {
          Misaligned m(q, off);
          std::vector<float> a(n), b(n);
          traits(t, tier).to_float(m.data, a.data(), n);
          traits(t, CpuTier::ref).to_float(q.data(), b.data(), n);
          ASSERT_EQ(a, b) << gguf::type_name(t) << " " << cpu_tier_name(tier) << " n=" << n;
        }
      }
    }
  }
}

// The ref's per-block integer sums are exact in every tier; only the float sum over blocks (or
// elements, for the float formats) is reordered. Worst case for s sequential float additions is
// s * 2^-24 of the sum of |terms|; a tier spreads them over >= 8 lanes, the ref over one, so
// (n / 8 + 16) * 2^-23 of sum |w * x| covers both with room for the per-block scale products.
TEST(QuantSimd, DotsMatchRef) {
  for (CpuTier tier : simd_tiers()) {
    for (G t : kWeightTypes) {
      const TypeTraits& fast = traits(t, tier);
      const TypeTraits& ref = traits(t, CpuTier::ref);
      for (int64_t n : lengths(t)) {
        const auto w = random_normal(n, 1.0f, static_cast<uint32_t>(3 * n));
        auto x = random_normal(n, 1.0f, static_cast<uint32_t>(3 * n + 1));
        const auto wq = quantize(t, w);
        const auto xq = quantize(ref.vec_dot_type, x);
        const double scale = abs_dot_double(dequantize(t, wq, n), dequantize(ref.vec_dot_type, xq, n));
        const double tol = (static_cast<double>(n) / 8 + 16) * 0x1p-23 * scale + 1e-7;
        const float want = ref.vec_dot(n, wq.data(), xq.data());
        for (int off = 0; off < 8; ++off) {
          Misaligned mw(wq, off), mx(xq, (off * 3) % 8);
          const float got = fast.vec_dot(n, mw.data, mx.data);
          ASSERT_NEAR(got, want, tol) << gguf::type_name(t) << " " << cpu_tier_name(tier) << " n=" << n
                                      << " offset " << off;
        }
      }
    }
  }
}

// Extreme codes: all-max weights against all-max activations stress the int16 pair sums of
// maddubs (saturation would show as a wrong answer).
TEST(QuantSimd, DotsAtCodeExtremes) {
  for (CpuTier tier : simd_tiers()) {
    for (G t : kWeightTypes) {
      const TypeTraits& ref = traits(t, CpuTier::ref);
      const int64_t n = 512;
      for (float sign : {1.0f, -1.0f}) {
        std::vector<float> w(n), x(n);
        for (int64_t i = 0; i < n; ++i) {
          w[i] = (i % 2 ? 1.0f : -0.97f) * sign;
          x[i] = (i % 3 ? 1.0f : 0.99f) * sign;
        }
        const auto wq = quantize(t, w);
        const auto xq = quantize(ref.vec_dot_type, x);
        const float want = ref.vec_dot(n, wq.data(), xq.data());
        const float got = traits(t, tier).vec_dot(n, wq.data(), xq.data());
        EXPECT_NEAR(got, want, 1e-4 * std::fabs(want) + 1e-4) << gguf::type_name(t) << " " << cpu_tier_name(tier);
      }
    }
  }
}

TEST(QuantSimd, TilesMatchTheirTierDot) {
  for (CpuTier tier : available_tiers()) {
    for (G t : kWeightTypes) {
      const TypeTraits& tt = traits(t, tier);
      const int64_t n = 16 * gguf::type_geometry(G::Q4_K)->block_elems;
      const int64_t wb = gguf::row_bytes(t, n), ab = gguf::row_bytes(tt.vec_dot_type, n);
      const auto wq = quantize(t, random_normal(n * kTileRows, 1.0f, 5));
      const auto xq = quantize(tt.vec_dot_type, random_normal(n * kTileCols, 1.0f, 6));
      Misaligned mw(wq, 3), mx(xq, 5);
      for (int nr = 1; nr <= kTileRows; ++nr) {
        for (int nc = 1; nc <= kTileCols; ++nc) {
          float out[kTileCols * kTileRows];
          tt.vec_dot_tile(n, mw.data, wb, nr, mx.data, ab, nc, out, kTileRows);
          for (int c = 0; c < nc; ++c) {
            for (int r = 0; r < nr; ++r) {
              const float want = tt.vec_dot(n, mw.data + r * wb, mx.data + c * ab);
              // Bit-identical: a token's result must not depend on how the prompt was batched.
              ASSERT_EQ(out[c * kTileRows + r], want)
                  << gguf::type_name(t) << " " << cpu_tier_name(tier) << " r=" << r << " c=" << c;
            }
          }
        }
      }
    }
  }
}

// Float weights have tile kernels of their own (register blocks of rows x tokens): every row
// length's path (64-wide chunks, a 16-wide tail, a scalar tail) gives the dot's bits.
TEST(QuantSimd, FloatTilesMatchTheirTierDotOnEveryLength) {
  for (CpuTier tier : available_tiers()) {
    for (G t : {G::F32, G::F16, G::BF16}) {
      const TypeTraits& tt = traits(t, tier);
      for (int64_t n : {1, 15, 16, 64, 83, 100, 768}) {
        const int64_t wb = gguf::row_bytes(t, n), ab = gguf::row_bytes(tt.vec_dot_type, n);
        const auto wq = quantize(t, random_normal(n * kTileRows, 1.0f, 7));
        const auto xq = quantize(tt.vec_dot_type, random_normal(n * kTileCols, 1.0f, 8));
        for (int nr = 1; nr <= kTileRows; ++nr) {
          for (int nc = 1; nc <= kTileCols; ++nc) {
            float out[kTileCols * kTileRows];
            tt.vec_dot_tile(n, wq.data(), wb, nr, xq.data(), ab, nc, out, kTileRows);
            for (int c = 0; c < nc; ++c) {
              for (int r = 0; r < nr; ++r) {
                ASSERT_EQ(out[c * kTileRows + r], tt.vec_dot(n, wq.data() + r * wb, xq.data() + c * ab))
                    << gguf::type_name(t) << " " << cpu_tier_name(tier) << " n=" << n;
              }
            }
          }
        }
      }
    }
  }
}

TEST(QuantSimd, DispatchFollowsTheTierInForce) {
  const CpuTier saved = cpu_tier();
  for (CpuTier tier : available_tiers()) {
    set_cpu_tier(tier);
    EXPECT_EQ(traits(G::Q4_K).vec_dot, traits(G::Q4_K, tier).vec_dot);
    EXPECT_STREQ(traits(G::Q4_K).isa, cpu_tier_name(tier));
  }
  set_cpu_tier(saved);
}

// Chunk-major order: for n = 2 * 64 + 37, value i of block b, chunk j lands at (j * 2 + b) * 16
// + i, and the 37 values after the blocks keep their places.
TEST(QuantSimd, ChunkMajorOrder) {
  const int64_t n = 2 * 64 + 37;
  std::vector<float> src(n), dst(n, -1.0f);
  for (int64_t i = 0; i < n; ++i) src[i] = static_cast<float>(i);
  to_chunk_major(src.data(), dst.data(), n);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t j = 0; j < 4; ++j) {
      for (int64_t i = 0; i < 16; ++i) ASSERT_EQ(dst[(j * 2 + b) * 16 + i], src[b * 64 + j * 16 + i]);
    }
  }
  for (int64_t i = 128; i < n; ++i) ASSERT_EQ(dst[i], src[i]);
}

// The chunked float tiles (tiers that have them) over converted, chunk-major rows give the bits of
// the tier's dot on the original rows, for every column count, row counts with every remainder of
// the 4-row register block, and every row length's path (whole blocks of 64, 16-wide chunks after
// them, a scalar tail, rows shorter than a block).
TEST(QuantSimd, ChunkedTilesMatchTheirTierDot) {
  int tested = 0;
  for (CpuTier tier : available_tiers()) {
    for (G t : {G::F32, G::F16, G::BF16}) {
      const TypeTraits& tt = traits(t, tier);
      if (tt.chunked_tile == nullptr) continue;
      ++tested;
      for (int64_t n : {1, 15, 16, 47, 64, 83, 100, 200, 768, 3072 + 48 + 5}) {
        const int64_t wb = gguf::row_bytes(t, n);
        const auto wq = quantize(t, random_normal(n * kChunkTileRows, 1.0f, 9));
        const auto x = random_normal(n * kChunkTileCols, 1.0f, 10);
        std::vector<float> wc(static_cast<size_t>(n * kChunkTileRows)), xc(x.size()), plain(static_cast<size_t>(n));
        for (int r = 0; r < kChunkTileRows; ++r) {
          tt.to_float(wq.data() + r * wb, plain.data(), n);
          to_chunk_major(plain.data(), wc.data() + r * n, n);
        }
        for (int c = 0; c < kChunkTileCols; ++c) to_chunk_major(x.data() + c * n, xc.data() + c * n, n);
        for (int nr : {1, 2, 3, 4, 5, 7, 8, 13, 31, kChunkTileRows}) {
          for (int nc = 1; nc <= kChunkTileCols; ++nc) {
            float out[kChunkTileCols * kChunkTileRows];
            tt.chunked_tile(n, wc.data(), n, nr, xc.data(), n, nc, out, kChunkTileRows);
            for (int c = 0; c < nc; ++c) {
              for (int r = 0; r < nr; ++r) {
                ASSERT_EQ(out[c * kChunkTileRows + r], tt.vec_dot(n, wq.data() + r * wb, x.data() + c * n))
                    << gguf::type_name(t) << " " << cpu_tier_name(tier) << " n=" << n << " r=" << r
                    << " c=" << c << " of " << nr << "x" << nc;
              }
            }
          }
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "no chunked float tiles on this CPU";
}

}  // namespace
}  // namespace hearth::quant
