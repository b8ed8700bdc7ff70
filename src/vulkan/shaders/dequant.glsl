// Weight rows of any supported GGUF type, read 32 elements at a time ("chunk" c of a row covers
// elements [32c, 32c + 32)). The includer defines WTYPE (the gguf::GgmlType number) and binds the
// weights as `uint8_t wb[]`. Layouts are GGUF's (quant/blocks.h); K-quants are 256-element blocks
// of 8 chunks. F32/F16/BF16 rows may end inside a chunk: elements past n_cols read as 0.

uint byte_at(uint o) { return uint(wb[o]); }
float f16_at(uint o) { return unpackHalf2x16(byte_at(o) | (byte_at(o + 1) << 8)).x; }
int i8_at(uint o) { uint b = byte_at(o); return int(b) - int((b & 0x80u) << 1); }

#if WTYPE == 39
// MXFP4's E2M1 code (bit 3 the sign) -> twice its value (quant/fp4.h kFp4Doubled).
const float kFp4Doubled[16] = float[16](0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
#endif

// Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at s.
void k_scale_min(uint s, uint j, out uint sc, out uint mn) {
  if (j < 4) {
    sc = byte_at(s + j) & 63u;
    mn = byte_at(s + j + 4) & 63u;
  } else {
    sc = (byte_at(s + j + 4) & 15u) | ((byte_at(s + j - 4) >> 6) << 4);
    mn = (byte_at(s + j + 4) >> 4) | ((byte_at(s + j) >> 6) << 4);
  }
}

void dequant32(uint row, uint c, uint n_cols, inout float v[32]) {
#if WTYPE == 0  // F32
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? uintBitsToFloat(byte_at(row + 4 * e) | (byte_at(row + 4 * e + 1) << 8) |
                                        (byte_at(row + 4 * e + 2) << 16) | (byte_at(row + 4 * e + 3) << 24))
                      : 0.0;
  }
#elif WTYPE == 1  // F16
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? f16_at(row + 2 * e) : 0.0;
  }
#elif WTYPE == 30  // BF16
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? uintBitsToFloat((byte_at(row + 2 * e) | (byte_at(row + 2 * e + 1) << 8)) << 16) : 0.0;
  }
#elif WTYPE == 8  // Q8_0: f16 d, int8 q[32]
  uint b = row + c * 34;
  float d = f16_at(b);
  for (uint i = 0; i < 32; ++i) v[i] = d * float(i8_at(b + 2 + i));
#elif WTYPE == 2  // Q4_0: f16 d, q[16] nibbles (low: 0..15, high: 16..31), offset 8
  uint b = row + c * 18;
  float d = f16_at(b);
  for (uint i = 0; i < 16; ++i) {
    uint q = byte_at(b + 2 + i);
    v[i] = d * (float(q & 15u) - 8.0);
    v[i + 16] = d * (float(q >> 4) - 8.0);
  }
#elif WTYPE == 3  // Q4_1: f16 d, f16 m, q[16]
  uint b = row + c * 20;
  float d = f16_at(b), m = f16_at(b + 2);
  for (uint i = 0; i < 16; ++i) {
    uint q = byte_at(b + 4 + i);
    v[i] = d * float(q & 15u) + m;
    v[i + 16] = d * float(q >> 4) + m;
  }
#elif WTYPE == 6 || WTYPE == 7  // Q5_0: f16 d, qh[4], q[16]; Q5_1: f16 d, f16 m, qh[4], q[16]
#if WTYPE == 6
  uint b = row + c * 22;
  float d = f16_at(b), m = -16.0 * d;
  uint h = b + 2;
#else
  uint b = row + c * 24;
  float d = f16_at(b), m = f16_at(b + 2);
  uint h = b + 4;
#endif
  uint qh = byte_at(h) | (byte_at(h + 1) << 8) | (byte_at(h + 2) << 16) | (byte_at(h + 3) << 24);
  for (uint i = 0; i < 16; ++i) {
    uint q = byte_at(h + 4 + i);
    uint x0 = (q & 15u) | (((qh >> i) << 4) & 16u);
    uint x1 = (q >> 4) | ((qh >> (i + 12)) & 16u);
    v[i] = d * float(x0) + m;
    v[i + 16] = d * float(x1) + m;
  }
#elif WTYPE == 12  // Q4_K: f16 d, f16 dmin, scales[12] (6-bit scale/min per 32), q[128]
  uint b = row + (c / 8) * 144;
  uint j = c % 8;
  float d = f16_at(b), dmin = f16_at(b + 2);
  uint sc, mn;
  k_scale_min(b + 4, j, sc, mn);
  uint q = b + 16 + (j / 2) * 32;
  uint shift = (j % 2) * 4;
  for (uint i = 0; i < 32; ++i) v[i] = d * float(sc) * float((byte_at(q + i) >> shift) & 15u) - dmin * float(mn);
#elif WTYPE == 14  // Q6_K: ql[128], qh[64], int8 scales[16], f16 d
  uint b = row + (c / 8) * 210;
  uint j = c % 8;
  uint half_ = j / 4, quarter = j % 4;
  float d = f16_at(b + 208);
  uint ql = b + half_ * 64 + (quarter & 1u) * 32;
  uint qh = b + 128 + half_ * 32;
  uint lshift = quarter >= 2 ? 4 : 0;
  uint hshift = quarter * 2;
  for (uint i = 0; i < 32; ++i) {
    int q = int(((byte_at(ql + i) >> lshift) & 15u) | (((byte_at(qh + i) >> hshift) & 3u) << 4)) - 32;
    v[i] = d * float(i8_at(b + 192 + half_ * 8 + i / 16 + quarter * 2)) * float(q);
  }
#elif WTYPE == 13  // Q5_K: f16 d, f16 dmin, scales[12], qh[32], q[128]
  uint b = row + (c / 8) * 176;
  uint j = c % 8;
  float d = f16_at(b), dmin = f16_at(b + 2);
  uint sc, mn;
  k_scale_min(b + 4, j, sc, mn);
  uint q = b + 48 + (j / 2) * 32;
  uint shift = (j % 2) * 4;
  for (uint i = 0; i < 32; ++i) {
    uint x = ((byte_at(q + i) >> shift) & 15u) | (((byte_at(b + 16 + i) >> j) & 1u) << 4);
    v[i] = d * float(sc) * float(x) - dmin * float(mn);
  }
#elif WTYPE == 11  // Q3_K: hmask[32], q[64] (2 bits), scales[12] (16 x 6 bits, offset 32), f16 d
  uint b = row + (c / 8) * 110;
  uint j = c % 8;
  uint h = j / 4, k = j % 4;
  float d = f16_at(b + 108);
  uint s = b + 96;
  for (uint g = 0; g < 2; ++g) {
    // Scale 2k + g of half h: 6 bits, low 4 from scales[0..7] (nibbles), high 2 from scales[8..11].
    uint idx = h * 8 + 2 * k + g;
    uint lo = (idx < 8) ? (byte_at(s + idx) & 15u) : (byte_at(s + idx - 8) >> 4);
    uint hi = (byte_at(s + 8 + idx % 4) >> (2 * (idx / 4))) & 3u;
    float dl = d * (float(lo | (hi << 4)) - 32.0);
    for (uint i = 0; i < 16; ++i) {
      uint l = g * 16 + i;
      int q = int((byte_at(b + 32 + h * 32 + l) >> (2 * k)) & 3u) - (((byte_at(b + l) >> (4 * h + k)) & 1u) != 0u ? 0 : 4);
      v[l] = dl * float(q);
    }
  }
#elif WTYPE == 10  // Q2_K: scales[16] (4-bit scale, 4-bit min), q[64] (2 bits), f16 d, f16 dmin
  uint b = row + (c / 8) * 84;
  uint j = c % 8;
  uint h = j / 4, k = j % 4;
  float d = f16_at(b + 80), dmin = f16_at(b + 82);
  for (uint g = 0; g < 2; ++g) {
    uint sc = byte_at(b + h * 8 + 2 * k + g);
    float dl = d * float(sc & 15u), ml = dmin * float(sc >> 4);
    for (uint i = 0; i < 16; ++i) {
      uint l = g * 16 + i;
      v[l] = dl * float((byte_at(b + 16 + h * 32 + l) >> (2 * k)) & 3u) - ml;
    }
  }
#elif WTYPE == 39  // MXFP4: E8M0 exponent e, q[16] E2M1 nibbles (low: 0..15, high: 16..31)
  // quant/fp4.h: codes doubled to integers, the scale halved to 2^(e - 128) to compensate (exact:
  // a power of two times a small integer, as the CPU's reference). e < 2: the subnormals.
  uint b = row + c * 17;
  uint e = byte_at(b);
  float d = uintBitsToFloat(e < 2u ? (0x00200000u << e) : ((e - 1u) << 23));
  for (uint i = 0; i < 16; ++i) {
    uint q = byte_at(b + 1 + i);
    v[i] = d * kFp4Doubled[q & 15u];
    v[i + 16] = d * kFp4Doubled[q >> 4];
  }
#else
#error unsupported WTYPE
#endif
}
