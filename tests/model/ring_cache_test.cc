// Sliding-window layers keep a ring of their window (model/kv_cache.h). On gemma2 and gemma3
// fixtures with a window of 16, prompts and generations far past the window (and past the ring,
// several times round) give the logits and greedy ids of the whole-context cache and of the
// double-precision reference (tiny_model.cc), for several pass sizes (1, 7, 49: the ring of
// 16 + 48 = 64 slots exactly full, 50: one more), F32, F16, Q8_0 and Q4_0 caches, the fast
// and the scalar backend, and sequences interleaved in one cache. Prompt reuse (reusable_prefix, copy_prefix)
// keeps only what the rings still hold, a pass that would read overwritten slots is refused, and
// the cache's bytes (and the scheduler's estimate of them) are the rings'.
//
// Bounds: ring and whole-context caches run the same kernels over the same positions in the same
// order (a ring only maps position p to slot p % ring), so their logits agree to float rounding
// (1e-6 relative; in practice equal). Against the reference the budgets of
// reference_forward_test.cc: 1e-4 with an F32 cache, 3e-3 with F16 (K and V rounded to 11 bits).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/model.h"
#include "tiny_model.h"
#include "util/error.h"

namespace hearth::model {
namespace {

using gguf::GgmlType;
using testing::RefModel;
using testing::RefWeights;
using testing::TinySpec;

constexpr int64_t kWindow = 16;
constexpr int64_t kCtx = 1024;

TinySpec gemma_spec(const std::string& arch) {
  TinySpec s;
  s.arch = arch;
  s.tied = true;
  s.head_dim = 32;
  s.rms_eps = 1e-6f;
  s.window = kWindow;
  s.n_ctx = kCtx;
  if (arch == "gemma2") s.attn_softcap = 1.5f, s.final_softcap = 2.0f;
  if (arch == "gemma3") s.n_layer = 7, s.rope_base = 1e6f, s.rope_scale = 4.0f;  // layer 5 global
  return s;
}

struct Fixture {
  TinySpec spec;
  RefWeights weights;
  std::vector<uint8_t> bytes;
  std::unique_ptr<Model> load(const std::string& backend = "cpu") const {
    return load_model(gguf::File::from_memory(bytes.data(), bytes.size(), spec.arch + ".gguf"),
                      {backend, "", 0});
  }
};

const Fixture& fixture(const std::string& arch) {
  static std::map<std::string, Fixture> made;
  auto it = made.find(arch);
  if (it == made.end()) {
    Fixture f;
    f.spec = gemma_spec(arch);
    f.bytes = testing::write_tiny_model(f.spec, &f.weights);
    it = made.emplace(arch, std::move(f)).first;
  }
  return it->second;
}

int32_t token_at(int i, int64_t n_vocab, int salt) {
  return static_cast<int32_t>((i * 37 + salt * 11 + 5 + (i / 7) * 3) % n_vocab);
}

int32_t argmax(const float* v, int64_t n) {
  return static_cast<int32_t>(std::max_element(v, v + n) - v);
}

// One sequence: `prompt` in passes of n_batch rows (every row's logits kept) from position
// `start`, then n_gen greedy tokens one pass each. Returns every logits row; `ids` gets the
// fed tokens (prompt, then the greedy ones).
std::vector<std::vector<float>> run(Model& m, KvCache& cache, int seq, int start,
                                    const std::vector<int32_t>& prompt, int n_batch, int n_gen,
                                    std::vector<int32_t>* ids) {
  const int64_t V = m.n_vocab();
  std::vector<std::vector<float>> rows;
  std::vector<float> logits;
  Batch b;
  int pos = start;
  for (size_t first = 0; first < prompt.size(); first += static_cast<size_t>(n_batch)) {
    b.clear();
    const size_t end = std::min(prompt.size(), first + static_cast<size_t>(n_batch));
    for (size_t i = first; i < end; ++i) b.add(prompt[i], pos++, seq, true);
    logits.resize(static_cast<size_t>(b.n_logits() * V));
    m.forward(b, cache, logits.data());
    for (int64_t r = 0; r < b.n_logits(); ++r) rows.emplace_back(logits.begin() + r * V, logits.begin() + (r + 1) * V);
  }
  *ids = prompt;
  for (int i = 0; i < n_gen; ++i) {
    const int32_t tok = argmax(rows.back().data(), V);
    ids->push_back(tok);
    b.clear();
    b.add(tok, pos++, seq, true);
    logits.resize(static_cast<size_t>(V));
    m.forward(b, cache, logits.data());
    rows.push_back(logits);
  }
  return rows;
}

std::vector<int32_t> prompt_of(int n, int64_t n_vocab, int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(token_at(i, n_vocab, salt));
  return p;
}

// The reference fed `ids`; each of its logits rows against the engine's `rows` (row i = the
// logits after ids[i]); with `same_ids`, from row n_prompt - 1 on (where the engine fed its
// argmax back), the reference's argmax is the engine's too: the same greedy ids.
void expect_reference(const Fixture& f, const std::vector<int32_t>& ids,
                      const std::vector<std::vector<float>>& rows, double bound, bool same_ids,
                      size_t n_prompt, const std::string& what) {
  RefModel ref(f.spec, f.weights, kCtx);
  ASSERT_EQ(rows.size(), ids.size());
  double worst = 0.0;
  std::vector<int32_t> want, got;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::vector<double> r = ref.step(ids[i]);
    const double e = testing::rel_error(rows[i].data(), r);
    worst = std::max(worst, e);
    ASSERT_LT(e, bound) << what << " position " << i;
    if (i + 1 >= n_prompt) {
      want.push_back(static_cast<int32_t>(std::max_element(r.begin(), r.end()) - r.begin()));
      got.push_back(argmax(rows[i].data(), static_cast<int64_t>(rows[i].size())));
    }
  }
  if (same_ids) {
    EXPECT_EQ(got, want) << what;
  }
  std::printf("[ %s ] worst relative error against the reference %.3g (bound %.3g)\n", what.c_str(),
              worst, bound);
}

double worst_difference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  double worst = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const std::vector<double> bd(b[i].begin(), b[i].end());
    worst = std::max(worst, testing::rel_error(a[i].data(), bd));
  }
  return worst;
}

struct RingCase {
  const char* arch;
  GgmlType kv;
  int n_batch;
  const char* backend;
  int64_t ring;  // the windowed layers' slots per sequence
};

class RingCache : public ::testing::TestWithParam<RingCase> {};

TEST_P(RingCache, LongRunsEqualWholeContextCacheAndReference) {
  const RingCase& c = GetParam();
  const Fixture& f = fixture(c.arch);
  std::unique_ptr<Model> m = f.load(c.backend);
  const int64_t V = m->n_vocab();
  KvCache ring = m->make_cache(kCtx, 1, c.kv, c.n_batch);
  KvCache whole = m->make_cache(kCtx, 1, c.kv);
  ASSERT_EQ(f.spec.n_layer, m->hparams().n_layer);
  for (int64_t il = 0; il < f.spec.n_layer; ++il) {
    const bool global = c.arch == std::string("gemma3") ? (il + 1) % 6 == 0 : il % 2 == 1;
    EXPECT_EQ(ring.layer(il).ring, global ? 0 : c.ring) << "layer " << il;
    EXPECT_EQ(whole.layer(il).ring, 0) << "layer " << il;
  }
  // 200 prompt positions and 100 generated: the 64- or 128-slot rings wrap several times.
  const std::vector<int32_t> prompt = prompt_of(200, V, 1);
  std::vector<int32_t> ids_ring, ids_whole;
  const auto rows_ring = run(*m, ring, 0, 0, prompt, c.n_batch, 100, &ids_ring);
  const auto rows_whole = run(*m, whole, 0, 0, prompt, c.n_batch, 100, &ids_whole);
  EXPECT_EQ(ids_ring, ids_whole);
  const double diff = worst_difference(rows_ring, rows_whole);
  EXPECT_LT(diff, 1e-6);
  std::printf("[ %s ] ring vs whole-context cache: worst relative difference %.3g\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(), diff);
  // Q8_0 caches round K and V to 8 bits per block of 32 (and the queries, kv_quant.h): ~1 %;
  // Q4_0 to 4 bits, 0.5 as in reference_forward_test.cc (there the ring-vs-whole equality above
  // is the check that matters).
  const bool f32 = c.kv == GgmlType::F32;
  const double bound = f32 ? 1e-4 : c.kv == GgmlType::F16 ? 3e-3 : c.kv == GgmlType::Q8_0 ? 5e-2 : 0.5;
  expect_reference(f, ids_ring, rows_ring, bound, f32, prompt.size(),
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

INSTANTIATE_TEST_SUITE_P(
    PassSizes, RingCache,
    ::testing::Values(RingCase{"gemma3", GgmlType::F32, 1, "cpu", 64},
                      RingCase{"gemma3", GgmlType::F32, 7, "cpu", 64},
                      RingCase{"gemma3", GgmlType::F32, 49, "cpu", 64},
                      RingCase{"gemma3", GgmlType::F32, 50, "cpu", 128},
                      RingCase{"gemma3", GgmlType::F16, 7, "cpu", 64},
                      RingCase{"gemma3", GgmlType::F16, 49, "cpu", 64},
                      RingCase{"gemma3", GgmlType::Q8_0, 49, "cpu", 64},
                      RingCase{"gemma3", GgmlType::Q4_0, 50, "cpu", 128},
                      RingCase{"gemma3", GgmlType::F32, 49, "cpu-ref", 64},
                      RingCase{"gemma2", GgmlType::F32, 1, "cpu", 64},
                      RingCase{"gemma2", GgmlType::F32, 49, "cpu", 64},
                      RingCase{"gemma2", GgmlType::F16, 50, "cpu", 128},
                      RingCase{"gemma2", GgmlType::F32, 50, "cpu-ref", 128}),
    [](const ::testing::TestParamInfo<RingCase>& i) {
      return std::string(i.param.arch) + "_" + gguf::type_name(i.param.kv) + "_batch" +
             std::to_string(i.param.n_batch) + (std::string(i.param.backend) == "cpu" ? "" : "_ref");
    });

// Three sequences in one ring cache, as the runner batches them: each pass takes up to 7 prompt
// rows of each sequence still in its prompt and one row of each generating one, the prompts of
// different lengths so prompt chunks and decode rows mix. Each sequence gets the logits the
// reference gives it alone, and those of the same schedule on a whole-context cache.
TEST(RingCacheSequences, InterleavedSequencesEachMatchTheReference) {
  const Fixture& f = fixture("gemma3");
  std::unique_ptr<Model> m = f.load();
  const int64_t V = m->n_vocab();
  const int n_batch = 7, n_seq = 3, end_pos = 180;
  std::vector<std::vector<std::vector<float>>> per_cache[2];
  std::vector<std::vector<int32_t>> fed[2];
  for (int which = 0; which < 2; ++which) {
    KvCache cache = which == 0 ? m->make_cache(kCtx, n_seq, GgmlType::F32, n_batch)
                               : m->make_cache(kCtx, n_seq, GgmlType::F32);
    std::vector<std::vector<int32_t>> prompt = {prompt_of(150, V, 2), prompt_of(90, V, 3), prompt_of(41, V, 4)};
    std::vector<std::vector<int32_t>> ids(n_seq);
    std::vector<std::vector<std::vector<float>>> rows(n_seq);
    std::vector<int> n_past(n_seq, 0);
    std::vector<float> logits;
    while (true) {
      Batch b;
      std::vector<int> row_seq;
      for (int s = n_seq - 1; s >= 0; --s) {  // slots in reverse: rows of a batch are in any order
        if (n_past[s] >= end_pos) continue;
        const bool prompting = n_past[s] < static_cast<int>(prompt[s].size());
        const int n = prompting ? std::min<int>(n_batch, static_cast<int>(prompt[s].size()) - n_past[s]) : 1;
        for (int j = 0; j < n; ++j) {
          const int pos = n_past[s] + j;
          const int32_t tok = prompting ? prompt[s][pos] : argmax(rows[s].back().data(), V);
          b.add(tok, pos, s, true);
          ids[s].push_back(tok);
          row_seq.push_back(s);
        }
        n_past[s] += n;
      }
      if (b.size() == 0) break;
      logits.resize(static_cast<size_t>(b.n_logits() * V));
      m->forward(b, cache, logits.data());
      for (size_t r = 0; r < row_seq.size(); ++r) {
        rows[row_seq[r]].emplace_back(logits.begin() + static_cast<ptrdiff_t>(r * V),
                                      logits.begin() + static_cast<ptrdiff_t>((r + 1) * V));
      }
    }
    per_cache[which] = rows;
    fed[which] = ids;
  }
  for (int s = 0; s < n_seq; ++s) {
    EXPECT_EQ(fed[0][s], fed[1][s]) << "sequence " << s;
    EXPECT_LT(worst_difference(per_cache[0][s], per_cache[1][s]), 1e-6) << "sequence " << s;
    const size_t n_prompt = s == 0 ? 150 : s == 1 ? 90 : 41;
    expect_reference(f, fed[0][s], per_cache[0][s], 1e-4, true, n_prompt, "sequence " + std::to_string(s));
  }
}

// Prompt reuse on a ring of 64 slots (window 16, passes of 8): after 200 positions a ring holds
// positions 136..199, so a sequence can go on from position m only if m - 15 >= 136.
TEST(RingCacheReuse, ReusablePrefixCopyPrefixAndRewindsKeepOnlyWhatTheRingHolds) {
  const Fixture& f = fixture("gemma3");
  std::unique_ptr<Model> m = f.load();
  const int64_t V = m->n_vocab();
  KvCache cache = m->make_cache(kCtx, 3, GgmlType::F32, 8);
  ASSERT_EQ(cache.layer(0).ring, 64);
  const std::vector<int32_t> prompt = prompt_of(200, V, 6);
  std::vector<int32_t> ids;
  run(*m, cache, 0, 0, prompt, 8, 0, &ids);
  EXPECT_EQ(cache.reusable_prefix(0, 200), 200);
  EXPECT_EQ(cache.reusable_prefix(0, 300), 200);  // only what was written
  EXPECT_EQ(cache.reusable_prefix(0, 151), 151);
  EXPECT_EQ(cache.reusable_prefix(0, 150), 0);
  EXPECT_EQ(cache.reusable_prefix(0, 0), 0);
  EXPECT_EQ(cache.reusable_prefix(1, 10), 0);  // nothing written there

  // Sequence 1 shares the first 190 positions, then goes its own way.
  cache.copy_prefix(0, 1, 190);
  EXPECT_EQ(cache.reusable_prefix(1, 190), 190);
  const std::vector<int32_t> tail1 = prompt_of(40, V, 7);
  std::vector<int32_t> got1;
  const auto rows1 = run(*m, cache, 1, 190, tail1, 8, 30, &got1);
  std::vector<int32_t> ids1(prompt.begin(), prompt.begin() + 190);
  ids1.insert(ids1.end(), got1.begin(), got1.end());
  {
    RefModel ref(f.spec, f.weights, kCtx);
    for (int i = 0; i < 190; ++i) ref.step(ids1[static_cast<size_t>(i)]);
    for (size_t i = 0; i < rows1.size(); ++i) {
      EXPECT_LT(testing::rel_error(rows1[i].data(), ref.step(got1[i])), 1e-4) << "copied, position " << 190 + i;
    }
  }
  // A prefix the ring no longer holds cannot be shared or gone on from.
  EXPECT_THROW(cache.copy_prefix(0, 2, 100), Error);
  Batch b;
  b.add(prompt[100], 100, 0, true);
  std::vector<float> logits(static_cast<size_t>(V));
  EXPECT_THROW(m->forward(b, cache, logits.data()), Error);
  b.clear();
  b.add(prompt[0], 5, 2, true);  // sequence 2 has nothing before position 5
  EXPECT_THROW(m->forward(b, cache, logits.data()), Error);
  // A pass may hold at most 64 - 16 + 1 positions of a sequence.
  b.clear();
  for (int i = 0; i < 50; ++i) b.add(prompt[static_cast<size_t>(i)], i, 2, i == 49);
  EXPECT_THROW(m->forward(b, cache, logits.data()), Error);
  b.clear();
  for (int i = 0; i < 49; ++i) b.add(prompt[static_cast<size_t>(i)], i, 2, i == 48);
  EXPECT_NO_THROW(m->forward(b, cache, logits.data()));

  // Sequence 0 rewinds to 180 (within what it holds) and goes another way.
  const std::vector<int32_t> tail0 = prompt_of(20, V, 8);
  std::vector<int32_t> got0;
  const auto rows0 = run(*m, cache, 0, 180, tail0, 8, 20, &got0);
  RefModel ref(f.spec, f.weights, kCtx);
  for (int i = 0; i < 180; ++i) ref.step(prompt[static_cast<size_t>(i)]);
  for (size_t i = 0; i < rows0.size(); ++i) {
    EXPECT_LT(testing::rel_error(rows0[i].data(), ref.step(got0[i])), 1e-4) << "rewound, position " << 180 + i;
  }
  // After the rewind, ring slots of positions 180.. hold the new tokens: the old positions
  // 200.. are gone, and the ring holds [220 - 64, 220).
  EXPECT_EQ(cache.reusable_prefix(0, 220), 220);
  EXPECT_EQ(cache.reusable_prefix(0, 170), 0);
  // Starting over from position 0 always works.
  std::vector<int32_t> again;
  const auto fresh = run(*m, cache, 0, 0, prompt_of(30, V, 9), 8, 0, &again);
  RefModel ref0(f.spec, f.weights, kCtx);
  for (size_t i = 0; i < fresh.size(); ++i) {
    EXPECT_LT(testing::rel_error(fresh[i].data(), ref0.step(again[i])), 1e-4) << "restart, position " << i;
  }
}

// The cache's bytes: the windowed layers' rings, the global layers' whole context; and the
// scheduler's and placement plan's estimate (kv_cache_bytes_by_layer) says the same.
TEST(RingCacheMemory, WindowedLayersHoldTheirRing) {
  const Fixture& f = fixture("gemma3");
  std::unique_ptr<Model> m = f.load();
  const uint64_t per_pos = 2 * (2 * 32) * 2;  // K and V, 2 KV heads of 32, F16
  for (int n_batch : {8, 49, 50, 0}) {
    KvCache cache = m->make_cache(kCtx, 2, GgmlType::F16, n_batch);
    const uint64_t ring = n_batch == 0 ? kCtx : (n_batch <= 49 ? 64 : 128);
    const uint64_t want = (6 * ring + 1 * kCtx) * 2 * per_pos;  // 6 windowed layers, 1 global
    EXPECT_EQ(cache.bytes(), want) << n_batch;
    uint64_t estimate = 0;
    for (uint64_t b : kv_cache_bytes_by_layer(m->file(), kCtx, 2, GgmlType::F16, n_batch)) estimate += b;
    EXPECT_EQ(estimate, want) << n_batch;
  }
  // A ring no smaller than the context is no ring.
  EXPECT_EQ(m->make_cache(64, 1, GgmlType::F16, 8).layer(0).ring, 0);
  EXPECT_EQ(m->make_cache(65, 1, GgmlType::F16, 8).layer(0).ring, 64);
}

// The estimate for a model of gemma3:4b's shape (34 layers, every 6th global, 4 KV heads of 256,
// window 1024; keys only, no tensors) at num_ctx 32768, the runner's num_batch 512, F16: the 29
// windowed layers hold 1024 + 511 -> 1536 slots instead of 32768.
TEST(RingCacheMemory, Gemma3_4bShapeAtContext32768) {
  gguf::Writer w;
  w.set_string("general.architecture", "gemma3");
  w.set_u32("gemma3.context_length", 131072);
  w.set_u32("gemma3.embedding_length", 2560);
  w.set_u32("gemma3.block_count", 34);
  w.set_u32("gemma3.feed_forward_length", 10240);
  w.set_u32("gemma3.attention.head_count", 8);
  w.set_u32("gemma3.attention.head_count_kv", 4);
  w.set_u32("gemma3.attention.key_length", 256);
  w.set_u32("gemma3.attention.value_length", 256);
  w.set_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_u32("gemma3.attention.sliding_window", 1024);
  w.set_f32("gemma3.rope.freq_base", 1e6f);
  const std::vector<uint8_t> bytes = w.to_bytes();
  const gguf::File file = gguf::File::from_memory(bytes.data(), bytes.size(), "gemma3-4b-shape.gguf");
  const uint64_t per_pos = 2 * 4 * 256 * 2;  // K and V, F16
  const uint64_t whole = 34 * per_pos * 32768;
  uint64_t ring = 0;
  for (uint64_t b : kv_cache_bytes_by_layer(file, 32768, 1, GgmlType::F16, 512)) ring += b;
  EXPECT_EQ(34 * kv_cache_bytes_per_layer(file, 32768, 1, GgmlType::F16), whole);
  EXPECT_EQ(ring, (5 * 32768 + 29 * 1536) * per_pos);
  std::printf("gemma3:4b shape, num_ctx 32768, f16 KV: whole context %.1f MiB, with rings %.1f MiB\n",
              static_cast<double>(whole) / (1 << 20), static_cast<double>(ring) / (1 << 20));
}

}  // namespace
}  // namespace hearth::model
