// Row panels (quant/packed.h): packing is lossless, and each tier's panel gemm equals the ref row
// dots of the same rows up to float summation order.

#include "quant/packed.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/type_traits.h"
#include "quant_test_util.h"

namespace hearth::quant {
namespace {

using testing::available_tiers;
using testing::random_normal;

const GgmlType kPanelTypes[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K};

// kPanelRows rows of n elements quantized by the ref quantizer, each row with its own scale of
// values (so the 16 lanes really hold different rows).
std::vector<uint8_t> random_rows(GgmlType t, int64_t n, uint32_t seed) {
  std::vector<uint8_t> rows;
  for (int r = 0; r < kPanelRows; ++r) {
    auto x = random_normal(n, 0.02f * static_cast<float>(1 + r), seed + static_cast<uint32_t>(r));
    auto q = testing::quantize(t, x);
    rows.insert(rows.end(), q.begin(), q.end());
  }
  return rows;
}

TEST(Packed, PackThenUnpackGivesTheRowsBack) {
  std::mt19937 rng(7);
  for (GgmlType t : kPanelTypes) {
    const PackedKernels* pk = packed_kernels(t, CpuTier::ref);
    ASSERT_NE(pk, nullptr) << gguf::type_name(t);
    const int64_t n = 3 * traits(t).block_elems * (traits(t).block_elems == kQK ? 8 : 1);
    const int64_t row_bytes = n / traits(t).block_elems * traits(t).block_bytes;
    // Any bytes are a valid code pattern for these formats: test every bit, not just what a
    // quantizer writes.
    std::vector<uint8_t> rows(static_cast<size_t>(row_bytes * kPanelRows));
    for (auto& b : rows) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> panel(rows.size()), back(rows.size());
    pk->pack(rows.data(), row_bytes, n, panel.data());
    EXPECT_NE(panel, rows) << gguf::type_name(t);
    pk->unpack(panel.data(), n, back.data(), row_bytes);
    EXPECT_EQ(back, rows) << gguf::type_name(t);
  }
}

TEST(Packed, OnlyTheAvx512TierHasFastPanels) {
  for (GgmlType t : kPanelTypes) {
    EXPECT_EQ(packed_kernels(t, CpuTier::avx2) == nullptr, cpu_max_tier() >= CpuTier::avx2);
    if (cpu_max_tier() >= CpuTier::avx512) {
      const PackedKernels* pk = packed_kernels(t, CpuTier::avx512);
      ASSERT_NE(pk, nullptr);
      EXPECT_STREQ(pk->isa, "avx512");
    }
  }
  EXPECT_EQ(packed_kernels(GgmlType::Q5_K, CpuTier::ref), nullptr);
}

// gemm of every tier against the ref row dots (vec_dot_ref of the unpacked rows with the same
// activation codes). The integer sums are exact in both; only the float accumulation differs: per
// block one product d_w * d_y * sum, accumulated in a different order, so the difference is a few
// float roundings of the sum of |terms| <= sum |w| |x| over the dequantized values (bound 1e-5 of it,
// with n_blocks <= 40 and float epsilon 6e-8).
TEST(Packed, GemmMatchesRefRowDots) {
  for (CpuTier tier : available_tiers()) {
    for (GgmlType t : kPanelTypes) {
      // The avx512 tier twice where the CPU has GFNI: its kernels in force and those of a CPU
      // without it.
      const PackedKernels* forms[] = {packed_kernels(t, tier),
                                      tier == CpuTier::avx512 ? packed_kernels_without_gfni(t) : nullptr};
      for (const PackedKernels* pk : forms) {
        if (pk == nullptr || (pk == forms[1] && pk->gemm == forms[0]->gemm)) continue;
        const TypeTraits& tr = traits(t, CpuTier::ref);
        for (int64_t blocks : {1, 3, 7}) {
          const int64_t n = blocks * (tr.block_elems == kQK ? 256 : tr.block_elems);
          const int64_t row_bytes = n / tr.block_elems * tr.block_bytes;
          const int64_t panel_bytes = row_bytes * kPanelRows;
          // 1-3 panels per call: kernels may take panels in pairs and must handle an odd one.
          for (int n_panels : {1, 2, 3}) {
            std::vector<std::vector<uint8_t>> rows;
            // Misaligned on purpose: panels and activations may sit anywhere.
            std::vector<uint8_t> panel_buf(static_cast<size_t>(panel_bytes * n_panels + 3));
            uint8_t* panel = panel_buf.data() + 3;
            for (int p = 0; p < n_panels; ++p) {
              rows.push_back(random_rows(t, n, static_cast<uint32_t>(blocks * 10 + p)));
              pk->pack(rows.back().data(), row_bytes, n, panel + p * panel_bytes);
            }
            const int64_t os = kPanelRows * n_panels + 3;
            for (int nc : {1, 2, 3, 4, 5, 9}) {
              const int64_t act_bytes = pk->act_row_bytes(n);
              std::vector<uint8_t> act_buf(static_cast<size_t>(act_bytes * nc + 5));
              uint8_t* act = act_buf.data() + 5;
              std::vector<std::vector<float>> xs;
              for (int c = 0; c < nc; ++c) {
                xs.push_back(random_normal(n, 1.0f, static_cast<uint32_t>(100 + c)));
                pk->quantize_act(xs.back().data(), act + c * act_bytes, n);
              }
              std::vector<float> out(static_cast<size_t>(nc * os), -1.0f);
              pk->gemm(n, panel, n_panels, act, act_bytes, nc, out.data(), os);
              std::vector<float> want(static_cast<size_t>(nc * os), -1.0f);
              packed_kernels(t, CpuTier::ref)->gemm(n, panel, n_panels, act, act_bytes, nc, want.data(), os);
              for (int c = 0; c < nc; ++c) {
                for (int p = 0; p < n_panels; ++p) {
                  for (int r = 0; r < kPanelRows; ++r) {
                    const auto& src = rows[static_cast<size_t>(p)];
                    std::vector<uint8_t> one(src.begin() + r * row_bytes, src.begin() + (r + 1) * row_bytes);
                    const auto w = testing::dequantize(t, one, n);
                    const double scale = testing::abs_dot_double(w, xs[static_cast<size_t>(c)]);
                    const int64_t at = c * os + p * kPanelRows + r;
                    EXPECT_NEAR(out[at], want[at], 1e-5 * scale + 1e-30)
                        << cpu_tier_name(tier) << (pk == forms[1] ? " without gfni " : " ") << gguf::type_name(t) << " n=" << n << " panels=" << n_panels
                        << " nc=" << nc << " c=" << c << " p=" << p << " r=" << r;
                  }
                }
                // Outside the rows of the panels nothing is written.
                for (int64_t r = kPanelRows * n_panels; r < os; ++r) EXPECT_EQ(out[c * os + r], -1.0f);
              }
            }
          }
        }
      }
    }
  }
}

// The ref panel gemm is itself checked against the plain row dot of the original rows.
TEST(Packed, RefGemmIsTheRowDot) {
  for (GgmlType t : kPanelTypes) {
    const PackedKernels* pk = packed_kernels(t, CpuTier::ref);
    const TypeTraits& tr = traits(t, CpuTier::ref);
    const int64_t n = 512;
    const int64_t row_bytes = n / tr.block_elems * tr.block_bytes;
    const auto rows = random_rows(t, n, 3);
    std::vector<uint8_t> panel(rows.size());
    pk->pack(rows.data(), row_bytes, n, panel.data());
    const auto x = random_normal(n, 1.0f, 9);
    std::vector<uint8_t> act(static_cast<size_t>(pk->act_row_bytes(n)));
    pk->quantize_act(x.data(), act.data(), n);
    const auto xq = testing::quantize(tr.vec_dot_type, x);  // the row kernels' activation bytes
    float out[kPanelRows];
    pk->gemm(n, panel.data(), 1, act.data(), 0, 1, out, 0);
    for (int r = 0; r < kPanelRows; ++r) {
      EXPECT_EQ(out[r], tr.vec_dot(n, rows.data() + r * row_bytes, xq.data())) << gguf::type_name(t) << " r=" << r;
    }
  }
}

TEST(Packed, ActQ8_0IsQ8_0PlusTheCodeSum) {
  const auto x = random_normal(96, 3.0f, 4);
  const auto q = testing::quantize(GgmlType::Q8_0, x);
  std::vector<ActQ8_0> a(3);
  packed_kernels(GgmlType::Q8_0, CpuTier::ref)->quantize_act(x.data(), a.data(), 96);
  for (int i = 0; i < 3; ++i) {
    BlockQ8_0 b;
    std::memcpy(&b, q.data() + i * sizeof(BlockQ8_0), sizeof b);
    EXPECT_EQ(a[i].d, fp16_to_f32(b.d));
    int sum = 0;
    for (int e = 0; e < kQK; ++e) {
      EXPECT_EQ(a[i].qs[e], b.qs[e]);
      sum += b.qs[e];
    }
    EXPECT_EQ(a[i].neg128_sum, -128 * sum);
  }
}

}  // namespace
}  // namespace hearth::quant
