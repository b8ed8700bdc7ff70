#pragma once
// Packing of the 6-bit sub-block scales of the K-quants, shared by the ref and SIMD kernels.
// `static inline` so each ISA's files keep private copies (see fp16.h).

#include <cstdint>
#include <cstring>

namespace hearth::quant {

// Q4_K / Q5_K: 8 (scale, min) pairs of 6 bits in 12 bytes. Pairs 0-3 sit in the low 6 bits of
// bytes 0-3 (scale) and 4-7 (min); pairs 4-7 keep their low 4 bits in the nibbles of bytes 8-11 and
// their top 2 bits in the spare top bits of bytes 0-3 (scale) and 4-7 (min).
static inline void unpack_scale_min_k4(const uint8_t* s, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

static inline void pack_scale_min_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t s[12]) {
  for (int j = 0; j < 12; ++j) s[j] = 0;
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] |= sc[j] & 63;
      s[j + 4] |= m[j] & 63;
    } else {
      s[j + 4] = static_cast<uint8_t>((sc[j] & 0xf) | ((m[j] & 0xf) << 4));
      s[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      s[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

// Q3_K: 16 scales of 6 bits (stored biased by 32) in 12 bytes; see BlockQ3_K.
static inline void unpack_scales_q3_k(const uint8_t s[12], int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (s[j] & 0xf) : (s[j - 8] >> 4);
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

// `biased[j]` in [0, 63].
static inline void pack_scales_q3_k(const uint8_t biased[16], uint8_t s[12]) {
  for (int j = 0; j < 12; ++j) s[j] = 0;
  for (int j = 0; j < 16; ++j) {
    const uint8_t low = biased[j] & 0xf, high = (biased[j] >> 4) & 3;
    if (j < 8) s[j] |= low;
    else s[j - 8] |= static_cast<uint8_t>(low << 4);
    s[8 + j % 4] |= static_cast<uint8_t>(high << (2 * (j / 4)));
  }
}

// The same unpacking as whole words, for the SIMD kernels: byte j of *sc / *m is scale / min j
// (j = 0..7). Tested against unpack_scale_min_k4 on random bytes.
static inline void unpack_scale_min_k4_words(const uint8_t* s, uint64_t* sc, uint64_t* m) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, s, 4);
  std::memcpy(&w1, s + 4, 4);
  std::memcpy(&w2, s + 8, 4);
  const uint32_t sc_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
  *sc = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *m = m_lo | (static_cast<uint64_t>(m_hi) << 32);
}

static inline int byte_of(uint64_t v, int j) { return static_cast<int>((v >> (8 * j)) & 0xff); }

static inline void unpack_scale_min_k4_all(const uint8_t* s, uint8_t out_sc[8], uint8_t out_m[8]) {
  uint64_t sc, m;
  unpack_scale_min_k4_words(s, &sc, &m);
  std::memcpy(out_sc, &sc, 8);
  std::memcpy(out_m, &m, 8);
}

// unpack_scales_q3_k as whole words, biased: byte k of w[j / 4] is scale j + 32, in [0, 63].
static inline void unpack_scales_q3_k_biased_words(const uint8_t s[12], uint32_t w[4]) {
  uint32_t a0, a1, t;
  std::memcpy(&a0, s, 4);
  std::memcpy(&a1, s + 4, 4);
  std::memcpy(&t, s + 8, 4);
  w[0] = (a0 & 0x0f0f0f0fu) | ((t & 0x03030303u) << 4);
  w[1] = (a1 & 0x0f0f0f0fu) | (((t >> 2) & 0x03030303u) << 4);
  w[2] = ((a0 >> 4) & 0x0f0f0f0fu) | (((t >> 4) & 0x03030303u) << 4);
  w[3] = ((a1 >> 4) & 0x0f0f0f0fu) | (((t >> 6) & 0x03030303u) << 4);
}

static inline void unpack_scales_q3_k_biased_all(const uint8_t s[12], uint8_t out[16]) {
  uint32_t w[4];
  unpack_scales_q3_k_biased_words(s, w);
  std::memcpy(out, w, 16);
}

}  // namespace hearth::quant
