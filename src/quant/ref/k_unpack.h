#pragma once
// The K-quants' code layouts as plain arrays: unpack_* turns a super-block's packed codes into one
// code per element (element order), pack_* is the inverse. The ref kernels and the quantizers work
// on the unpacked form, so the bit layout is written down exactly once, here.

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace hearth::quant {

// Q2_K: q in [0, 3]. Element 128h + 32s + 16k + l is bits 2s..2s+1 of qs[32h + 16k + l].
inline void unpack_q2_k(const BlockQ2_K& b, uint8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, s = (e % 128) / 32, r = e % 32;
    q[e] = (b.qs[32 * h + r] >> (2 * s)) & 3;
  }
}
inline void pack_q2_k(const uint8_t q[kQK_K], BlockQ2_K* b) {
  std::memset(b->qs, 0, sizeof(b->qs));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, s = (e % 128) / 32, r = e % 32;
    b->qs[32 * h + r] |= static_cast<uint8_t>((q[e] & 3) << (2 * s));
  }
}

// Q3_K: q in [-4, 3]: the low 2 bits as Q2_K, and bit (4h + s) of hmask[r] set means "no -4".
inline void unpack_q3_k(const BlockQ3_K& b, int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, s = (e % 128) / 32, r = e % 32;
    const int low = (b.qs[32 * h + r] >> (2 * s)) & 3;
    const int high = (b.hmask[r] >> (4 * h + s)) & 1;
    q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
  }
}
inline void pack_q3_k(const int8_t q[kQK_K], BlockQ3_K* b) {
  std::memset(b->qs, 0, sizeof(b->qs));
  std::memset(b->hmask, 0, sizeof(b->hmask));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, s = (e % 128) / 32, r = e % 32;
    const int u = q[e] + 4;  // [0, 7]
    b->qs[32 * h + r] |= static_cast<uint8_t>((u & 3) << (2 * s));
    b->hmask[r] |= static_cast<uint8_t>(((u >> 2) & 1) << (4 * h + s));
  }
}

// Q4_K: q in [0, 15]. Element 64p + 32k + l is the low (k = 0) or high (k = 1) nibble of
// qs[32p + l].
inline void unpack_q4_k(const BlockQ4_K& b, uint8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int p = e / 64, k = (e % 64) / 32, l = e % 32;
    q[e] = (b.qs[32 * p + l] >> (4 * k)) & 0xf;
  }
}
inline void pack_q4_k(const uint8_t q[kQK_K], BlockQ4_K* b) {
  std::memset(b->qs, 0, sizeof(b->qs));
  for (int e = 0; e < kQK_K; ++e) {
    const int p = e / 64, k = (e % 64) / 32, l = e % 32;
    b->qs[32 * p + l] |= static_cast<uint8_t>((q[e] & 0xf) << (4 * k));
  }
}

// Q5_K: q in [0, 31]: nibbles as Q4_K, bit 4 is bit (2p + k) of qh[l].
inline void unpack_q5_k(const BlockQ5_K& b, uint8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int p = e / 64, k = (e % 64) / 32, l = e % 32;
    q[e] = static_cast<uint8_t>(((b.qs[32 * p + l] >> (4 * k)) & 0xf) |
                                (((b.qh[l] >> (2 * p + k)) & 1) << 4));
  }
}
inline void pack_q5_k(const uint8_t q[kQK_K], BlockQ5_K* b) {
  std::memset(b->qs, 0, sizeof(b->qs));
  std::memset(b->qh, 0, sizeof(b->qh));
  for (int e = 0; e < kQK_K; ++e) {
    const int p = e / 64, k = (e % 64) / 32, l = e % 32;
    b->qs[32 * p + l] |= static_cast<uint8_t>((q[e] & 0xf) << (4 * k));
    b->qh[l] |= static_cast<uint8_t>(((q[e] >> 4) & 1) << (2 * p + k));
  }
}

// Q6_K: q in [-32, 31]. Element 128h + 32g + l: low nibble of ql[64h + 32(g & 1) + l] (g < 2)
// or its high nibble (g >= 2), top 2 bits at bit 2g of qh[32h + l]; stored biased by 32.
inline void unpack_q6_k(const BlockQ6_K& b, int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int low = (b.ql[64 * h + 32 * (g & 1) + l] >> (4 * (g >> 1))) & 0xf;
    const int high = (b.qh[32 * h + l] >> (2 * g)) & 3;
    q[e] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}
inline void pack_q6_k(const int8_t q[kQK_K], BlockQ6_K* b) {
  std::memset(b->ql, 0, sizeof(b->ql));
  std::memset(b->qh, 0, sizeof(b->qh));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int u = q[e] + 32;  // [0, 63]
    b->ql[64 * h + 32 * (g & 1) + l] |= static_cast<uint8_t>((u & 0xf) << (4 * (g >> 1)));
    b->qh[32 * h + l] |= static_cast<uint8_t>(((u >> 4) & 3) << (2 * g));
  }
}

}  // namespace hearth::quant
