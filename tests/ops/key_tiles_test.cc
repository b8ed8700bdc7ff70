// The "cpu" backend's F16 K caches in tiles of 16 positions (Backend::alloc_keys, attention.h
// kv_key_index): what store_kv writes there and what copy_rows moves, read back through
// attention, against "cpu-ref", which keeps rows. Rows stored out of order and across tile
// edges; prefix copies between sequences that start mid-tile on both sides; a copy onto an
// overlapping range of the same sequence (memmove's order: a forward element copy would read
// rows it has already overwritten).
//
// Tolerance: both backends hold the same F16 keys and values, so outputs differ only by the
// kernels' float rounding against the double reference (attention_test.cc: 1e-5 for contexts of
// this size).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/backend.h"
#include "random_vec.h"

namespace hearth::ops {
namespace {

using gguf::GgmlType;

struct Side {
  std::unique_ptr<Backend> be;
  KvView cache;
  Tensor q, out, k, v;
};

// Heads of 40 and 24 (no AVX-512 vector width: decode converts the tiles to floats there) or 64
// and 32 (decode reads the tiles in place on the vector tiers).
void stored_and_copied_keys_attend_as_rows(int64_t kDk, int64_t kDv) {
  constexpr int kSeqs = 3, kHeads = 6, kHeadsKv = 2;
  constexpr int64_t kCtx = 80;  // 5 tiles a sequence
  AttentionShape shape;
  shape.n_head = kHeads;
  shape.n_head_kv = kHeadsKv;
  shape.head_dim_k = kDk;
  shape.head_dim_v = kDv;
  shape.scale = 1.0f / std::sqrt(static_cast<float>(kDk));
  Side sides[2];
  const char* names[2] = {"cpu", "cpu-ref"};
  for (int i = 0; i < 2; ++i) {
    Side& s = sides[i];
    s.be = make_backend(names[i]);
    s.cache.n_ctx = kCtx;
    s.cache.k = s.be->alloc_keys(GgmlType::F16, kHeadsKv * kDk, kCtx, kSeqs);
    s.cache.v = s.be->alloc(GgmlType::F16, kHeadsKv * kDv, kCtx * kSeqs);
  }
  // Every position of every sequence, stored in one pass in a scrambled order.
  std::vector<int32_t> pos, seq;
  for (int32_t i = 0; i < kSeqs * kCtx; ++i) {
    const int32_t j = (i * 37) % (kSeqs * kCtx);
    seq.push_back(j / kCtx);
    pos.push_back(j % kCtx);
  }
  const int64_t n = static_cast<int64_t>(pos.size());
  const auto k = random_vec(n * kHeadsKv * kDk, 1), v = random_vec(n * kHeadsKv * kDv, 2);
  for (Side& s : sides) {
    s.k = s.be->upload_f32(k.data(), kHeadsKv * kDk, n);
    s.v = s.be->upload_f32(v.data(), kHeadsKv * kDv, n);
    s.be->store_kv(s.cache, s.k, s.v, SeqRows{pos.data(), seq.data(), n});
    // Sequence 1's positions 5..41 take sequence 0's 3..39 (both mid-tile, 37 rows over three
    // tile edges); sequence 2's 20..69 then move up by 7 within itself and 30..59 down by 5
    // (overlapping, both ways); sequence 0's 27..66 take sequence 2's 11..50 (alike in their
    // tiles: a partial tile, whole tiles, a partial tile).
    for (const Tensor* t : {&s.cache.k, &s.cache.v}) {
      s.be->copy_rows(*t, 0 * kCtx + 3, 1 * kCtx + 5, 37);
      s.be->copy_rows(*t, 2 * kCtx + 20, 2 * kCtx + 27, 50);
      s.be->copy_rows(*t, 2 * kCtx + 30, 2 * kCtx + 25, 30);
      s.be->copy_rows(*t, 2 * kCtx + 11, 0 * kCtx + 27, 40);
    }
  }
  // Rows attending over every sequence at several lengths (decode rows and prompt-like runs).
  std::vector<int32_t> qpos, qseq;
  for (int32_t sq = 0; sq < kSeqs; ++sq) {
    for (int32_t p : {0, 4, 15, 16, 17, 41, 42, 63, 76, 79}) {
      qseq.push_back(sq);
      qpos.push_back(p);
    }
  }
  const int64_t nq = static_cast<int64_t>(qpos.size());
  const auto q = random_vec(nq * kHeads * kDk, 3);
  // All rows in one call (a sequence's rows share tiles: its keys are converted once per block),
  // then each row alone (decode: a row's 3 queries a KV head read the tiles in place).
  for (bool alone : {false, true}) {
    std::vector<float> outs[2];
    for (int i = 0; i < 2; ++i) {
      Side& s = sides[i];
      if (alone) {
        for (int64_t r = 0; r < nq; ++r) {
          Tensor qr = s.be->upload_f32(q.data() + r * kHeads * kDk, kHeads * kDk, 1);
          Tensor o = s.be->alloc(GgmlType::F32, kHeads * kDv, 1);
          s.be->attention(shape, qr, s.cache, SeqRows{qpos.data() + r, qseq.data() + r, 1}, o);
          std::vector<float> one(static_cast<size_t>(kHeads * kDv));
          s.be->read(o, kHeads * kDv, one.data());
          outs[i].insert(outs[i].end(), one.begin(), one.end());
          s.be->release(qr);
          s.be->release(o);
        }
      } else {
        s.q = s.be->upload_f32(q.data(), kHeads * kDk, nq);
        s.out = s.be->alloc(GgmlType::F32, kHeads * kDv, nq);
        s.be->attention(shape, s.q, s.cache, SeqRows{qpos.data(), qseq.data(), nq}, s.out);
        outs[i].resize(static_cast<size_t>(nq * kHeads * kDv));
        s.be->read(s.out, nq * kHeads * kDv, outs[i].data());
      }
    }
    for (int64_t r = 0; r < nq; ++r) {
      double worst = 0.0;
      for (int64_t e = r * kHeads * kDv; e < (r + 1) * kHeads * kDv; ++e) {
        ASSERT_TRUE(std::isfinite(outs[0][e]));
        worst = std::max(worst, std::fabs(static_cast<double>(outs[0][e]) - outs[1][e]));
      }
      EXPECT_LT(worst, 1e-5) << "dk " << kDk << (alone ? " alone" : " together") << " sequence " << qseq[r]
                             << " position " << qpos[r];
    }
  }
}

TEST(KeyTiles, StoredAndCopiedKeysAttendAsRows) {
  stored_and_copied_keys_attend_as_rows(40, 24);
  stored_and_copied_keys_attend_as_rows(64, 32);
}

// A context that is no multiple of the tile keeps rows (sequences would start mid-tile): still
// the same results as cpu-ref.
TEST(KeyTiles, ContextsOfPartTilesKeepRows) {
  constexpr int64_t kCtx = 21, kD = 16;
  AttentionShape shape;
  shape.n_head = 2;
  shape.n_head_kv = 1;
  shape.head_dim_k = shape.head_dim_v = kD;
  shape.scale = 0.25f;
  std::vector<int32_t> pos, seq;
  for (int32_t s = 0; s < 2; ++s) {
    for (int32_t p = 0; p < kCtx; ++p) seq.push_back(s), pos.push_back(p);
  }
  const int64_t n = static_cast<int64_t>(pos.size());
  const auto k = random_vec(n * kD, 4), v = random_vec(n * kD, 5), q = random_vec(n * 2 * kD, 6);
  std::vector<float> outs[2];
  const char* names[2] = {"cpu", "cpu-ref"};
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<Backend> be = make_backend(names[i]);
    KvView c;
    c.n_ctx = kCtx;
    c.k = be->alloc_keys(GgmlType::F16, kD, kCtx, 2);
    c.v = be->alloc(GgmlType::F16, kD, kCtx * 2);
    const Tensor tk = be->upload_f32(k.data(), kD, n), tv = be->upload_f32(v.data(), kD, n);
    be->store_kv(c, tk, tv, SeqRows{pos.data(), seq.data(), n});
    be->copy_rows(c.k, 2, kCtx + 1, 9);
    be->copy_rows(c.v, 2, kCtx + 1, 9);
    const Tensor tq = be->upload_f32(q.data(), 2 * kD, n);
    const Tensor out = be->alloc(GgmlType::F32, 2 * kD, n);
    be->attention(shape, tq, c, SeqRows{pos.data(), seq.data(), n}, out);
    outs[i].resize(static_cast<size_t>(n * 2 * kD));
    be->read(out, n * 2 * kD, outs[i].data());
  }
  for (size_t e = 0; e < outs[0].size(); ++e) EXPECT_NEAR(outs[0][e], outs[1][e], 1e-5) << e;
}

}  // namespace
}  // namespace hearth::ops
