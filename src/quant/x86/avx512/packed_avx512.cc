// Panel gemms on AVX-512 VNNI (layouts in quant/packed.h): the 16 int32 lanes of a register are 16
// weight rows, so each 4-element group of activations is broadcast once and multiplies 16 rows in
// one vpdpbusd; scales of 16 rows are one vector and nothing is summed horizontally. Up to four
// activation columns share each unpacked weight register (prompt batches); a decode step is one
// column.

// Panel members are packed arrays read with unaligned loads; GCC 12's intrinsics headers warn about
// their own placeholders (see avx512_util.h).
#pragma GCC diagnostic ignored "-Waddress-of-packed-member"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "quant/packed.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/kernels_x86.h"

namespace hearth::quant {

using namespace avx512;

namespace {

inline __m512i bcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

inline __m512 fp16x16(const uint16_t* d) { return _mm512_cvtph_ps(load256(d)); }

// acc + vpdpbusd(w, the 4 bytes at p broadcast). GCC 12 does not fold the broadcast into the
// instruction's memory operand ({1to16}), and the separate vpbroadcastd per vpdpbusd costs issue
// slots the kernels are bound by.
inline __m512i dpbusd_bcast(__m512i acc, __m512i w, const int8_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(p)));
  return acc;
}

// init + sum over g < G of vpdpbusd(w[g], 4 bytes of y at 4g broadcast), in K independent chains:
// vpdpbusd takes several cycles, and one chain of G would leave the units idle (decode has one
// column, so nothing else to interleave).
template <int G, int K>
inline __m512i dot_groups(__m512i init, const __m512i* w, const int8_t* y) {
  __m512i s[K];
  s[0] = init;
  #pragma GCC unroll 4
  for (int k = 1; k < K; ++k) s[k] = _mm512_setzero_si512();
  #pragma GCC unroll 8
  for (int g = 0; g < G; ++g) s[g % K] = dpbusd_bcast(s[g % K], w[g], y + 4 * g);
  #pragma GCC unroll 4
  for (int k = 1; k < K; ++k) s[0] = _mm512_add_epi32(s[0], s[k]);
  return s[0];
}

// Chains per column: four when alone, two when four columns interleave.
template <int NC>
inline constexpr int kChains = NC == 1 ? 4 : 2;

// A decode step streams every panel from memory once: ask for the lines a few KiB ahead, which the
// hardware prefetchers (bounded by 4 KiB pages) do not always fetch in time. Measured on the 1.5B
// shape, 2 threads, tg64, when all panels asked per block (K-quant panels now ask per sub-block:
// prefetch_share): Q4_K_M 22.1 -> 26.4 t/s with it; Q8_0 24-27 without, 22-24 with, so its
// lighter one-column kernel leaves it to the hardware. With 2-4 columns (a server step decoding
// several chats; `hearth bench --parallel 4`) the heavier kernels need it most: Q4_K_M tg32 x4 87
// -> 156 t/s, x2 53 -> 87; Q8_0 x4 68 -> 75. Only when the panel is read once (PF, see gemm_cols).
constexpr int64_t kPrefetchBytes = 4096;
inline void prefetch_ahead(const void* block, size_t bytes) {
  const char* p = static_cast<const char*>(block) + kPrefetchBytes;
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

// K-quant panels ask, at each of a block's kSteps sub-block steps, for that step's share of the
// block kAhead bytes further on, where a burst at the block's start (prefetch_ahead) fell behind.
// Q6_K (16 steps, 8 KiB): a block reads three streams at once (scales, low bits, high bits: 16,
// 128 and 64 bytes a step), which this machine's hardware prefetchers did not follow, and 53
// prefetches at each block's start helped no more than none. hearth_bench
// ops_matmul/decode_q6_K/avx512/threads:2 (GB/s, medians of 3, alternated, the VM's memory at ~35
// GB/s): 19.5-20.4 with the block's prefetches, 19.3-20.7 without, 33.5-44.6 spread 4 KiB ahead,
// 31.6-36.4 spread 8 KiB ahead; the _hot variant (one layer, from L3) 22.3-22.4 -> 53.0-81.6
// (4 KiB), 63.6-103.7 (8 KiB). hearth bench r1-1.5b-q4_K_M -p 0 -n 64 -t 2, alternated 3 times:
// 21.6-24.4 -> 29.5-38.2 t/s. Q4_K (8 steps, 4 KiB): 16 randomly interleaved repetitions each of
// ops_matmul/decode_q4_K/avx512/threads:2 over both of the VM's memory speeds: burst median 29.9,
// mean 31.1, best 39.5 GB/s; spread 35.3, 38.6, 53.8 (the probe beside them: 47.1, 47.3, 61.8).
template <int kSteps, int64_t kAhead, class Panel>
inline void prefetch_share(const Panel* block, int j) {
  static_assert(sizeof(Panel) % kSteps == 0, "the steps share the block evenly");
  constexpr int64_t kShare = sizeof(Panel) / kSteps;
  constexpr int kLines = static_cast<int>((kShare + 63) / 64);
  const char* p = reinterpret_cast<const char*>(block) + kAhead + j * kShare;
  #pragma GCC unroll 8
  for (int l = 0; l < kLines; ++l) _mm_prefetch(p + 64 * l, _MM_HINT_T0);
}

template <class A>
const A& act_block(const uint8_t* act, int64_t stride, int c, int64_t i) {
  return reinterpret_cast<const A*>(act + c * stride)[i];
}

template <int NC, bool PF>
void q8_0_cols(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t as, float* out, int64_t os) {
  const auto* p = reinterpret_cast<const PanelQ8_0*>(panel);
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    if (PF && NC > 1) prefetch_ahead(&p[i], sizeof(PanelQ8_0));
    __m512i w[8];
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) w[g] = load512(p[i].qs[g]);
    const __m512 dw = fp16x16(p[i].d);
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const ActQ8_0& y = act_block<ActQ8_0>(act, as, c, i);
      // Codes are stored plus 128: start from -128 * sum(y).
      const __m512i s = dot_groups<8, kChains<NC>>(_mm512_set1_epi32(y.neg128_sum), w, y.qs);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(y.d)), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_storeu_ps(out + c * os, acc[c]);
}

// Two consecutive panels (32 rows) x NC columns, for prompt batches: each activation group is
// broadcast once into a register and feeds both panels' vpdpbusd, so a block needs 2 weight loads
// and NC broadcasts per group for 2 * NC multiply-adds, where one panel needs 1 + NC for NC (the
// loads, not the multiplies, bound these kernels: hearth_bench's panel/q8_0_x64 went from 190-216
// to 298 G multiply-adds/s). Integer sums and float steps are those of q8_0_cols: the same bits.
template <int NC>
void q8_0_pair_cols(int64_t n, const uint8_t* panel0, int64_t panel_bytes, const uint8_t* act, int64_t as,
                    float* out, int64_t os) {
  const auto* p0 = reinterpret_cast<const PanelQ8_0*>(panel0);
  const auto* p1 = reinterpret_cast<const PanelQ8_0*>(panel0 + panel_bytes);
  __m512 acc[2][NC];
  for (int c = 0; c < NC; ++c) acc[0][c] = acc[1][c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m512i s[2][NC];
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      // Codes are stored plus 128: start from -128 * sum(y).
      s[0][c] = s[1][c] = _mm512_set1_epi32(act_block<ActQ8_0>(act, as, c, i).neg128_sum);
    }
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = load512(p0[i].qs[g]), w1 = load512(p1[i].qs[g]);
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const __m512i y = bcast4(act_block<ActQ8_0>(act, as, c, i).qs + 4 * g);
        s[0][c] = _mm512_dpbusd_epi32(s[0][c], w0, y);
        s[1][c] = _mm512_dpbusd_epi32(s[1][c], w1, y);
      }
    }
    const __m512 d0 = fp16x16(p0[i].d), d1 = fp16x16(p1[i].d);
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const __m512 dy = _mm512_set1_ps(act_block<ActQ8_0>(act, as, c, i).d);
      acc[0][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[0][c]), _mm512_mul_ps(d0, dy), acc[0][c]);
      acc[1][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[1][c]), _mm512_mul_ps(d1, dy), acc[1][c]);
    }
  }
  for (int c = 0; c < NC; ++c) {
    _mm512_storeu_ps(out + c * os, acc[0][c]);
    _mm512_storeu_ps(out + c * os + kPanelRows, acc[1][c]);
  }
}

// Q4_0 (kHigh false) and Q5_0 (true) panels against ActQ8_0: codes u = q + 8 (or + 16) unpacked from
// nibbles (and Q5_0's fifth bits) into 8 registers of 4 codes x 16 rows, then Q8_0's dot. The
// offset's correction -8 * sum(y) (-16 * sum) is the activation's -128 * sum shifted: exact.
template <bool kHigh, int NC, bool PF>
void nibble_cols(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t as, float* out, int64_t os) {
  using Panel = std::conditional_t<kHigh, PanelQ5_0, PanelQ4_0>;
  constexpr int kOffsetShift = kHigh ? 3 : 4;
  const auto* p = reinterpret_cast<const Panel*>(panel);
  const __m512i m4 = _mm512_set1_epi8(0x0f), m10 = _mm512_set1_epi8(0x10);
  const __m512i mf0 = _mm512_set1_epi8(static_cast<char>(0xf0));
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    if (PF) prefetch_ahead(&p[i], sizeof(Panel));
    __m512i w[8];
    if constexpr (!kHigh && NC == 1) {
      // Decode of Q4_0: the high nibbles stay in place (code x 16: one AND, no shift) and their sum
      // is shifted back once; exact, as every product is a multiple of 16. 256 MiB of panels, one
      // thread, alternated 5 times: 11.2-14.6 -> 14.6-16.3 GB/s (hearth_bench panel_memory/q4_0).
      // The same change measured slower end to end for Q4_K (tg -t 1 11.2-12.7 -> 9.7-11.0 t/s),
      // which keeps the shift.
      #pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const __m512i raw = load512(p[i].qs[v]);
        w[v] = _mm512_and_si512(raw, m4);
        w[v + 4] = _mm512_and_si512(raw, mf0);
      }
      const ActQ8_0& y = act_block<ActQ8_0>(act, as, 0, i);
      const __m512i lo = dot_groups<4, 2>(_mm512_set1_epi32(y.neg128_sum >> kOffsetShift), w, y.qs);
      const __m512i hi16 = dot_groups<4, 2>(_mm512_setzero_si512(), w + 4, y.qs + 16);
      const __m512i s = _mm512_add_epi32(lo, _mm512_srai_epi32(hi16, 4));
      acc[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(fp16x16(p[i].d), _mm512_set1_ps(y.d)), acc[0]);
      continue;
    }
    #pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const __m512i raw = load512(p[i].qs[v]);
      w[v] = _mm512_and_si512(raw, m4);
      w[v + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
    }
    if constexpr (kHigh) {
      // Bit g of each byte is the fifth bit of group g: move it to bit 4. 16-bit shifts by at most
      // 4 keep each byte's bit 4 within its own byte.
      const __m512i h = load512(p[i].qh);
      w[0] = _mm512_or_si512(w[0], _mm512_and_si512(_mm512_slli_epi16(h, 4), m10));
      w[1] = _mm512_or_si512(w[1], _mm512_and_si512(_mm512_slli_epi16(h, 3), m10));
      w[2] = _mm512_or_si512(w[2], _mm512_and_si512(_mm512_slli_epi16(h, 2), m10));
      w[3] = _mm512_or_si512(w[3], _mm512_and_si512(_mm512_slli_epi16(h, 1), m10));
      w[4] = _mm512_or_si512(w[4], _mm512_and_si512(h, m10));
      w[5] = _mm512_or_si512(w[5], _mm512_and_si512(_mm512_srli_epi16(h, 1), m10));
      w[6] = _mm512_or_si512(w[6], _mm512_and_si512(_mm512_srli_epi16(h, 2), m10));
      w[7] = _mm512_or_si512(w[7], _mm512_and_si512(_mm512_srli_epi16(h, 3), m10));
    }
    const __m512 dw = fp16x16(p[i].d);
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const ActQ8_0& y = act_block<ActQ8_0>(act, as, c, i);
      const __m512i s = dot_groups<8, kChains<NC>>(_mm512_set1_epi32(y.neg128_sum >> kOffsetShift), w, y.qs);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(y.d)), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_storeu_ps(out + c * os, acc[c]);
}

// GF2P8AFFINEQB (x, matrix m, no constant) by inline assembly: this file is built without -mgfni,
// since CPUs with AVX-512 VNNI but no GFNI (Cascade Lake) run this tier too; only CPUs that report
// GFNI reach the kernels that use it (register_avx512_panels).
inline __m512i gf2p8affine(__m512i x, __m512i m) {
  __m512i r;
  asm("vgf2p8affineqb $0, %2, %1, %0" : "=v"(r) : "v"(x), "v"(m));
  return r;
}

// The GF2P8AFFINEQB matrix that moves input bit `from` of every byte to output bit `to` (each
// listed pair) and clears the other bits: output bit i is the parity of (matrix byte 7 - i) & x.
struct BitMove {
  int to, from;
};
constexpr int64_t gf_move(std::initializer_list<BitMove> moves) {
  uint64_t m = 0;
  for (const BitMove& mv : moves) m |= (uint64_t{1} << mv.from) << (8 * (7 - mv.to));
  return static_cast<int64_t>(m);
}

template <int NC, bool PF, bool kGfni>
void q4_k_cols(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t as, float* out, int64_t os) {
  const auto* p = reinterpret_cast<const PanelQ4_K*>(panel);
  const __m512i m4 = _mm512_set1_epi8(0x0f), m3f = _mm512_set1_epi8(0x3f), m30 = _mm512_set1_epi8(0x30);
  const __m512i g_hi = _mm512_set1_epi64(gf_move({{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  // [j][row]: the scales / mins of sub-block j of the 16 rows.
  alignas(64) uint8_t sc_bytes[128], mins[128];
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const PanelQ4_K& b = p[i];
    // k_scales.h's 6-bit unpacking, for 16 rows x 4 sub-blocks per register.
    const __m512i z0 = load512(b.scales[0]), z1 = load512(b.scales[4]), z2 = load512(b.scales[8]);
    _mm512_store_si512(sc_bytes, _mm512_and_si512(z0, m3f));
    _mm512_store_si512(mins, _mm512_and_si512(z1, m3f));
    _mm512_store_si512(sc_bytes + 64, _mm512_or_si512(_mm512_and_si512(z2, m4),
                                                      _mm512_and_si512(_mm512_srli_epi16(z0, 2), m30)));
    _mm512_store_si512(mins + 64, _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z2, 4), m4),
                                                  _mm512_and_si512(_mm512_srli_epi16(z1, 2), m30)));

    __m512i sumi[NC], summ[NC];
    for (int c = 0; c < NC; ++c) sumi[c] = summ[c] = _mm512_setzero_si512();
    #pragma GCC unroll 1
    for (int j = 0; j < 8; ++j) {
      __m512i q[8];
      if (PF) prefetch_share<8, 4096>(&b, j);
      #pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const __m512i raw = load512(b.qs[j][v]);
        q[v] = _mm512_and_si512(raw, m4);
        // GFNI (one bit move for a shift and a mask) only for several columns (prompts):
        // panel/q4_K_x64 164-206 -> 184-216 G MAC/s (alternated, 6 pairs). With one column the
        // arithmetic is faster too, but streaming from memory measured slower (panel_memory/q4_K
        // 13.5-14.4 -> 12.3-12.8 GB/s), as with the nibbles-in-place form (nibble_cols).
        q[v + 4] = kGfni && NC > 1 ? gf2p8affine(raw, g_hi) : _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
      }
      const __m512i sc = _mm512_cvtepu8_epi32(load128(sc_bytes + 16 * j));
      const __m512i mn32 = _mm512_cvtepu8_epi32(load128(mins + 16 * j));
      const __m512i mn = _mm512_or_si512(mn32, _mm512_slli_epi32(mn32, 16));  // (m, m) int16 pairs
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(act, as, c, i);
        const __m512i s = dot_groups<8, kChains<NC>>(_mm512_setzero_si512(), q, y.qs + 32 * j);
        sumi[c] = _mm512_add_epi32(sumi[c], _mm512_mullo_epi32(s, sc));
        summ[c] = _mm512_dpwssd_epi32(summ[c], mn, bcast4(&y.bsums[2 * j]));
      }
    }
    const __m512 dw = fp16x16(b.d), dmw = fp16x16(b.dmin);
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const __m512 dy = _mm512_set1_ps(act_block<BlockQ8_K>(act, as, c, i).d);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[c]), _mm512_mul_ps(dw, dy), acc[c]);
      acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ[c]), _mm512_mul_ps(dmw, dy), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_storeu_ps(out + c * os, acc[c]);
}

template <int NC, bool PF, bool kGfni>
void q6_k_cols(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t as, float* out, int64_t os) {
  const auto* p = reinterpret_cast<const PanelQ6_K*>(panel);
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
  const __m512i g_h01 = _mm512_set1_epi64(gf_move({{4, 0}, {5, 1}}));
  const __m512i g_h23 = _mm512_set1_epi64(gf_move({{4, 2}, {5, 3}}));
  const __m512i g_h67 = _mm512_set1_epi64(gf_move({{4, 6}, {5, 7}}));
  const __m512i g_hi = _mm512_set1_epi64(gf_move({{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const PanelQ6_K& b = p[i];
    __m512i sumi[NC];
    for (int c = 0; c < NC; ++c) sumi[c] = _mm512_setzero_si512();
    #pragma GCC unroll 1
    for (int j = 0; j < 16; ++j) {
      if (PF) prefetch_share<16, 8192>(&b, j);
      const __m512i l0 = load512(b.ql[j][0]), l1 = load512(b.ql[j][1]), h = load512(b.qh[j]);
      __m512i q[4];
      if constexpr (kGfni) {
        // Each code's bits moved into place by one GF(2) affine op per source (bit permutations),
        // merged by one ternary-logic op ((A & C) | B = 0xEC, A | (B & C) = 0xF8): 9 vector ops
        // where shifts and masks take 17. Measured, one thread, alternated 3 times (hearth_bench):
        // panel/q6_K_x1 44-48 -> 54-57 G MAC/s, q6_K_x64 124-132 -> 131-133, panel_memory/q6_K
        // 11.4-11.7 -> 12.0-12.2 GB/s. End to end within the noise (Qwen3-MoE tg32 30.6-34.5 ->
        // 33.0-34.3 t/s).
        q[0] = _mm512_ternarylogic_epi32(l0, gf2p8affine(h, g_h01), m4, 0xEC);
        q[1] = _mm512_ternarylogic_epi32(l1, gf2p8affine(h, g_h23), m4, 0xEC);
        q[2] = _mm512_ternarylogic_epi32(gf2p8affine(l0, g_hi), h, m30, 0xF8);
        q[3] = _mm512_or_si512(gf2p8affine(l1, g_hi), gf2p8affine(h, g_h67));
      } else {
        q[0] = _mm512_or_si512(_mm512_and_si512(l0, m4), _mm512_and_si512(_mm512_slli_epi16(h, 4), m30));
        q[1] = _mm512_or_si512(_mm512_and_si512(l1, m4), _mm512_and_si512(_mm512_slli_epi16(h, 2), m30));
        q[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), m4), _mm512_and_si512(h, m30));
        q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), m4),
                               _mm512_and_si512(_mm512_srli_epi16(h, 2), m30));
      }
      const __m512i sc = _mm512_cvtepi8_epi32(load128(b.scales[j]));
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(act, as, c, i);
        // Codes are q + 32: start from -32 * sum(y) over the sub-block.
        const __m512i s =
            dot_groups<4, kChains<NC>>(_mm512_set1_epi32(-32 * static_cast<int32_t>(y.bsums[j])), q, y.qs + 16 * j);
        sumi[c] = _mm512_add_epi32(sumi[c], _mm512_mullo_epi32(s, sc));
      }
    }
    const __m512 dw = fp16x16(b.d);
    #pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const __m512 dy = _mm512_set1_ps(act_block<BlockQ8_K>(act, as, c, i).d);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[c]), _mm512_mul_ps(dw, dy), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_storeu_ps(out + c * os, acc[c]);
}


// Columns four at a time, then the rest. `stream`: the call has at most 4 columns, so the panel is
// read once, from memory (a decode step): prefetch ahead. With more, each panel is re-read from
// cache for every group of 4 columns, where the prefetch instructions only cost issue slots (Q8_0
// x64 kernel: 159 G MAC/s with them, 226 without).
template <template <int, bool> class K>
void gemm_cols(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t as, int nc, float* out,
               int64_t os, bool stream) {
  if (stream) {
    switch (nc) {
      case 4: K<4, true>::run(n, panel, act, as, out, os); break;
      case 3: K<3, true>::run(n, panel, act, as, out, os); break;
      case 2: K<2, true>::run(n, panel, act, as, out, os); break;
      case 1: K<1, true>::run(n, panel, act, as, out, os); break;
      default: break;
    }
    return;
  }
  int c = 0;
  for (; c + 4 <= nc; c += 4) K<4, false>::run(n, panel, act + c * as, as, out + c * os, os);
  switch (nc - c) {
    case 3: K<3, false>::run(n, panel, act + c * as, as, out + c * os, os); break;
    case 2: K<2, false>::run(n, panel, act + c * as, as, out + c * os, os); break;
    case 1: K<1, false>::run(n, panel, act + c * as, as, out + c * os, os); break;
    default: break;
  }
}

using PairFn = void (*)(int64_t, const uint8_t*, int64_t, const uint8_t*, int64_t, float*, int64_t);

// n_panels consecutive panels of `Panel` blocks (kElems elements each). A prompt batch takes the
// panels two at a time through `Pair` (4 columns per pass) where the format has one.
template <template <int, bool> class K, class Panel, int64_t kElems, PairFn Pair = nullptr>
void gemm_panels(int64_t n, const uint8_t* panels, int n_panels, const uint8_t* act, int64_t as, int nc,
                 float* out, int64_t os) {
  const int64_t panel_bytes = n / kElems * static_cast<int64_t>(sizeof(Panel));
  const bool stream = nc <= 4;
  int p = 0;
  if constexpr (Pair != nullptr) {
    if (!stream) {
      for (; p + 2 <= n_panels; p += 2) {
        const uint8_t* pp = panels + p * panel_bytes;
        float* o = out + p * kPanelRows;
        int c = 0;
        for (; c + 4 <= nc; c += 4) Pair(n, pp, panel_bytes, act + c * as, as, o + c * os, os);
        if (c < nc) {
          gemm_cols<K>(n, pp, act + c * as, as, nc - c, o + c * os, os, false);
          gemm_cols<K>(n, pp + panel_bytes, act + c * as, as, nc - c, o + c * os + kPanelRows, os, false);
        }
      }
    }
  }
  for (; p < n_panels; ++p) {
    gemm_cols<K>(n, panels + p * panel_bytes, act, as, nc, out + p * kPanelRows, os, stream);
  }
}

template <int NC, bool PF>
struct Q8_0Cols {
  static void run(int64_t n, const uint8_t* p, const uint8_t* a, int64_t as, float* o, int64_t os) {
    q8_0_cols<NC, PF>(n, p, a, as, o, os);
  }
};
template <int NC, bool PF>
struct Q4_0Cols {
  static void run(int64_t n, const uint8_t* p, const uint8_t* a, int64_t as, float* o, int64_t os) {
    nibble_cols<false, NC, PF>(n, p, a, as, o, os);
  }
};
template <int NC, bool PF>
struct Q5_0Cols {
  static void run(int64_t n, const uint8_t* p, const uint8_t* a, int64_t as, float* o, int64_t os) {
    nibble_cols<true, NC, PF>(n, p, a, as, o, os);
  }
};
// The K-quant kernels with or without their GFNI unpacking (kGfni), in gemm_panels' shape.
template <bool kGfni>
struct Q4_K {
  template <int NC, bool PF>
  struct Cols {
    static void run(int64_t n, const uint8_t* p, const uint8_t* a, int64_t as, float* o, int64_t os) {
      q4_k_cols<NC, PF, kGfni>(n, p, a, as, o, os);
    }
  };
};
template <bool kGfni>
struct Q6_K {
  template <int NC, bool PF>
  struct Cols {
    static void run(int64_t n, const uint8_t* p, const uint8_t* a, int64_t as, float* o, int64_t os) {
      q6_k_cols<NC, PF, kGfni>(n, p, a, as, o, os);
    }
  };
};

}  // namespace

void register_avx512_panels(PackedKernels* table, int n, bool gfni) {
  for (int i = 0; i < n; ++i) {
    PackedKernels& k = table[i];
    switch (k.type) {
      case GgmlType::Q8_0:
        k.gemm = gemm_panels<Q8_0Cols, PanelQ8_0, kQK, q8_0_pair_cols<4>>;
        break;
      case GgmlType::Q4_0:
        k.gemm = gemm_panels<Q4_0Cols, PanelQ4_0, kQK>;
        break;
      case GgmlType::Q5_0:
        k.gemm = gemm_panels<Q5_0Cols, PanelQ5_0, kQK>;
        break;
      case GgmlType::Q4_K:
        k.gemm = gfni ? gemm_panels<Q4_K<true>::Cols, PanelQ4_K, kQK_K> : gemm_panels<Q4_K<false>::Cols, PanelQ4_K, kQK_K>;
        break;
      case GgmlType::Q6_K:
        k.gemm = gfni ? gemm_panels<Q6_K<true>::Cols, PanelQ6_K, kQK_K> : gemm_panels<Q6_K<false>::Cols, PanelQ6_K, kQK_K>;
        break;
      default: continue;
    }
    k.isa = "avx512";
  }
}

}  // namespace hearth::quant
