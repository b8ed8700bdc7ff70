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
#include <cstdio>
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
#include "random_vec.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

constexpr double kTolerance = 1e-5;

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

// One sequence's K and V in the cache type, placed `misalign` elements past an aligned start;
// k16t is k16 in the CPU backend's tiles (AttentionShape::k_tiles), the positions of the last
// tile past the sequence NaN (a kernel reads whole tiles and must mask what it does not see).
struct Sequence {
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16, k16t;
  int misalign = 0;
  const void* k(GgmlType t, bool tiles = false) const {
    if (tiles) return k16t.data() + misalign;
    return t == GgmlType::F32 ? static_cast<const void*>(k32.data() + misalign) : k16.data() + misalign;
  }
  // Written out here rather than with kv_key_index, so that a wrong formula there shows.
  void tile_keys(int64_t stride) {
    const int64_t n_pos = static_cast<int64_t>(k16.size() - misalign) / stride;
    const int64_t n_tiles = (n_pos + 15) / 16;
    k16t.assign(static_cast<size_t>(misalign + n_tiles * 16 * stride), 0x7e00);
    for (int64_t p = 0; p < n_pos; ++p) {
      for (int64_t c = 0; c < stride; ++c) {
        k16t[misalign + (p / 16) * 16 * stride + c * 16 + p % 16] = k16[misalign + p * stride + c];
      }
    }
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
  q.tile_keys(s.k_stride);
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
// attention(s, rows, n) after the same call with other queries: the threads' reused scratch then
// holds other scores, so a kernel pass that leaves its scores unwritten gives a wrong output
// instead of the previous call's scores (often the right ones).
void attention_after_other_queries(const AttentionShape& s, const AttentionRow* rows, int64_t n) {
  const int64_t qw = s.n_head * s.head_dim_k, ow = s.n_head * s.head_dim_v;
  const auto q = random_vec(n * qw, 99, 2.0f);
  std::vector<float> out(n * ow);
  std::vector<AttentionRow> other(rows, rows + n);
  for (int64_t r = 0; r < n; ++r) {
    other[r].q = q.data() + r * qw;
    other[r].out = out.data() + r * ow;
  }
  attention(s, other.data(), n);
  attention(s, rows, n);
}

void check(const AttentionShape& shape, const std::vector<Sequence>& seqs,
           const std::vector<RowSpec>& specs, int misalign, const std::string& what,
           std::initializer_list<int> thread_counts = {1, 2, 3}) {
  TierGuard guard;
  const int64_t n = static_cast<int64_t>(specs.size());
  const int64_t qw = shape.n_head * shape.head_dim_k, ow = shape.n_head * shape.head_dim_v;
  const auto q = random_vec(n * qw + misalign, 77 + n, 2.0f);
  std::vector<float> ref(n * ow + misalign), out(n * ow + misalign);
  struct Layout {
    GgmlType type;
    bool tiles;
  };
  for (Layout lay : {Layout{GgmlType::F16, false}, Layout{GgmlType::F32, false}, Layout{GgmlType::F16, true}}) {
    const GgmlType type = lay.type;
    AttentionShape s = shape;
    s.kv_type = type;
    std::vector<AttentionRow> rows(static_cast<size_t>(n)), ref_rows(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      const Sequence& sq = seqs[specs[r].seq];
      rows[r] = {q.data() + misalign + r * qw, sq.k(type, lay.tiles), sq.v(type), specs[r].n_kv,
                 out.data() + misalign + r * ow};
      rows[r].kv_start = specs[r].kv_start;
      ref_rows[r] = rows[r];
      ref_rows[r].k = sq.k(type);  // the reference reads rows: the tiles must hold the same keys
      ref_rows[r].out = ref.data() + misalign + r * ow;
    }
    attention_ref(s, ref_rows.data(), n);
    s.k_tiles = lay.tiles;
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> first;
      for (int threads : thread_counts) {
        global_thread_pool(threads);
        std::fill(out.begin(), out.end(), NAN);
        attention_after_other_queries(s, rows.data(), n);
        EXPECT_LT(max_abs_diff(out, ref), kTolerance)
            << what << " " << gguf::type_name(type) << (lay.tiles ? " tiles " : " ") << cpu_tier_name(tier)
            << " threads " << threads;
        // max_abs_diff passes NaN over (std::max keeps its first argument against a NaN).
        EXPECT_TRUE(std::all_of(out.begin() + misalign, out.end(), [](float x) { return std::isfinite(x); }))
            << what << (lay.tiles ? " tiles " : " ") << cpu_tier_name(tier);
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

// Every count of queries per KV head a decode tile can read in place (1 to 16): the kernels take
// them in passes of a few rows plus one pass for the rest, one instantiation per count, and a
// count no case reaches is a pass no test runs.
TEST(Attention, DecodeRowOfEveryGroupSize) {
  for (int group = 1; group <= 16; ++group) {
    const AttentionShape s = make_shape(group, 1, 64, 64, 0);
    const std::vector<Sequence> seqs = {make_sequence(s, 150, 300 + group, 0)};
    check(s, seqs, {{0, 150}}, 0, "group " + std::to_string(group), {1, 2});
  }
}

// Past 8 x 512 keys a decode row's chunks grow with the context (n_kv / 8, whole blocks): a row
// over 9,000 keys (chunks of 1,152, the last one shorter) and a windowed one whose window starts
// inside a chunk.
TEST(Attention, LongDecodeRowsSplitIntoLongerChunks) {
  const AttentionShape s = make_shape(12, 2, 128, 128, 0);
  const std::vector<Sequence> seqs = {make_sequence(s, 9000, 140, 0)};
  check(s, seqs, {{0, 9000}}, 0, "n_kv 9000");
  check(s, seqs, {{0, 9000, 3001}}, 0, "n_kv 9000 from 3001");
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

// Ring caches (KvView::ring: position p at slot p % ring, AttentionShape::ring): rows of a pass
// of 100 prompt positions and a lone (split) decode row, window 1100, over a ring of 1216 slots
// holding the last 1216 positions, give bit-identical outputs to the same rows over the whole
// sequence on every tier (the kernel walks the same positions in the same order; a ring only
// moves where a block is read), and the reference's. Positions no row sees (before the earliest
// window) hold NaN in both layouts: a masked key must not leak into an output (0 x NaN).
TEST(Attention, RingCacheEqualsWholeSequence) {
  TierGuard guard;
  const int64_t n_pos = 3000, window = 1100, ring = 1216;
  static_assert(1216 % kKvRingMultiple == 0);
  struct Layout {
    GgmlType type;
    bool tiles;
  };
  for (Layout lay : {Layout{GgmlType::F16, false}, Layout{GgmlType::F32, false}, Layout{GgmlType::F16, true}}) {
    const GgmlType type = lay.type;
    AttentionShape s = make_shape(8, 2, 64, 48, 0);
    s.kv_type = type;
    s.k_tiles = lay.tiles;
    Sequence whole = make_sequence(s, n_pos, 31, 0);
    const int64_t first_seen = n_pos - 100 - window + 1;
    for (int64_t p = 0; p < first_seen; ++p) {
      for (int64_t i = 0; i < s.k_stride; ++i) whole.k32[p * s.k_stride + i] = NAN, whole.k16[p * s.k_stride + i] = 0x7e00;
      for (int64_t i = 0; i < s.v_stride; ++i) whole.v32[p * s.v_stride + i] = NAN, whole.v16[p * s.v_stride + i] = 0x7e00;
    }
    Sequence rg = whole;
    for (int64_t p = n_pos - ring; p < n_pos; ++p) {
      const int64_t slot = p % ring;
      std::copy_n(whole.k32.begin() + p * s.k_stride, s.k_stride, rg.k32.begin() + slot * s.k_stride);
      std::copy_n(whole.k16.begin() + p * s.k_stride, s.k_stride, rg.k16.begin() + slot * s.k_stride);
      std::copy_n(whole.v32.begin() + p * s.v_stride, s.v_stride, rg.v32.begin() + slot * s.v_stride);
      std::copy_n(whole.v16.begin() + p * s.v_stride, s.v_stride, rg.v16.begin() + slot * s.v_stride);
    }
    whole.tile_keys(s.k_stride);
    rg.tile_keys(s.k_stride);
    AttentionShape sr = s;
    sr.ring = ring;
    const int64_t qw = s.n_head * s.head_dim_k, ow = s.n_head * s.head_dim_v;
    // A pass of prompt rows; a lone decode row (split keys); a decode row whose window starts
    // at first_seen, inside a block, so that block's first rows are NaN (the in-place F16 read).
    const std::pair<int64_t, int64_t> cases[] = {{100, window}, {1, window}, {1, window + 99}};
    for (const auto& [n_rows, win] : cases) {
      const auto q = random_vec(n_rows * qw, 5 + n_rows + win, 2.0f);
      std::vector<float> out_whole(n_rows * ow), out_ring(n_rows * ow), ref_whole(n_rows * ow), ref_ring(n_rows * ow);
      auto rows_of = [&](const Sequence& sq, std::vector<float>& out) {
        std::vector<AttentionRow> rows(static_cast<size_t>(n_rows));
        for (int64_t r = 0; r < n_rows; ++r) {
          const int64_t pos = n_pos - n_rows + r;
          rows[r] = {q.data() + r * qw, sq.k(type, lay.tiles), sq.v(type), pos + 1, out.data() + r * ow, pos - win + 1};
        }
        return rows;
      };
      auto rw = rows_of(whole, ref_whole);
      auto rr = rows_of(rg, ref_ring);
      attention_ref(s, rw.data(), n_rows);
      attention_ref(sr, rr.data(), n_rows);
      EXPECT_EQ(ref_whole, ref_ring) << gguf::type_name(type) << " rows " << n_rows << " window " << win
                                     << (lay.tiles ? " tiles" : "");
      for (CpuTier tier : tiers()) {
        set_cpu_tier(tier);
        for (int threads : {1, 2}) {
          global_thread_pool(threads);
          auto fw = rows_of(whole, out_whole);
          auto fr = rows_of(rg, out_ring);
          attention(s, fw.data(), n_rows);
          attention(sr, fr.data(), n_rows);
          const std::string what = std::string(gguf::type_name(type)) + (lay.tiles ? " tiles" : "") + " rows " +
                                   std::to_string(n_rows) + " window " +
                                   std::to_string(win) + " " +
                                   cpu_tier_name(tier) + " threads " + std::to_string(threads);
          EXPECT_EQ(0, std::memcmp(out_whole.data(), out_ring.data(), out_ring.size() * sizeof(float))) << what;
          // max_abs_diff passes NaN over (std::max keeps its first argument against a NaN).
          EXPECT_TRUE(std::all_of(out_ring.begin(), out_ring.end(), [](float x) { return std::isfinite(x); })) << what;
          EXPECT_LT(max_abs_diff(out_ring, ref_ring), kTolerance) << what;
        }
      }
    }
  }
}

// Attention sinks (gpt-oss): a per-head logit joins every softmax's denominator. Sinks of both
// signs and one far above every score (30: the output shrinks to ~e^-25 of the values, and the
// kernels must factor the sink out rather than overflow), over prompt rows, windowed rows and a
// split long decode row, GQA 12/2 and odd head sizes 6/3.
TEST(Attention, SinksMatchReference) {
  for (int64_t d : {64, 19}) {
    AttentionShape s = make_shape(d == 64 ? 12 : 6, d == 64 ? 2 : 3, d, d, d == 64 ? 0 : 1);
    std::vector<float> sinks = random_vec(static_cast<size_t>(s.n_head), 5, 3.0f);
    sinks[1] = 30.0f;
    s.sinks = sinks.data();
    const std::vector<Sequence> seqs = {make_sequence(s, 300, 31, 0), make_sequence(s, 2600, 32, 1)};
    std::vector<RowSpec> rows;
    for (int64_t p = 0; p < 20; ++p) rows.push_back({0, p + 1});
    for (int64_t p = 250; p < 260; ++p) rows.push_back({0, p + 1, p + 1 - 128});  // window 128
    rows.push_back({1, 2600});        // split into chunks, merged with the sink
    rows.push_back({1, 2600, 1537});  // split and windowed
    check(s, seqs, rows, 1, "sinks d " + std::to_string(d), {1, 2});
  }
}

// One key and a sink: the weight of the key is e^s / (e^s + e^sink), by hand, on every tier.
TEST(Attention, SinkWeightsTheOneKeyByHand) {
  TierGuard guard;
  AttentionShape s = make_shape(1, 1, 4, 4, 0);
  s.kv_type = GgmlType::F32;
  s.scale = 1.0f;
  const float sink[1] = {0.5f};
  s.sinks = sink;
  const std::vector<float> q = {1.0f, 0.0f, 0.0f, 0.0f}, k = {2.0f, 0.0f, 0.0f, 0.0f}, v = {1.0f, -2.0f, 4.0f, 8.0f};
  const double w = std::exp(2.0) / (std::exp(2.0) + std::exp(0.5));
  for (CpuTier tier : tiers()) {
    set_cpu_tier(tier);
    std::vector<float> out(4, NAN);
    AttentionRow row{q.data(), k.data(), v.data(), 1, out.data()};
    attention(s, &row, 1);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], w * v[i], 1e-6) << cpu_tier_name(tier) << " " << i;
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
// tier and thread count. Heads of 48 are no whole number of blocks, so their keys go through
// the element-wise path (converted exactly: same tolerance as the F16 cache); heads of 64 and 32
// are converted a block at a time (Q8_0 keys of whole-block heads, where queries are quantized
// to int8, are QuantizedQueriesOverQ8Keys below).
TEST(Attention, QuantizedCachesMatchReference) {
  TierGuard guard;
  struct Dims {
    int64_t dk, dv;
  };
  for (const Dims dims : {Dims{48, 64}, Dims{64, 32}})
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const int64_t dk = dims.dk, dv = dims.dv;
    if (type == GgmlType::Q8_0 && dk % 32 == 0) continue;  // int8 queries: tested below
    const quant::TypeTraits& tr = quant::traits(type);
    AttentionShape s = make_shape(6, 2, dk, dv, 0);  // rows of 2 heads: whole blocks
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
    const auto q = random_vec(n * 6 * dk, 73, 2.0f);
    std::vector<float> out(n * 6 * dv), ref(n * 6 * dv);
    std::vector<AttentionRow> rows(n), ref_rows(n);
    const int64_t n_kv[] = {1, 64, 333, 699, 700};
    for (int64_t r = 0; r < n; ++r) {
      rows[r] = {q.data() + r * 6 * dk, kq.data(), vq.data(), n_kv[r], out.data() + r * 6 * dv};
      ref_rows[r] = rows[r];
      ref_rows[r].out = ref.data() + r * 6 * dv;
    }
    rows[4].kv_start = ref_rows[4].kv_start = 100;
    attention_ref(s, ref_rows.data(), n);
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      for (int threads : {1, 2}) {
        global_thread_pool(threads);
        attention(s, rows.data(), n);
        EXPECT_LT(max_abs_diff(out, ref), kTolerance) << gguf::type_name(type) << " " << cpu_tier_name(tier) << " dk " << dk;
      }
    }
  }
}

// The query blocks of the Q8_0 key path: codes within [-127, 127], each value within half a
// step (max|x| / 254) of its code times the scale, the largest at +-127; a block of zeros or of
// values too small for 1 / d gives d = 0 and zero codes.
TEST(Attention, QueryBlockQuantization) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    auto x = random_vec(32, seed, 0.3f);
    if (seed == 3) std::fill(x.begin(), x.end(), 0.0f);
    if (seed == 4) x = random_vec(32, seed, 1e-38f);  // 1 / d would overflow: d = 0, codes 0
    int8_t code[32];
    const float d = kv_quantize_query_block(x.data(), code);
    float amax = 0.0f;
    for (float f : x) amax = std::max(amax, std::fabs(f));
    EXPECT_EQ(d, amax >= 1e-30f ? amax / 127.0f : 0.0f);
    if (d == 0.0f) {
      for (int i = 0; i < 32; ++i) EXPECT_EQ(code[i], 0);
      continue;
    }
    for (int i = 0; i < 32; ++i) {
      EXPECT_LE(std::abs(static_cast<int>(code[i])), 127);
      EXPECT_LE(std::fabs(x[i] - d * code[i]), amax / 254.0f * (1.0f + 1e-6f)) << i;
      if (std::fabs(x[i]) == amax && amax > 0.0f) {
        EXPECT_EQ(std::abs(static_cast<int>(code[i])), 127);
      }
    }
  }
}

// Whole-block heads over a Q8_0 cache: each query is quantized once per tile to int8 blocks of
// 32 (kv_quantize_query_block) and scores are integer dot products per block (vpdpbusd on
// AVX-512, vpmaddubsw on AVX2, int32 loops on the ref tier). Shapes: the 1.5B model's 12/2 heads
// of 128 (decode rows over 1, 7, 700 and 2100 keys: the last split into chunks; prompt rows; a
// window), heads of 96 and 32 (an odd block count: the vector kernels pad to pairs of blocks),
// and DeepSeek's MLA (one KV head of 576, values = the first 512 columns of the same rows).
//
// Two checks, on every tier and thread count (results bit-identical across thread counts):
// 1. Against the specification fed the quantized queries (q' = d * code / scale, per block as the
//    kernel rounds them): what remains is float rounding as for the F16 cache (integer sums are
//    exact; the two block scales' product and the block sums round in float): kTolerance.
//    This is the check a wrong code, sign, scale or padding fails.
// 2. Against the specification with the queries as given: the added error of quantizing q.
//    Each scaled query element moves by at most half a step, e = max|q_b| / 254 in its block,
//    so a score moves by at most E = sum_b e_b sum_(i in b) |k_i| and the output, a convex
//    combination of values, by at most max|v| (e^(2E) - 1) (each weight p_j changes by a factor
//    within e^(+-2E)). That bound is computed here per test and asserted; it is loose (rounding
//    errors are random, not all of one sign: their sum is ~ sqrt(d / 12) e |k|, not d e |k|).
//    Typical here (q and k uniform in [-2, 2], d = 128): E ~ 0.1, typical score error ~5e-3,
//    output error measured below ~1e-3 (printed).
struct Q8Case {
  std::string name;
  int n_head, n_head_kv;
  int64_t dk, dv;
  bool latent;  // V = the first dv columns of K's rows (MLA)
  std::vector<RowSpec> rows;
};

TEST(Attention, QuantizedQueriesOverQ8Keys) {
  TierGuard guard;
  const quant::TypeTraits& tr = quant::traits(GgmlType::Q8_0);
  std::vector<Q8Case> cases;
  {
    Q8Case c{"12/2 heads of 128", 12, 2, 128, 128, false, {}};
    for (int64_t n_kv : {1, 7, 700, 2100}) c.rows.push_back({0, n_kv});
    for (int64_t p = 90; p < 110; ++p) c.rows.push_back({0, p + 1});  // a prompt: one tile
    c.rows.push_back({0, 2100, 1500});                                 // split row, window
    cases.push_back(c);
  }
  cases.push_back({"6/2 heads, k 96, v 64", 6, 2, 96, 64, false, {{0, 1}, {0, 65}, {0, 1300}}});
  cases.push_back({"4/4 heads of 32", 4, 4, 32, 32, false, {{0, 3}, {0, 300}}});
  // One decode row each: 4 and 5 queries per KV head leave 1 and 2 after the kernels' passes of 3
  // (AVX2) or are one pass of their own (AVX-512).
  cases.push_back({"4/1 heads of 64, one row", 4, 1, 64, 64, false, {{0, 500}}});
  cases.push_back({"5/1 heads of 64, one row", 5, 1, 64, 64, false, {{0, 77}}});
  cases.push_back({"MLA 16 heads, k 576, v 512", 16, 1, 576, 512, true, {{0, 1}, {0, 200}, {0, 1100}}});
  // One decode row for every count of queries per KV head read in place (DecodeRowOfEveryGroupSize).
  for (int group = 1; group <= 16; ++group) {
    cases.push_back({std::to_string(group) + "/1 heads of 64, one row", group, 1, 64, 64, false, {{0, 150}}});
  }
  for (const Q8Case& c : cases) {
    AttentionShape s = make_shape(c.n_head, c.n_head_kv, c.dk, c.dv, 0);
    s.kv_type = GgmlType::Q8_0;
    if (c.latent) s.v_stride = s.k_stride;
    int64_t n_pos = 0;
    for (const RowSpec& r : c.rows) n_pos = std::max(n_pos, r.n_kv);
    const auto kf = random_vec(n_pos * s.k_stride, 81 + c.dk, 2.0f);
    const auto vf = random_vec(n_pos * s.v_stride, 82 + c.dk);
    const int64_t kb = kv_row_bytes(GgmlType::Q8_0, s.k_stride), vb = kv_row_bytes(GgmlType::Q8_0, s.v_stride);
    std::vector<uint8_t> kq(static_cast<size_t>(n_pos * kb)), vq(static_cast<size_t>(n_pos * vb));
    std::vector<float> kx(kf.size()), vx(vf.size());  // the cache's values
    for (int64_t p = 0; p < n_pos; ++p) {
      tr.from_float(kf.data() + p * s.k_stride, kq.data() + p * kb, s.k_stride);
      tr.to_float(kq.data() + p * kb, kx.data() + p * s.k_stride, s.k_stride);
      tr.from_float(vf.data() + p * s.v_stride, vq.data() + p * vb, s.v_stride);
      tr.to_float(vq.data() + p * vb, vx.data() + p * s.v_stride, s.v_stride);
    }
    const void* vbase = c.latent ? static_cast<const void*>(kq.data()) : vq.data();
    const std::vector<float>& vvals = c.latent ? kx : vx;
    const int64_t n = static_cast<int64_t>(c.rows.size());
    const int64_t qw = c.n_head * c.dk, ow = c.n_head * c.dv;
    const auto q = random_vec(n * qw, 83 + c.dk, 2.0f);
    // q' as the kernel sees it: each scaled block quantized, brought back to the unscaled domain.
    std::vector<float> qq(q.size());
    kv_query_as_quantized(q.data(), static_cast<int64_t>(q.size()), s.scale, qq.data());
    std::vector<float> out(n * ow), ref_q(n * ow), ref(n * ow);
    std::vector<AttentionRow> rows(n), rows_q(n), rows_ref(n);
    for (int64_t r = 0; r < n; ++r) {
      rows[r] = {q.data() + r * qw, kq.data(), vbase, c.rows[r].n_kv, out.data() + r * ow, c.rows[r].kv_start};
      rows_ref[r] = rows[r];
      rows_ref[r].out = ref.data() + r * ow;
      rows_q[r] = rows_ref[r];
      rows_q[r].q = qq.data() + r * qw;
      rows_q[r].out = ref_q.data() + r * ow;
    }
    attention_ref(s, rows_q.data(), n);
    attention_ref(s, rows_ref.data(), n);
    // The rigorous bound of check 2: E over every row, head and visible key.
    double e_max = 0.0, v_max = 0.0;
    for (int64_t r = 0; r < n; ++r) {
      const int group = c.n_head / c.n_head_kv;
      for (int h = 0; h < c.n_head; ++h) {
        const float* qh = q.data() + r * qw + h * c.dk;
        for (int64_t p = c.rows[r].kv_start; p < c.rows[r].n_kv; ++p) {
          const float* kp = kx.data() + p * s.k_stride + (h / group) * c.dk;
          double e = 0.0;
          for (int64_t b = 0; b < c.dk; b += 32) {
            double amax = 0.0, ksum = 0.0;
            for (int i = 0; i < 32; ++i) {
              amax = std::max(amax, std::fabs(static_cast<double>(qh[b + i]) * s.scale));
              ksum += std::fabs(kp[b + i]);
            }
            e += amax / 254.0 * ksum;
          }
          e_max = std::max(e_max, e);
        }
      }
    }
    for (float f : vvals) v_max = std::max(v_max, static_cast<double>(std::fabs(f)));
    const double bound = v_max * std::expm1(2.0 * e_max) + kTolerance;
    double worst = 0.0;
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        std::fill(out.begin(), out.end(), NAN);
        attention_after_other_queries(s, rows.data(), n);
        EXPECT_LT(max_abs_diff(out, ref_q), kTolerance) << c.name << " " << cpu_tier_name(tier) << " threads " << threads;
        const double err = max_abs_diff(out, ref);
        EXPECT_LT(err, bound) << c.name << " " << cpu_tier_name(tier);
        worst = std::max(worst, err);
        if (first.empty()) {
          first = out;
        } else {
          EXPECT_EQ(0, std::memcmp(first.data(), out.data(), out.size() * sizeof(float)))
              << c.name << " " << cpu_tier_name(tier) << " differs with " << threads << " threads";
        }
      }
    }
    std::printf("%s: output error from quantizing q %.2e (bound %.2e, E %.3f); vs quantized q %.2e\n",
                c.name.c_str(), worst, bound, e_max, max_abs_diff(out, ref_q));
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
