#pragma once
// The attention tile (see attention_kernels.h) written once over a vector type S (ScalarSimd in
// activation_simd.h, Avx2, Avx512): included by the file of each tier, which instantiates
// attend_tile<S>. Everything here is in an unnamed namespace (and functions `static`), so each
// tier's copy keeps its own symbols, its structs' members included.
//
// Per block of kAttnKeyBlock keys:
//   K, V rows of the block -> float scratch (F16 converted once, rows padded with zeros to a
//   whole number of vectors so no kernel has a tail);
//   S[m][j] = (scale q_m) . k_j for every query m of the tile, in register tiles of
//   kScoreRows queries x 4 keys (dot products along the head dimension, reduced 4 at a time);
//   per query: mask keys outside [kv_start, n_kv) (soft-cap the rest when asked), new max, P = exp(S - max), sum, rescale its output;
//   O[m] += sum_j P[m][j] v_j in register tiles of kAccRows queries x kAccVecs vectors.
// Q8_0 keys whose head starts and ends on block edges (head_dim_k a multiple of 32) are not
// converted: each query is quantized once per tile to int8 blocks of 32 (kv_quantize_query_block: scale
// max|x|/127 per block, kept in float) and scores are integer dot products per block scaled by
// the two block scales (the tier's Q8 kernels: Q8 = AttnQ8Scalar here, AVX2 and AVX-512 VNNI
// versions in the tier files; AVX-512 decode transposes blocks of 16 keys so that each score has a
// lane of its own). Q8_0 values are converted by Q8::dequant32, Q4_0 keys and values by
// Q8::dequant32_q4_0, a block at a time (Q8 holds the tier's quantized-cache kernels).
// Decode tiles (at most kAttnHalfRowsQueries queries per KV head) read F16 keys and values and
// Q8_0 values in place instead (HalfRows, Q8Rows): the first block's rows touched, each next
// block's asked for while this one is computed (AttnPrefetch).
// F16 keys in tiles of 16 positions (AttentionShape::k_tiles, the CPU backend's caches) are scored
// a key per lane (attn_scores_tiles: HalfTiles in place for decode, FloatTiles converted once per
// block for prompts), with no horizontal sums.
// Every output element is computed by one tile in a fixed order, whatever the thread count.
// No allocation here (the caller passes the scratch), and no std:: container: a template
// instantiated in a tier's file could be shared with baseline callers by the linker.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ops/attention_kernels.h"
#include "ops/attention_prefetch.h"
#include "ops/kv_quant.h"

namespace hearth::ops {
// Internal to each file that includes this: the tier files compile it with their ISA's flags,
// and an inline function or member with external linkage would be one copy for all of them, the
// linker's pick (it picked the baseline one so far; an AVX-512 one would fault on other CPUs).
namespace {

static inline int64_t attn_round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The most queries per KV head for which an F16 cache is read in place (HalfRows).
static constexpr int64_t kAttnHalfRowsQueries = 16;

// Rows [first, first + n) of one KV head as floats, each padded with zeros to dpad.
template <class S, class Q8>
static void attn_load_rows(const void* base, gguf::GgmlType type, int64_t stride, int64_t offset,
                           int64_t first, int64_t n, int64_t d, int64_t dpad, float* dst) {
  const int64_t row_bytes = kv_row_bytes(type, stride);
  const bool whole_blocks = offset % 32 == 0 && d % 32 == 0;
  const bool q8_blocks = type == gguf::GgmlType::Q8_0 && whole_blocks;
  const bool q4_blocks = type == gguf::GgmlType::Q4_0 && whole_blocks;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t e = (first + j) * stride + offset;
    float* o = dst + j * dpad;
    if (type == gguf::GgmlType::F16) {
      S::f16_to_f32(static_cast<const uint16_t*>(base) + e, d, o);
    } else if (type == gguf::GgmlType::F32) {
      std::memcpy(o, static_cast<const float*>(base) + e, static_cast<size_t>(d) * sizeof(float));
    } else if (q8_blocks) {
      const uint8_t* blk = static_cast<const uint8_t*>(base) + (first + j) * row_bytes + offset / 32 * 34;
      for (int64_t b = 0; b < d / 32; ++b) Q8::dequant32(blk + b * 34, o + b * 32);
    } else if (q4_blocks) {
      const uint8_t* blk = static_cast<const uint8_t*>(base) + (first + j) * row_bytes + offset / 32 * 18;
      for (int64_t b = 0; b < d / 32; ++b) Q8::dequant32_q4_0(blk + b * 18, o + b * 32);
    } else {
      const uint8_t* row = static_cast<const uint8_t*>(base) + (first + j) * row_bytes;
      kv_quant_row(row, type == gguf::GgmlType::Q8_0, offset, d, o);
    }
    for (int64_t i = d; i < dpad; ++i) o[i] = 0.0f;
  }
}

// Key or value rows as the tile kernels read them: floats converted into scratch once per block
// (FloatRows), or an F16 cache's own rows, converted in registers where they are used (HalfRows:
// heads of whole vectors, so no padding is needed). S::load reads either element type.
struct FloatRows {
  const float* p;
  int64_t stride;
  const float* row(int64_t j) const { return p + j * stride; }
};
struct HalfRows {
  const uint16_t* p;
  int64_t stride;
  int64_t n;              // rows [n, ...) read as `zero` (keys past the block's end)
  const uint16_t* zero;
  AttnPrefetch* pf = nullptr;
  const uint16_t* row(int64_t j) const { return j < n ? p + j * stride : zero; }
};

// A Q8_0 cache's value rows read in place: per 32 elements a 2-byte scale and 32 codes, the scale
// converted where it lies (the Q8Rows attn_accumulate_tile: once per block, multiplied into the
// codes as Q8::dequant32 does, or into the weights where a tile has fewer rows than a block has
// vectors). Gathering a block of keys' scales into a float
// array first took 12 % of ops_attention decode_ctx4096_q8_0 (perf, 1 thread), mostly stores of 2
// bytes read back as vectors. With that pass gone (d4399d5, which also quantized the queries a
// vector at a time and scored a KV head's queries in one pass) the benchmark went from 235 to
// 201 µs.
struct Q8Rows {
  const uint8_t* p;  // row 0's first block of the head
  int64_t row_bytes;
  AttnPrefetch* pf = nullptr;
};

// Vector `d / lanes` of row j, as floats.
template <class S>
static inline typename S::V attn_load(const FloatRows& r, int64_t j, int64_t d) { return S::load(r.row(j) + d); }
template <class S>
static inline typename S::V attn_load(const HalfRows& r, int64_t j, int64_t d) { return S::load(r.row(j) + d); }
template <class S>
static inline typename S::V attn_load(const Q8Rows& r, int64_t j, int64_t d) {
  const uint8_t* blk = r.p + j * r.row_bytes + d / 32 * 34;
  return S::mul(S::set1_f16(blk), S::load(reinterpret_cast<const int8_t*>(blk + 2 + d % 32)));
}

// The scales of blocks [0, nblk) of Q8_0 rows [0, n) (row_bytes apart, from `first`) as floats:
// out[j * out_stride + b]. Gathered first, so the conversion runs a vector at a time. Prompt
// tiles use it for their keys (their many queries share the floats); decode tiles convert scales
// where they lie (Q8Rows).
template <class S>
static void attn_block_scales(const uint8_t* first, int64_t row_bytes, int64_t n, int64_t nblk, float* out,
                              int64_t out_stride) {
  constexpr int64_t kMax = 512;
  uint16_t h[kMax];
  if (nblk > kMax) {
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t b = 0; b < nblk; ++b) {
        std::memcpy(h, first + j * row_bytes + b * 34, 2);
        S::f16_to_f32(h, 1, out + j * out_stride + b);
      }
    }
    return;
  }
  const int64_t per = kMax / nblk;
  for (int64_t j0 = 0; j0 < n; j0 += per) {
    const int64_t nr = std::min(per, n - j0);
    for (int64_t j = 0; j < nr; ++j) {
      for (int64_t b = 0; b < nblk; ++b) std::memcpy(h + j * nblk + b, first + (j0 + j) * row_bytes + b * 34, 2);
    }
    if (out_stride == nblk) {
      S::f16_to_f32(h, nr * nblk, out + j0 * out_stride);
    } else {
      for (int64_t j = 0; j < nr; ++j) S::f16_to_f32(h + j * nblk, nblk, out + (j0 + j) * out_stride);
    }
  }
}

static inline void attn_prefetch_step(const FloatRows&, int64_t) {}
template <class Rows>
static inline void attn_prefetch_step(const Rows& r, int64_t work) {
  if (r.pf != nullptr) r.pf->step(work);
}

// s[r][j..j+4) = q_r . k_{j..j+4} for MR query rows and nk4 (a multiple of 4) keys.
template <class S, int MR, class Rows>
static void attn_scores_rows(const float* q, int64_t dpad, const Rows& k, int64_t nk4, float* s,
                             int64_t s_stride) {
  using V = typename S::V;
  for (int64_t j = 0; j < nk4; j += 4) {
    V acc[MR][4];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) acc[r][c] = S::zero();
    }
    attn_prefetch_step(k, MR * 4 * dpad);
    decltype(k.row(0)) kj[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) kj[c] = k.row(j + c);
    for (int64_t d = 0; d < dpad; d += S::kLanes) {
      V kv[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) kv[c] = S::load(kj[c] + d);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const V qv = S::load(q + r * dpad + d);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[r][c] = S::fma(qv, kv[c], acc[r][c]);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) S::hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], s + r * s_stride + j);
  }
}

// The last `rest` (< kScoreRows) rows: one instantiation per count.
template <class S, int R, class Rows>
static void attn_scores_rest(int rest, const float* q, int64_t dpad, const Rows& k, int64_t nk4,
                             float* s, int64_t s_stride) {
  if constexpr (R >= 1) {
    if (rest == R) return attn_scores_rows<S, R>(q, dpad, k, nk4, s, s_stride);
    attn_scores_rest<S, R - 1>(rest, q, dpad, k, nk4, s, s_stride);
  }
}

template <class S, class Rows>
static void attn_scores(const float* q, int64_t n_q, int64_t dpad, const Rows& k, int64_t nk4,
                        float* s, int64_t s_stride) {
  constexpr int R = S::kScoreRows;
  int64_t m = 0;
  for (; m + R <= n_q; m += R) {
    attn_scores_rows<S, R>(q + m * dpad, dpad, k, nk4, s + m * s_stride, s_stride);
  }
  attn_scores_rest<S, R - 1>(static_cast<int>(n_q - m), q + m * dpad, dpad, k, nk4,
                             s + m * s_stride, s_stride);
}

// Keys in tiles (AttentionShape::k_tiles): p is the block's first tile at the head's columns, so
// column d of tile t is the kKvKeyTile keys' values at p + t * tile_stride + d * kKvKeyTile. The
// F16 cache's own tiles (decode: converted in registers where they are used), or floats
// converted into scratch once per block (prompt tiles, whose many queries share them).
struct HalfTiles {
  const uint16_t* p;
  int64_t tile_stride;
  AttnPrefetch* pf = nullptr;
};
struct FloatTiles {
  const float* p;
  int64_t tile_stride;
};
static inline void attn_prefetch_step(const FloatTiles&, int64_t) {}

// s[r][16 t + i] = q_r . key i of tile t, for MR query rows and tiles [t0, t0 + NT): per column
// d, each tile's keys are kKvKeyTile / lanes vectors (a key per lane) multiplied by q_r[d]
// broadcast. Each score is its own lane's sum, so no horizontal sums: over row-major keys those
// took ~17 vector operations a key for 6 queries, beside its 48 multiply-adds (bench/RESULTS.md).
template <class S, int MR, int NT, class Tiles>
static void attn_scores_tile_rows(const float* q, int64_t q_stride, const Tiles& k, int64_t dk, int64_t t0,
                                  float* s, int64_t s_stride) {
  using V = typename S::V;
  constexpr int64_t L = S::kLanes;
  constexpr int NV = static_cast<int>(kKvKeyTile / L);
  V acc[MR][NT * NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NT * NV; ++c) acc[r][c] = S::zero();
  }
  const auto* base = k.p + t0 * k.tile_stride;
  for (int64_t d0 = 0; d0 < dk; d0 += 16) {
    const int64_t d1 = std::min<int64_t>(d0 + 16, dk);
    attn_prefetch_step(k, MR * NT * kKvKeyTile * (d1 - d0));
    for (int64_t d = d0; d < d1; ++d) {
      V kv[NT * NV];
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
#pragma GCC unroll 16
        for (int c = 0; c < NV; ++c) kv[t * NV + c] = S::load(base + t * k.tile_stride + d * kKvKeyTile + c * L);
      }
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const V qb = S::set1(q[r * q_stride + d]);
#pragma GCC unroll 16
        for (int c = 0; c < NT * NV; ++c) acc[r][c] = S::fma(qb, kv[c], acc[r][c]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NT * NV; ++c) S::store(s + r * s_stride + t0 * kKvKeyTile + c * L, acc[r][c]);
  }
}

// Tiles [0, n_tiles) for MR rows: the tier's kTileScoreTiles at a time (AVX-512: a whole block,
// 6 rows x 4 tiles of accumulators), the rest one tile at a time.
template <class S, int MR, class Tiles>
static void attn_scores_tile_pass(const float* q, int64_t q_stride, const Tiles& k, int64_t dk, int64_t n_tiles,
                                  float* s, int64_t s_stride) {
  constexpr int NT = S::kTileScoreTiles;
  int64_t t = 0;
  for (; t + NT <= n_tiles; t += NT) attn_scores_tile_rows<S, MR, NT>(q, q_stride, k, dk, t, s, s_stride);
  for (; t < n_tiles; ++t) attn_scores_tile_rows<S, MR, 1>(q, q_stride, k, dk, t, s, s_stride);
}

template <class S, int R, class Tiles>
static void attn_scores_tiles_rest(int rest, const float* q, int64_t q_stride, const Tiles& k, int64_t dk,
                                   int64_t n_tiles, float* s, int64_t s_stride) {
  if constexpr (R >= 1) {
    if (rest == R) return attn_scores_tile_pass<S, R>(q, q_stride, k, dk, n_tiles, s, s_stride);
    attn_scores_tiles_rest<S, R - 1>(rest, q, q_stride, k, dk, n_tiles, s, s_stride);
  }
}

// Scores of n_q queries (q_stride apart) over n_tiles tiles of keys: s[m][j] for j < 16 n_tiles
// (keys past the block's end get scores of whatever their lanes hold; the caller masks them).
template <class S, class Tiles>
static void attn_scores_tiles(const float* q, int64_t n_q, int64_t q_stride, const Tiles& k, int64_t dk,
                              int64_t n_tiles, float* s, int64_t s_stride) {
  constexpr int R = S::kTileScoreRows;
  int64_t m = 0;
  for (; m + R <= n_q; m += R) {
    attn_scores_tile_pass<S, R>(q + m * q_stride, q_stride, k, dk, n_tiles, s + m * s_stride, s_stride);
  }
  attn_scores_tiles_rest<S, R - 1>(static_cast<int>(n_q - m), q + m * q_stride, q_stride, k, dk, n_tiles,
                                   s + m * s_stride, s_stride);
}

// o[r][d0 .. d0 + NV * lanes) += sum_j p[r][j] v_j[same dims], for MR rows, a vector at a time.
template <class S, int MR, int NV, class Rows>
static void attn_accumulate_vectors(const float* p, int64_t p_stride, int64_t nk, const Rows& v,
                                    int64_t dvpad, float* o, int64_t d0) {
  using V = typename S::V;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) acc[r][c] = S::load(o + r * dvpad + d0 + c * S::kLanes);
  }
  for (int64_t j = 0; j < nk; ++j) {
    V pr[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) pr[r] = S::set1(p[r * p_stride + j]);
    attn_prefetch_step(v, MR * NV * S::kLanes);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const V vv = attn_load<S>(v, j, d0 + c * S::kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) acc[r][c] = S::fma(pr[r], vv, acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) S::store(o + r * dvpad + d0 + c * S::kLanes, acc[r][c]);
  }
}

template <class S, int MR, int NV, class Rows>
static void attn_accumulate_tile(const float* p, int64_t p_stride, int64_t nk, const Rows& v, int64_t dvpad,
                                 float* o, int64_t d0) {
  attn_accumulate_vectors<S, MR, NV>(p, p_stride, nk, v, dvpad, o, d0);
}

// Q8_0 values read in place (Q8Rows), a block (32 elements) at a time: the row's address once
// per key and the block's scale once per block. Where a block spans more vectors than the tile
// has rows (AVX2: 4 vectors of 8, 3 rows), the scale is folded into each row's weight (p x d, MR
// products) instead of into each vector of codes (32 / lanes products). The generic tile (one
// attn_load per vector) converted the scale once per vector and recomputed the row's address;
// on AVX2 it also spilled an accumulator, the scale and the scaled vector being live beside 12
// accumulators and 3 weights: a store-to-load chain per key (38 % of
// `decode_ctx16384_q8_0/avx2` samples on one FMA).
template <class S, int MR, int NV>
static void attn_accumulate_tile(const float* p, int64_t p_stride, int64_t nk, const Q8Rows& v,
                                 int64_t dvpad, float* o, int64_t d0) {
  using V = typename S::V;
  constexpr int64_t L = S::kLanes;
  if constexpr ((NV * L) % 32 != 0) {  // chunks of part of a block (the ref tier): per vector
    attn_accumulate_vectors<S, MR, NV>(p, p_stride, nk, v, dvpad, o, d0);
  } else {
    constexpr int kVecsPerBlock = static_cast<int>(32 / L);
    constexpr int kBlocks = static_cast<int>(NV * L / 32);
    constexpr bool kScaleWeights = MR < kVecsPerBlock;
    V acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = S::load(o + r * dvpad + d0 + c * L);
    }
    for (int64_t j = 0; j < nk; ++j) {
      attn_prefetch_step(v, MR * NV * L);
      const uint8_t* row = v.p + j * v.row_bytes + d0 / 32 * 34;
      V pr[MR];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) pr[r] = S::set1(p[r * p_stride + j]);
#pragma GCC unroll 4
      for (int b = 0; b < kBlocks; ++b) {
        const uint8_t* blk = row + b * 34;
        const V d = S::set1_f16(blk);
        V w[MR];
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) w[r] = kScaleWeights ? S::mul(pr[r], d) : pr[r];
#pragma GCC unroll 16
        for (int c = 0; c < kVecsPerBlock; ++c) {
          V x = S::load(reinterpret_cast<const int8_t*>(blk + 2 + c * L));
          if constexpr (!kScaleWeights) x = S::mul(d, x);
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) acc[r][b * kVecsPerBlock + c] = S::fma(w[r], x, acc[r][b * kVecsPerBlock + c]);
        }
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) S::store(o + r * dvpad + d0 + c * L, acc[r][c]);
    }
  }
}

// Chunks of up to kAccVecs vectors along the head dimension for MR rows.
template <class S, int MR, class Rows, int NV = S::kAccVecs>
static void attn_accumulate_rows(const float* p, int64_t p_stride, int64_t nk, const Rows& v,
                                 int64_t dvpad, float* o, int64_t d0, int64_t nvec) {
  if constexpr (NV >= 1) {
    for (; nvec >= NV; nvec -= NV, d0 += NV * S::kLanes) {
      attn_accumulate_tile<S, MR, NV>(p, p_stride, nk, v, dvpad, o, d0);
    }
    if constexpr (NV > 1) {
      if (nvec > 0) attn_accumulate_rows<S, MR, Rows, NV - 1>(p, p_stride, nk, v, dvpad, o, d0, nvec);
    }
  }
}

// The last `rest` (< kAccRows) rows: one instantiation per count.
template <class S, int R, class Rows>
static void attn_accumulate_rest(int rest, const float* p, int64_t p_stride, int64_t nk,
                                 const Rows& v, int64_t dvpad, float* o, int64_t nvec) {
  if constexpr (R >= 1) {
    if (rest == R) return attn_accumulate_rows<S, R>(p, p_stride, nk, v, dvpad, o, 0, nvec);
    attn_accumulate_rest<S, R - 1>(rest, p, p_stride, nk, v, dvpad, o, nvec);
  }
}

template <class S, class Rows>
static void attn_accumulate(const float* p, int64_t p_stride, int64_t n_q, int64_t nk,
                            const Rows& v, int64_t dvpad, float* o) {
  constexpr int R = S::kAccRows;
  const int64_t nvec = dvpad / S::kLanes;
  int64_t m = 0;
  for (; m + R <= n_q; m += R) {
    attn_accumulate_rows<S, R>(p + m * p_stride, p_stride, nk, v, dvpad, o + m * dvpad, 0, nvec);
  }
  attn_accumulate_rest<S, R - 1>(static_cast<int>(n_q - m), p + m * p_stride, p_stride, nk, v,
                                 dvpad, o + m * dvpad, nvec);
}

// Q8_0 keys read as int8 (see the top of this file). One tile's quantized queries and one block
// of keys, as the tier's Q8::scores reads them: blocks of a query padded to an even count
// (nblk2) with zero codes, scale and correction, so a 64-byte vector always holds two blocks.
struct AttnQ8Block {
  const int8_t* qi = nullptr;     // [n_q][nblk2 * 32] codes
  const float* dq8 = nullptr;     // [n_q][nblk2 * 8]: each block's scale 8 times (0 for padding)
  const int32_t* corr8 = nullptr; // [n_q][nblk2 * 8]: -128 x the block's code sum, then 7 zeros
  int64_t n_q = 0, nblk = 0, nblk2 = 0;
  const uint8_t* k = nullptr;     // first key of the block, at its head's first Q8_0 block
  int64_t row_bytes = 0;          // bytes between key positions
  int64_t nk = 0, nk4 = 0;        // keys in the block, rounded up to 4 (rows past nk: zero_row)
  const uint8_t* zero_row = nullptr;  // nblk2 zero blocks (34 bytes each)
  // [nk4][nblk2] keys' block scales (0 past nk and nblk), converted once per block by prompt
  // tiles, whose many queries share them; null for decode tiles, whose kernels convert each
  // scale where it lies in the row (see Q8Rows).
  const float* kd = nullptr;
  AttnPrefetch* pf = nullptr;     // told the work done, per 4 keys (see AttnPrefetch)
  float* s = nullptr;             // scores [n_q][s_stride]: s[m][j] for j < nk4
  int64_t s_stride = 0;
  const uint8_t* key(int64_t j) const { return j < nk ? k + j * row_bytes : zero_row; }
  float key_scale(int64_t j, int64_t b) const {
    if (kd != nullptr) return kd[j * nblk2 + b];
    uint16_t h;
    std::memcpy(&h, key(j) + b * 34, sizeof(h));
    return quant::fp16_to_f32(h);
  }
};

// The ISA-free kernels (ref tier): integer sums per block in int32, scaled in float.
struct AttnQ8Scalar {
  static float quantize_query_block(const float* x, int8_t* q) { return kv_quantize_query_block(x, q); }
  static void dequant32(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const float d = quant::fp16_to_f32(h);
    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
    for (int i = 0; i < 32; ++i) out[i] = d * static_cast<float>(q[i]);
  }
  // Q4_0: low nibbles are elements 0-15, high nibbles 16-31, each minus 8.
  static void dequant32_q4_0(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const float d = quant::fp16_to_f32(h);
    for (int i = 0; i < 16; ++i) {
      out[i] = d * static_cast<float>((blk[2 + i] & 15) - 8);
      out[i + 16] = d * static_cast<float>((blk[2 + i] >> 4) - 8);
    }
  }
  static void scores(const AttnQ8Block& a) {
    for (int64_t m = 0; m < a.n_q; ++m) {
      const int8_t* qm = a.qi + m * a.nblk2 * 32;
      const float* dqm = a.dq8 + m * a.nblk2 * 8;
      for (int64_t j = 0; j < a.nk4; ++j) {
        const uint8_t* row = a.key(j);
        float acc = 0.0f;
        for (int64_t b = 0; b < a.nblk; ++b) {
          const int8_t* kq = reinterpret_cast<const int8_t*>(row + b * 34 + 2);
          int32_t sum = 0;
          for (int i = 0; i < 32; ++i) sum += static_cast<int32_t>(qm[b * 32 + i]) * kq[i];
          acc += static_cast<float>(sum) * (dqm[b * 8] * a.key_scale(j, b));
        }
        a.s[m * a.s_stride + j] = acc;
        if (a.pf != nullptr) a.pf->step(a.nblk * 32);
      }
    }
  }
};

template <class S, class Q8 = AttnQ8Scalar>
static void attend_tile(const AttentionTile& t) {
  using V = typename S::V;
  constexpr int64_t L = S::kLanes;
  constexpr int64_t kB = kAttnKeyBlock;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const AttentionShape& sh = *t.shape;
  const int group = sh.n_head / sh.n_head_kv;
  // Queries m = (h * t.n_q + row) * group + g: each KV head's are contiguous (nqh of them).
  const int64_t nqh = static_cast<int64_t>(t.n_q) * group;
  const int64_t n_q = nqh * t.n_kv_heads;
  const int64_t dk = sh.head_dim_k, dv = sh.head_dim_v;
  const int64_t dkp = attn_round_up(dk, L), dvp = attn_round_up(dv, L);

  // Scratch (attention_scratch_floats): Q [n_q, dkp], K [kB, dkp], V [kB, dvp], S/P [n_q, kB],
  // O [n_q, dvp], max, sum.
  float* q = t.scratch;
  float* kbuf = q + n_q * dkp;
  float* vbuf = kbuf + kB * dkp;
  float* s = vbuf + kB * dvp;
  float* o = s + n_q * kB;
  float* mx = o + n_q * dvp;
  float* sum = mx + n_q;
  // Q8_0 keys: codes, scales and corrections of the queries, the block's key scales and a zero
  // row (attention_scratch_floats counts them), from the next 64-byte boundary.
  const bool q8_keys = sh.kv_type == gguf::GgmlType::Q8_0 && dk % 32 == 0;
  AttnQ8Block qb;
  int8_t* qi = nullptr;
  float *dq8 = nullptr, *kd = nullptr;
  int32_t* corr8 = nullptr;
  if (q8_keys) {
    qb.n_q = nqh;
    qb.nblk = dk / 32;
    qb.nblk2 = (qb.nblk + 1) / 2 * 2;
    float* base = sum + n_q;
    base += (16 - (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16) % 16;
    qi = reinterpret_cast<int8_t*>(base);
    dq8 = base + n_q * qb.nblk2 * 8;
    corr8 = reinterpret_cast<int32_t*>(dq8 + n_q * qb.nblk2 * 8);
    kd = reinterpret_cast<float*>(corr8 + n_q * qb.nblk2 * 8);
    uint8_t* zero_row = reinterpret_cast<uint8_t*>(kd + kB * qb.nblk2);
    std::memset(zero_row, 0, static_cast<size_t>(qb.nblk2 * 34));
    std::fill(kd, kd + kB * qb.nblk2, 0.0f);
    qb.zero_row = zero_row;  // the per-head fields (qi, dq8, corr8, kd, s, k) are set per block below
    qb.row_bytes = kv_row_bytes(sh.kv_type, sh.k_stride);
    qb.s_stride = kB;
  }
  // Decode (a few queries per KV head) reads F16 caches with heads of whole vectors in place
  // (HalfRows), the first block touched and the rest prefetched (AttnPrefetch); keys past a block's end read a zero row,
  // kept in the key scratch they leave unused. Prompt tiles, whose many queries would convert each
  // row once per pass, convert into scratch once. ops_attention (hearth_bench, 1 / 2 threads,
  // alternated twice): decode_ctx16384_cold 6.4 / 11.4-12.2 -> 7.5 / 14.0-14.4 GB/s, decode_ctx4096
  // (from cache) 9.5 / 15.8-17.5 -> 10.4 / 23.4-23.9.
  const bool half_rows = sh.kv_type == gguf::GgmlType::F16 && dk % L == 0 && dv % L == 0 && nqh <= kAttnHalfRowsQueries;
  const uint16_t* half_zero = reinterpret_cast<const uint16_t*>(kbuf);
  // Decode reads Q8_0 values in place too (Q8Rows: each code converted and scaled in registers, as
  // Q8::dequant32 would into scratch, so the same bits), heads of whole blocks only.
  const bool q8_in_place = sh.kv_type == gguf::GgmlType::Q8_0 && dv % 32 == 0 && nqh <= kAttnHalfRowsQueries;
  const int64_t k_row_bytes = kv_row_bytes(sh.kv_type, sh.k_stride), v_row_bytes = kv_row_bytes(sh.kv_type, sh.v_stride);
  if (half_rows) std::fill(kbuf, kbuf + dk, 0.0f);
  int64_t max_kv = 0, min_start = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < t.n_q; ++i) {
    max_kv = std::max(max_kv, t.rows[i].n_kv);
    min_start = std::min(min_start, t.rows[i].kv_start);
  }

  for (int64_t m = 0; m < n_q; ++m) {
    const int64_t i = m / group % t.n_q, head = (t.kv_head + m / nqh) * group + m % group;
    const float* src = t.rows[i].q + head * dk;
    float* dst = q + m * dkp;
    int64_t d = 0;
    for (const V vs = S::set1(sh.scale); d + L <= dk; d += L) S::store(dst + d, S::mul(S::load(src + d), vs));
    for (; d < dk; ++d) dst[d] = src[d] * sh.scale;
    for (; d < dkp; ++d) dst[d] = 0.0f;
    mx[m] = kNegInf;
    sum[m] = 0.0f;
    if (q8_keys) {
      int8_t* qm = qi + m * qb.nblk2 * 32;
      float* dqm = dq8 + m * qb.nblk2 * 8;
      int32_t* cm = corr8 + m * qb.nblk2 * 8;
      for (int64_t b = 0; b < qb.nblk2; ++b) {
        float d = 0.0f;
        if (b < qb.nblk) {
          d = Q8::quantize_query_block(dst + b * 32, qm + b * 32);
        } else {
          std::memset(qm + b * 32, 0, 32);
        }
        int32_t code_sum = 0;
        for (int e = 0; e < 32; ++e) code_sum += qm[b * 32 + e];
        for (int e = 0; e < 8; ++e) {
          dqm[b * 8 + e] = d;
          cm[b * 8 + e] = e == 0 ? -128 * code_sum : 0;
        }
      }
    }
  }
  std::fill(o, o + n_q * dvp, 0.0f);

  const int64_t end = std::min(t.key_end, max_kv);
  // Blocks before every row's window are skipped (block boundaries stay multiples of kB).
  const int64_t begin = std::max(t.key_begin, min_start / kB * kB);
  // The byte ranges of each cache row that decode reads in place: touched for the first block,
  // prefetched a block ahead for the rest (AttnPrefetch). Values that are the keys' own first
  // columns (MLA's latent) come with the keys.
  const bool k_in_place = half_rows || (q8_in_place && q8_keys);
  const bool kv_in_place = half_rows || q8_in_place;
  // Tiled keys are walked a tile at a time: a tile's "row" is kKvKeyTile positions' rows, a head's
  // slice of it kKvKeyTile times the head's bytes (blocks start on tiles: kB is a multiple).
  const int64_t kt = sh.k_tiles ? kKvKeyTile : 1;
  const int64_t k_offset = kv_row_bytes(sh.kv_type, t.kv_head * dk), v_offset = kv_row_bytes(sh.kv_type, t.kv_head * dv);
  const int64_t k_bytes = k_in_place ? kv_row_bytes(sh.kv_type, t.n_kv_heads * dk) : 0;
  int64_t v_bytes = kv_in_place ? kv_row_bytes(sh.kv_type, t.n_kv_heads * dv) : 0;
  if (k_bytes > 0 && t.rows[0].v == t.rows[0].k && v_row_bytes == k_row_bytes && v_offset >= k_offset &&
      v_offset + v_bytes <= k_offset + k_bytes) {
    v_bytes = 0;
  }
  AttnPrefetch pf;
  for (int64_t kb = begin; kb < end; kb += kB) {
    const int64_t nk = std::min(kB, end - kb);
    const int64_t nk4 = attn_round_up(nk, 4), nkv = attn_round_up(nk, L);
    // The block's first cache row: a ring's slot (the ring is a multiple of kB: no wrap inside).
    const int64_t kr = sh.ring > 0 ? kb % sh.ring : kb;
    const int64_t next_kr = kb + kB >= end ? -1 : sh.ring > 0 ? (kb + kB) % sh.ring : kb + kB;
    if (kv_in_place) {
      if (kb == begin) {
        if (k_bytes > 0) attn_touch_bytes(t.rows[0].k, kt * k_row_bytes, kr / kt, (nk + kt - 1) / kt, kt * k_offset, kt * k_bytes);
        if (v_bytes > 0) attn_touch_bytes(t.rows[0].v, v_row_bytes, kr, nk, v_offset, v_bytes);
      }
      if (next_kr >= 0) {
        const int64_t next_nk = std::min(kB, end - kb - kB);
        pf.start(static_cast<const char*>(t.rows[0].k) + next_kr * k_row_bytes + kt * k_offset, kt * k_row_bytes,
                 kt * k_bytes, (next_nk + kt - 1) / kt,
                 static_cast<const char*>(t.rows[0].v) + next_kr * v_row_bytes + v_offset, v_row_bytes, v_bytes,
                 next_nk, t.n_kv_heads * nqh * nk4 * (dkp + dvp));
      } else {
        pf.stop();
      }
    }
    for (int hh = 0; hh < t.n_kv_heads; ++hh) {
      const int64_t h = t.kv_head + hh, m0 = hh * nqh;
      float* s_head = s + m0 * kB;
      if (q8_keys) {
        const uint8_t* k0 = static_cast<const uint8_t*>(t.rows[0].k) + kr * qb.row_bytes + h * qb.nblk * 34;
        if (!kv_in_place) {
          attn_block_scales<S>(k0, qb.row_bytes, nk, qb.nblk, kd, qb.nblk2);
          std::fill(kd + nk * qb.nblk2, kd + nk4 * qb.nblk2, 0.0f);
        }
        qb.kd = kv_in_place ? nullptr : kd;
        qb.qi = qi + m0 * qb.nblk2 * 32;
        qb.dq8 = dq8 + m0 * qb.nblk2 * 8;
        qb.corr8 = corr8 + m0 * qb.nblk2 * 8;
        qb.s = s_head;
        qb.k = k0;
        qb.nk = nk;
        qb.nk4 = nk4;
        qb.pf = kv_in_place ? &pf : nullptr;  // prompt tiles have no walk
        Q8::scores(qb);
      } else if (sh.k_tiles) {
        // The block's first tile (kr is a multiple of kKvKeyTile) at head h's columns.
        const uint16_t* k0 = static_cast<const uint16_t*>(t.rows[0].k) + kr * sh.k_stride + h * dk * kKvKeyTile;
        const int64_t n_tiles = (nk + kKvKeyTile - 1) / kKvKeyTile, ts = kKvKeyTile * sh.k_stride;
        if (half_rows) {
          attn_scores_tiles<S>(q + m0 * dkp, nqh, dkp, HalfTiles{k0, ts, &pf}, dk, n_tiles, s_head, kB);
        } else {
          for (int64_t tt = 0; tt < n_tiles; ++tt) {
            S::f16_to_f32(k0 + tt * ts, dk * kKvKeyTile, kbuf + tt * dk * kKvKeyTile);
          }
          attn_scores_tiles<S>(q + m0 * dkp, nqh, dkp, FloatTiles{kbuf, dk * kKvKeyTile}, dk, n_tiles, s_head, kB);
        }
      } else if (half_rows) {
        const uint16_t* k0 = static_cast<const uint16_t*>(t.rows[0].k) + kr * sh.k_stride + h * dk;
        const HalfRows k{k0, sh.k_stride, nk, half_zero, &pf};
        attn_scores<S>(q + m0 * dkp, nqh, dkp, k, nk4, s_head, kB);
      } else {
        attn_load_rows<S, Q8>(t.rows[0].k, sh.kv_type, sh.k_stride, h * dk, kr, nk, dk, dkp, kbuf);
        std::fill(kbuf + nk * dkp, kbuf + nk4 * dkp, 0.0f);
        attn_scores<S>(q + m0 * dkp, nqh, dkp, FloatRows{kbuf, dkp}, nk4, s_head, kB);
      }
      // Keys before every row's window get weight 0, but 0 x a NaN is NaN: their values may be
      // rows never written (a ring's slots past what it holds), so they are zeros here.
      const int64_t dead = std::clamp<int64_t>(min_start - kb, 0, nk);
      const bool half_values = half_rows && dead == 0;
      const bool q8_values = q8_in_place && dead == 0;
      if (!half_values && !q8_values) {
        attn_load_rows<S, Q8>(t.rows[0].v, sh.kv_type, sh.v_stride, h * dv, kr, nk, dv, dvp, vbuf);
        std::fill(vbuf, vbuf + dead * dvp, 0.0f);
      }

      for (int64_t m = m0; m < m0 + nqh; ++m) {
        float* sr = s + m * kB;
        const AttentionRow& row = t.rows[m / group % t.n_q];
        const int64_t valid = std::clamp<int64_t>(row.n_kv - kb, 0, nk);
        const int64_t first = std::clamp<int64_t>(row.kv_start - kb, 0, nk);
        if (valid <= first) {  // none of this row's keys is in the block
          std::fill(sr, sr + nkv, 0.0f);
          continue;
        }
        for (int64_t j = 0; j < first; ++j) sr[j] = kNegInf;
        for (int64_t j = valid; j < nkv; ++j) sr[j] = kNegInf;
        if (sh.softcap > 0.0f) {
          for (int64_t j = first; j < valid; ++j) sr[j] = sh.softcap * std::tanh(sr[j] / sh.softcap);
        }
        V vmax = S::set1(kNegInf);
        for (int64_t j = 0; j < nkv; j += L) vmax = S::max(vmax, S::load(sr + j));
        const float new_max = std::max(mx[m], S::hmax(vmax));
        const V nm = S::set1(new_max);
        V vsum = S::zero();
        for (int64_t j = 0; j < nkv; j += L) {
          const V pj = S::exp(S::sub(S::load(sr + j), nm));
          S::store(sr + j, pj);
          vsum = S::add(vsum, pj);
        }
        if (mx[m] != new_max) {
          // The first block has mx = -inf: alpha = 0 and o is still zero.
          const float alpha = std::exp(mx[m] - new_max);
          const V va = S::set1(alpha);
          float* om = o + m * dvp;
          for (int64_t d = 0; d < dvp; d += L) S::store(om + d, S::mul(S::load(om + d), va));
          sum[m] *= alpha;
          mx[m] = new_max;
        }
        sum[m] += S::hsum(vsum);
      }
      if (half_values) {
        const uint16_t* v0 = static_cast<const uint16_t*>(t.rows[0].v) + kr * sh.v_stride + h * dv;
        const HalfRows v{v0, sh.v_stride, nk, half_zero, &pf};
        attn_accumulate<S>(s_head, kB, nqh, nk, v, dvp, o + m0 * dvp);
      } else if (q8_values) {
        const uint8_t* v0 = static_cast<const uint8_t*>(t.rows[0].v) + kr * v_row_bytes + h * (dv / 32) * 34;
        attn_accumulate<S>(s_head, kB, nqh, nk, Q8Rows{v0, v_row_bytes, &pf}, dvp, o + m0 * dvp);
      } else {
        attn_accumulate<S>(s_head, kB, nqh, nk, FloatRows{vbuf, dvp}, dvp, o + m0 * dvp);
      }
    }
  }

  for (int64_t m = 0; m < n_q; ++m) {
    const int64_t i = m / group % t.n_q, head = (t.kv_head + m / nqh) * group + m % group;
    const float* om = o + m * dvp;
    if (t.part_o != nullptr) {
      std::memcpy(t.part_o + m * dv, om, static_cast<size_t>(dv) * sizeof(float));
      t.part_m[m] = mx[m];
      t.part_l[m] = sum[m];
      continue;
    }
    float* out = t.rows[i].out + head * dv;
    const float inv = attn_inverse_denominator(mx[m], sum[m], sh.sinks, static_cast<int>(head));
    for (int64_t d = 0; d < dv; ++d) out[d] = om[d] * inv;
  }
}

}  // namespace
}  // namespace hearth::ops
