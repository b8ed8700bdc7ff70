// Attention's tiled kernel on every CPU tier this machine has, against attention_ref (double):
// head sizes 64/80/96/128 and odd ones, GQA ratios 1/2/6, F16 and F32 caches, short and long
// contexts (including the split of a lone row over a long context), misaligned pointers, several
// sequences at different positions in one batch; results bit-identical for 1, 2 and 3 threads.
//
// Tolerance: the fast path differs from the double reference by (1) float dot products of head_dim
// terms (q pre-scaled, keys exact: F16 keys are converted exactly), about sqrt(d) * 6e-8 relative
// to |q||k| scale: ~1e-6 on the scores here; (2) e^x at ~2 ulp (activation_simd.h); (3) float
// sums of up to n_kv weights <= 1 and weighted values in a different order than the reference
// (online softmax, per-block rescaling): ~sqrt(n_kv) * 6e-8 relative typically, n_kv * 6e-8 at
// worst. Outputs are convex combinations of values in [-1, 1], so an absolute bound applies:
// 1e-5 covers n_kv up to ~2000 with margin (measured max 7.3e-7, prompt rows at d = 128).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "ops/attention.h"
#include "ops/attention_kernels.h"
#include "ops/kv_quant.h"
#include "quant/type_traits.h"
#include "quant/fp16.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

constexpr double kTolerance = 1e-5;

std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = scale * (static_cast<float>(s >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f);
  }
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

std::vector<CpuTier> tiers() {
  std::vector<CpuTier> t;
  for (int i = 0; i <= static_cast<int>(cpu_max_tier()); ++i) t.push_back(static_cast<CpuTier>(i));
  return t;
}

// Restores the tier and a one-thread pool when a test ends.
struct TierGuard {
  CpuTier saved = cpu_tier();
  ~TierGuard() {
    set_cpu_tier(saved);
    global_thread_pool(1);
  }
};

// One sequence's K and V in the cache type, placed `misalign` elements past an aligned start.
struct Sequence {
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16;
  int misalign = 0;
  const void* k(GgmlType t) const {
    return t == GgmlType::F32 ? static_cast<const void*>(k32.data() + misalign) : k16.data() + misalign;
  }
  const void* v(GgmlType t) const {
    return t == GgmlType::F32 ? static_cast<const void*>(v32.data() + misalign) : v16.data() + misalign;
  }
};

Sequence make_sequence(const AttentionShape& s, int64_t n_pos, uint64_t seed, int misalign) {
  Sequence q;
  q.misalign = misalign;
  q.k32 = random_vec(n_pos * s.k_stride + misalign, seed, 2.0f);
  q.v32 = random_vec(n_pos * s.v_stride + misalign, seed + 1);
  // Round the floats through F16 so both cache types hold the same values.
  for (auto* vec : {&q.k32, &q.v32}) {
    for (float& f : *vec) f = quant::fp16_to_f32(quant::f32_to_fp16(f));
  }
  for (float f : q.k32) q.k16.push_back(quant::f32_to_fp16(f));
  for (float f : q.v32) q.v16.push_back(quant::f32_to_fp16(f));
  return q;
}

AttentionShape make_shape(int n_head, int n_head_kv, int64_t dk, int64_t dv, int pad) {
  AttentionShape s;
  s.n_head = n_head;
  s.n_head_kv = n_head_kv;
  s.head_dim_k = dk;
  s.head_dim_v = dv;
  s.k_stride = n_head_kv * dk + pad;
  s.v_stride = n_head_kv * dv + pad;
  s.scale = 1.0f / std::sqrt(static_cast<float>(dk));
  return s;
}

// A query row: which sequence and how many positions it sees.
struct RowSpec {
  int seq;
  int64_t n_kv;
  int64_t kv_start = 0;  // a sliding window's first position
};

// Runs rows over every tier and thread count; checks against the reference and thread
// invariance. q and out are placed `misalign` floats past an aligned start.
void check(const AttentionShape& shape, const std::vector<Sequence>& seqs,
           const std::vector<RowSpec>& specs, int misalign, const std::string& what,
           std::initializer_list<int> thread_counts = {1, 2, 3}) {
  TierGuard guard;
  const int64_t n = static_cast<int64_t>(specs.size());
  const int64_t qw = shape.n_head * shape.head_dim_k, ow = shape.n_head * shape.head_dim_v;
  const auto q = random_vec(n * qw + misalign, 77 + n, 2.0f);
  std::vector<float> ref(n * ow + misalign), out(n * ow + misalign);
  for (GgmlType type : {GgmlType::F16, GgmlType::F32}) {
    AttentionShape s = shape;
    s.kv_type = type;
    std::vector<AttentionRow> rows(static_cast<size_t>(n)), ref_rows(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      const Sequence& sq = seqs[specs[r].seq];
      rows[r] = {q.data() + misalign + r * qw, sq.k(type), sq.v(type), specs[r].n_kv,
                 out.data() + misalign + r * ow};
      rows[r].kv_start = specs[r].kv_start;
      ref_rows[r] = rows[r];
      ref_rows[r].out = ref.data() + misalign + r * ow;
    }
    attention_ref(s, ref_rows.data(), n);
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> first;
      for (int threads : thread_counts) {
        global_thread_pool(threads);
        std::fill(out.begin(), out.end(), NAN);
        attention(s, rows.data(), n);
        EXPECT_LT(max_abs_diff(out, ref), kTolerance)
            << what << " " << gguf::type_name(type) << " " << cpu_tier_name(tier) << " threads " << threads;
        if (first.empty()) {
          first = out;
        } else {
          EXPECT_EQ(0, std::memcmp(first.data(), out.data(), out.size() * sizeof(float)))
              << what << " " << cpu_tier_name(tier) << " differs with " << threads << " threads";
        }
      }
    }
  }
}

TEST(Attention, KernelTablePerTier) {
  EXPECT_STREQ(attention_kernels(CpuTier::ref).isa, "ref");
  if (cpu_max_tier() >= CpuTier::avx2) {
    EXPECT_STREQ(attention_kernels(CpuTier::avx2).isa, "avx2");
  }
  if (cpu_max_tier() >= CpuTier::avx512) {
    EXPECT_STREQ(attention_kernels(CpuTier::avx512).isa, "avx512");
  }
  // A tier above what the CPU has gives the highest one it has.
  EXPECT_STREQ(attention_kernels(CpuTier::avx512).isa, attention_kernels(cpu_max_tier()).isa);
}

// Decode: one row per call, over contexts from 1 key to a split long one.
TEST(Attention, DecodeRowMatchesReferenceOnEveryTier) {
  struct Heads {
    int n_head, n_head_kv;
  };
  for (int64_t d : {64, 80, 96, 128}) {
    for (Heads h : {Heads{4, 4}, Heads{4, 2}, Heads{12, 2}}) {
      const AttentionShape s = make_shape(h.n_head, h.n_head_kv, d, d, 0);
      const std::vector<Sequence> seqs = {make_sequence(s, 2100, d + h.n_head, 0)};
      // Long contexts (1000; 2100 is split into chunks) on the 1.5B model's 12/2 heads only, to
      // keep the double reference quick.
      std::vector<int64_t> n_kvs = {1, 7, 129};
      if (h.n_head == 12) n_kvs.insert(n_kvs.end(), {1000, 2100});
      for (int64_t n_kv : n_kvs) {
        check(s, seqs, {{0, n_kv}}, 0,
              "d " + std::to_string(d) + " heads " + std::to_string(h.n_head) + "/" +
                  std::to_string(h.n_head_kv) + " n_kv " + std::to_string(n_kv),
              {1, 2});
      }
    }
  }
}

// Head sizes that are no multiple of any vector width, K and V of different sizes, padded rows,
// and every pointer off its natural alignment.
TEST(Attention, OddSizesAndMisalignedPointers) {
  struct Dims {
    int64_t dk, dv;
  };
  for (Dims d : {Dims{12, 10}, Dims{19, 7}, Dims{1, 3}, Dims{33, 33}}) {
    const AttentionShape s = make_shape(6, 2, d.dk, d.dv, 3);
    const std::vector<Sequence> seqs = {make_sequence(s, 1100, d.dk * 31 + d.dv, 1)};
    for (int64_t n_kv : {1, 7, 65, 129, 1100}) {
      check(s, seqs, {{0, n_kv}}, 1,
            "dk " + std::to_string(d.dk) + " dv " + std::to_string(d.dv) + " n_kv " + std::to_string(n_kv));
    }
  }
}

// A prompt of one sequence: 40 consecutive rows (several query tiles, causal per row).
TEST(Attention, PromptRowsMatchReference) {
  for (int64_t d : {64, 128}) {
    for (int n_head_kv : {2, 6}) {
      const AttentionShape s = make_shape(12, n_head_kv, d, d, 0);
      const std::vector<Sequence> seqs = {make_sequence(s, 200, d + n_head_kv, 0)};
      std::vector<RowSpec> rows;
      for (int64_t p = 150; p < 190; ++p) rows.push_back({0, p + 1});
      check(s, seqs, rows, 0, "prompt d " + std::to_string(d) + " kv heads " + std::to_string(n_head_kv));
    }
  }
}

// Continuous batching: prompt rows of one sequence, a decode row of another, a prompt starting
// at position 0 of a third, and a long-context decode row (split), in one call.
TEST(Attention, SequencesAtDifferentPositionsInOneBatch) {
  const AttentionShape s = make_shape(12, 2, 128, 128, 0);
  const std::vector<Sequence> seqs = {make_sequence(s, 130, 1, 0), make_sequence(s, 1001, 2, 1),
                                      make_sequence(s, 3, 3, 0), make_sequence(s, 2500, 4, 0)};
  std::vector<RowSpec> rows;
  for (int64_t p = 100; p < 120; ++p) rows.push_back({0, p + 1});
  rows.push_back({1, 1001});
  for (int64_t p = 0; p < 3; ++p) rows.push_back({2, p + 1});
  rows.push_back({3, 2500});
  rows.push_back({0, 130});
  check(s, seqs, rows, 1, "mixed batch");
}

// Sliding windows (Gemma, Phi-3, gpt-oss): rows whose first visible key falls inside a block, on a
// block edge, past a whole block, in a prompt and in a split long decode row; with and without a
// logit soft-cap (scores capped at 2 here, so the cap really bends them: |scale q.k| reaches ~5).
TEST(Attention, SlidingWindowsAndSoftCapMatchReference) {
  for (float cap : {0.0f, 2.0f}) {
    AttentionShape s = make_shape(12, 2, 64, 64, 0);
    s.softcap = cap;
    const std::vector<Sequence> seqs = {make_sequence(s, 300, 21, 0), make_sequence(s, 2600, 22, 1)};
    std::vector<RowSpec> rows;
    for (int64_t p = 250; p < 270; ++p) rows.push_back({0, p + 1, p + 1 - 100});  // window 100
    rows.push_back({0, 300, 64});
    rows.push_back({0, 300, 299});   // one key
    rows.push_back({1, 2600, 1537});  // split row, window starting mid-chunk
    check(s, seqs, rows, 1, "window cap " + std::to_string(cap), {1, 2});
  }
}

// A window of one position: the output is exactly that position's V, on every tier.
TEST(Attention, WindowOfOnePositionGivesItsValue) {
  TierGuard guard;
  AttentionShape s = make_shape(4, 2, 32, 32, 0);
  s.kv_type = GgmlType::F32;
  const Sequence sq = make_sequence(s, 200, 5, 0);
  const auto q = random_vec(4 * 32, 6);
  for (CpuTier tier : tiers()) {
    set_cpu_tier(tier);
    std::vector<float> out(4 * 32), ref(4 * 32);
    AttentionRow row{q.data(), sq.k(GgmlType::F32), sq.v(GgmlType::F32), 150, out.data(), 149};
    attention(s, &row, 1);
    row.out = ref.data();
    attention_ref(s, &row, 1);
    for (int h = 0; h < 4; ++h) {
      for (int i = 0; i < 32; ++i) {
        EXPECT_EQ(out[h * 32 + i], sq.v32[149 * s.v_stride + (h / 2) * 32 + i]) << cpu_tier_name(tier);
        EXPECT_FLOAT_EQ(ref[h * 32 + i], out[h * 32 + i]);
      }
    }
  }
}

// Q8_0 and Q4_0 caches (HEARTH_KV_CACHE_TYPE): every element as quant's reference dequantizes it,
// and the tiled kernel over such a cache against the specification over the same cache, on every
// tier and thread count (same tolerance as the F16 cache: the values are exact floats either way).
TEST(Attention, QuantizedCachesMatchReference) {
  TierGuard guard;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const quant::TypeTraits& tr = quant::traits(type);
    AttentionShape s = make_shape(6, 2, 48, 64, 0);  // K rows of 96, V rows of 128: whole blocks
    s.kv_type = type;
    const int64_t n_pos = 700;
    const auto kf = random_vec(n_pos * s.k_stride, 71, 2.0f), vf = random_vec(n_pos * s.v_stride, 72);
    const int64_t kb = kv_row_bytes(type, s.k_stride), vb = kv_row_bytes(type, s.v_stride);
    std::vector<uint8_t> kq(static_cast<size_t>(n_pos * kb)), vq(static_cast<size_t>(n_pos * vb));
    for (int64_t p = 0; p < n_pos; ++p) {
      tr.from_float(kf.data() + p * s.k_stride, kq.data() + p * kb, s.k_stride);
      tr.from_float(vf.data() + p * s.v_stride, vq.data() + p * vb, s.v_stride);
    }
    std::vector<float> row(static_cast<size_t>(s.k_stride));
    for (int64_t p : {int64_t{0}, int64_t{333}}) {
      tr.to_float(kq.data() + p * kb, row.data(), s.k_stride);
      for (int64_t e = 0; e < s.k_stride; ++e) ASSERT_EQ(kv_quant_at(kq.data() + p * kb, type == GgmlType::Q8_0, e), row[e]);
    }
    const int64_t n = 5;
    const auto q = random_vec(n * 6 * 48, 73, 2.0f);
    std::vector<float> out(n * 6 * 64), ref(n * 6 * 64);
    std::vector<AttentionRow> rows(n), ref_rows(n);
    const int64_t n_kv[] = {1, 64, 333, 699, 700};
    for (int64_t r = 0; r < n; ++r) {
      rows[r] = {q.data() + r * 6 * 48, kq.data(), vq.data(), n_kv[r], out.data() + r * 6 * 64};
      ref_rows[r] = rows[r];
      ref_rows[r].out = ref.data() + r * 6 * 64;
    }
    rows[4].kv_start = ref_rows[4].kv_start = 100;
    attention_ref(s, ref_rows.data(), n);
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      for (int threads : {1, 2}) {
        global_thread_pool(threads);
        attention(s, rows.data(), n);
        EXPECT_LT(max_abs_diff(out, ref), kTolerance) << gguf::type_name(type) << " " << cpu_tier_name(tier);
      }
    }
  }
}

// One position: the output is exactly that position's V of the right KV head, on every tier.
TEST(Attention, OnePositionGivesItsValue) {
  TierGuard guard;
  const AttentionShape shape = make_shape(6, 2, 64, 64, 0);
  const Sequence sq = make_sequence(shape, 1, 9, 0);
  const auto q = random_vec(6 * 64, 10);
  for (GgmlType type : {GgmlType::F16, GgmlType::F32}) {
    AttentionShape s = shape;
    s.kv_type = type;
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> out(6 * 64);
      AttentionRow row{q.data(), sq.k(type), sq.v(type), 1, out.data()};
      attention(s, &row, 1);
      for (int h = 0; h < 6; ++h) {
        for (int i = 0; i < 64; ++i) EXPECT_EQ(out[h * 64 + i], sq.v32[(h / 3) * 64 + i]) << cpu_tier_name(tier);
      }
    }
  }
}

}  // namespace
}  // namespace hearth::ops
